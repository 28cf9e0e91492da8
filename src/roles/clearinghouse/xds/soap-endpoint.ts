// What every XDS SOAP endpoint shares: reading the request (plain SOAP or MTOM, attachments into a
// sink), dispatching on wsa:Action, and answering. XdsErrors become the transaction's own response
// body (a RegistryResponse with RegistryErrors); every other failure becomes a SOAP 1.2 fault. The
// request body is always drained, so a broken upload never wedges the connection.
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  readSoapMessage,
  soapFaultResponse,
  soapResponse,
  type MtomPackage,
  type ReadSoapMessageOptions,
  type SoapEnvelope,
  type SoapMessage,
} from '../../../lib/soap/index.ts';
import { XdsError, type RegistryError } from '../../../lib/xds/index.ts';
import type { NodeRef } from '../../../lib/audit/index.ts';
import type { Logger } from '../../../util/log.ts';

/** A handler's answer: a plain SOAP body, or a streamed MTOM package. */
export type SoapAnswer = { readonly kind: 'soap'; readonly action: string; readonly bodyXml: string } | { readonly kind: 'mtom'; readonly pkg: MtomPackage };

export interface SoapExchange<T> {
  readonly message: SoapMessage<T>;
  readonly envelope: SoapEnvelope;
  readonly request: FastifyRequest;
  /** The calling system, for audit (ReplyTo / From address, else the client address). */
  readonly client: NodeRef;
  /** This endpoint, for audit. */
  readonly endpoint: NodeRef;
}

export interface SoapEndpointOptions<T> {
  readonly log: Logger;
  readonly read: Omit<ReadSoapMessageOptions<T>, 'signal'>;
  /** The answer to an XdsError thrown by the handler (the transaction's response with these errors). */
  readonly errorAnswer: (errors: readonly RegistryError[], envelope: SoapEnvelope | undefined) => SoapAnswer;
  /** Called when reading or handling failed, with every attachment stored so far (clean-up). */
  readonly onFailure?: (stored: readonly T[]) => Promise<void>;
}

export function clientNode(request: FastifyRequest, envelope: SoapEnvelope | undefined): NodeRef {
  const reply = envelope?.addressing.replyTo?.address ?? envelope?.addressing.from?.address;
  const anonymous = reply === undefined || reply.endsWith('/addressing/anonymous');
  return { userId: anonymous ? `http://${request.ip}` : reply, host: request.ip };
}

export function endpointNode(request: FastifyRequest): NodeRef {
  return { userId: `${request.protocol}://${request.hostname}${request.url}`, host: request.hostname.replace(/:\d+$/, '') };
}

function drain(body: Readable): void {
  if (!body.readableEnded) body.resume();
}

async function send(reply: FastifyReply, answer: SoapAnswer, envelope: SoapEnvelope | undefined): Promise<FastifyReply> {
  if (answer.kind === 'mtom') return reply.code(200).type(answer.pkg.contentType).send(answer.pkg.body);
  const res = soapResponse(envelope, answer.action, answer.bodyXml);
  return reply.code(res.statusCode).type(res.contentType).send(res.body);
}

/**
 * Runs one SOAP exchange. `handle` gets the message read with a sink that records what was stored,
 * so that a failure anywhere can hand the stored references to `onFailure`.
 */
export async function runSoapExchange<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  opts: SoapEndpointOptions<T>,
  handle: (exchange: SoapExchange<T>) => Promise<SoapAnswer>,
): Promise<FastifyReply> {
  const body = request.raw;
  const stored: T[] = [];
  const sink = opts.read.sink;
  let envelope: SoapEnvelope | undefined;
  try {
    const message = await readSoapMessage(body, request.headers['content-type'], {
      ...opts.read,
      sink: async (a) => {
        const ref = await sink(a);
        stored.push(ref);
        return ref;
      },
    });
    envelope = message.envelope;
    const answer = await handle({ message, envelope, request, client: clientNode(request, envelope), endpoint: endpointNode(request) });
    return await send(reply, answer, envelope);
  } catch (err) {
    drain(body);
    if (opts.onFailure && stored.length > 0) {
      await opts.onFailure(stored).catch((e: unknown) => opts.log.error({ err: (e as Error).message }, 'cannot clean up after a failed XDS request'));
    }
    if (err instanceof XdsError) return send(reply, opts.errorAnswer(err.registryErrors, envelope), envelope);
    const res = soapFaultResponse(err, envelope?.addressing, { internalErrorReason: 'the request could not be processed' });
    if (res.statusCode >= 500) opts.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'XDS request failed');
    else opts.log.info({ err: (err as Error).message }, 'XDS request refused');
    if (res.statusCode === 413) void reply.header('connection', 'close');
    return reply.code(res.statusCode).type(res.contentType).send(res.body);
  }
}
