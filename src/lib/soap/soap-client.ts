// A small SOAP 1.2 client for the consumer/source side (ITI-18, ITI-41, ITI-43, RAD-69 ...):
// POSTs an envelope (plain, or MTOM with attachments streamed from Readables) over HTTP or
// HTTPS with optional TLS client certificates, and reads the answer with the same reader the
// server uses, so response attachments stream into a caller-provided sink too.
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { AddressingError, SoapError, SoapFaultReceivedError } from './errors.ts';
import { newMessageId, readSoapFault, soapContentType, writeSoapRequest, type EnvelopeOptions } from './envelope.ts';
import {
  memoryAttachmentSink,
  readSoapMessage,
  writeMtomMessage,
  type AttachmentSink,
  type BufferedAttachment,
  type OutgoingAttachment,
  type SoapMessage,
  type SoapMessageLimits,
} from './mtom.ts';
import type { QName } from './namespaces.ts';

export interface TlsClientOptions {
  /** Client private key (PEM) for mutual TLS. */
  readonly key?: string | Buffer;
  /** Client certificate chain (PEM). */
  readonly cert?: string | Buffer;
  /** Trusted CA certificates for the server (PEM); defaults to Node's bundle. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  readonly passphrase?: string;
  /** Default true. Only tests should turn it off. */
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface SoapCallOptions<T> {
  readonly endpoint: string | URL;
  readonly action: string;
  /** Namespace-complete body payload XML. */
  readonly bodyXml: string;
  /** Sent as an MTOM package when non-empty (the bodyXml holds the matching xop:Include elements). */
  readonly attachments?: readonly OutgoingAttachment[];
  /** Force MTOM packaging even without attachments (ITI-41 and RAD-68 requests are MTOM). */
  readonly mtom?: boolean;
  /** wsa:To; defaults to the endpoint URL. */
  readonly to?: string;
  readonly messageId?: string;
  readonly tls?: TlsClientOptions;
  /** Socket idle timeout, default 120 s (a stalled peer fails instead of hanging). */
  readonly timeoutMs?: number;
  /** Where response attachments go; default keeps them in memory (BufferedAttachment). */
  readonly sink?: AttachmentSink<T>;
  /** Elements whose inline base64 content is decoded into the sink (e.g. xdsb:Document). */
  readonly inlineBinaryElements?: readonly QName[];
  readonly limits?: Partial<SoapMessageLimits>;
  /** When set, a response with another wsa:Action is an error. */
  readonly expectedResponseAction?: string;
  readonly envelopeOptions?: EnvelopeOptions;
  readonly headers?: Readonly<Record<string, string>>;
  readonly agent?: http.Agent;
  readonly signal?: AbortSignal;
}

export interface SoapCallResult<T> {
  readonly statusCode: number;
  readonly requestMessageId: string;
  readonly message: SoapMessage<T>;
  /** wsa:RelatesTo of the response equals our MessageID (A-SOAP-02). */
  readonly relatesToRequest: boolean;
}

/**
 * Sends one SOAP request and reads the response. A SOAP fault is thrown as
 * SoapFaultReceivedError; transport problems as SoapError('SOAP_HTTP_ERROR' | 'SOAP_TIMEOUT').
 */
export async function callSoap<T = BufferedAttachment>(options: SoapCallOptions<T>): Promise<SoapCallResult<T>> {
  const url = typeof options.endpoint === 'string' ? new URL(options.endpoint) : options.endpoint;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SoapError('SOAP_HTTP_ERROR', `unsupported URL scheme ${url.protocol}`, { faultCode: 'Receiver' });
  const requestMessageId = options.messageId ?? newMessageId();
  const envelopeXml = writeSoapRequest(options.action, options.bodyXml, options.to ?? url.toString(), requestMessageId);
  const attachments = options.attachments ?? [];
  const useMtom = options.mtom === true || attachments.length > 0;
  const pkg = useMtom ? writeMtomMessage(envelopeXml, attachments, { action: options.action }) : undefined;
  const contentType = pkg ? pkg.contentType : soapContentType(options.action);
  const plainBody = pkg ? undefined : Buffer.from(envelopeXml, 'utf8');

  const headers: Record<string, string> = { ...options.headers, 'content-type': contentType, accept: 'application/soap+xml, multipart/related' };
  if (plainBody) headers['content-length'] = String(plainBody.length);
  const tls = options.tls ?? {};
  const requestOptions: https.RequestOptions = {
    method: 'POST',
    headers,
    agent: options.agent,
    signal: options.signal,
    ...(url.protocol === 'https:'
      ? {
          key: tls.key,
          cert: tls.cert,
          ca: tls.ca as https.RequestOptions['ca'],
          passphrase: tls.passphrase,
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
          servername: tls.servername,
        }
      : {}),
  };
  const transport = url.protocol === 'https:' ? https : http;
  const req = transport.request(url, requestOptions);
  const timeoutMs = options.timeoutMs ?? 120_000;
  req.setTimeout(timeoutMs, () => req.destroy(new SoapError('SOAP_TIMEOUT', `no activity from ${url.host} for ${timeoutMs} ms`, { faultCode: 'Receiver' })));

  const responsePromise = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (err) =>
      reject(err instanceof SoapError ? err : new SoapError('SOAP_HTTP_ERROR', `request to ${url.host} failed: ${err.message}`, { faultCode: 'Receiver', cause: err })),
    );
  });
  responsePromise.catch(() => undefined); // observed below; avoid an unhandled rejection while sending
  if (pkg) {
    await pipeline(pkg.body, req).catch(async (err: unknown) => {
      // The server may answer (e.g. a fault) before reading everything; prefer its response.
      await responsePromise.catch(() => {
        throw err instanceof SoapError ? err : new SoapError('SOAP_HTTP_ERROR', `sending to ${url.host} failed`, { faultCode: 'Receiver', cause: err });
      });
    });
  } else {
    req.end(plainBody);
  }
  const res = await responsePromise;
  const statusCode = res.statusCode ?? 0;
  const responseType = res.headers['content-type'];
  if (responseType === undefined || !/^\s*(application\/soap\+xml|multipart\/related|text\/xml)/i.test(responseType)) {
    res.resume();
    throw new SoapError('SOAP_HTTP_ERROR', `HTTP ${statusCode} from ${url.host} without a SOAP body (${responseType ?? 'no Content-Type'})`, { faultCode: 'Receiver' });
  }
  const sink = options.sink ?? (memoryAttachmentSink() as unknown as AttachmentSink<T>); // T defaults to BufferedAttachment
  const message = await readSoapMessage<T>(res, responseType, {
    sink,
    limits: options.limits,
    inlineBinaryElements: options.inlineBinaryElements,
    envelope: { requireAction: false, ...options.envelopeOptions },
    signal: options.signal,
  });
  const fault = readSoapFault(message.envelope);
  if (fault) throw new SoapFaultReceivedError(fault, statusCode);
  if (statusCode < 200 || statusCode > 299) {
    throw new SoapError('SOAP_HTTP_ERROR', `HTTP ${statusCode} from ${url.host}`, { faultCode: 'Receiver' });
  }
  const action = message.envelope.addressing.action;
  if (options.expectedResponseAction !== undefined && action !== options.expectedResponseAction) {
    throw new AddressingError('WSA_INVALID_HEADER', `response action '${action ?? ''}' is not '${options.expectedResponseAction}'`);
  }
  const relatesToRequest = message.envelope.addressing.relatesTo.some((r) => r.messageId === requestMessageId);
  return { statusCode, requestMessageId, message, relatesToRequest };
}
