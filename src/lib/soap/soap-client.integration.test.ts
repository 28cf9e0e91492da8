// The SOAP client against local HTTP and HTTPS (mutual TLS) servers built from the same library.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '../../../test-support/system-tools.ts';
import { SoapError, SoapFaultReceivedError } from './errors.ts';
import { soapFaultResponse, writeSoapResponse } from './envelope.ts';
import { memoryAttachmentSink, readSoapMessage, writeMtomMessage, xopIncludeXml } from './mtom.ts';
import { callSoap } from './soap-client.ts';
import { chunkedReadable } from './test-fixtures.ts';

const XDSB_DOCUMENT = { ns: 'urn:ihe:iti:xds-b:2007', local: 'Document' };
const REQUEST_ACTION = 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b';
const RESPONSE_ACTION = 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse';

/** Echo service: returns every received document as an MTOM attachment of the response. */
async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.url === '/html') {
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not here</h1>');
    return;
  }
  if (req.url === '/silent') return; // never answers
  let messageId: string | undefined;
  try {
    const limits = req.url === '/small' ? { maxEnvelopeBytes: 4096, maxTotalBytes: 8192 } : {};
    const msg = await readSoapMessage(req, req.headers['content-type'], { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT], limits });
    messageId = msg.envelope.addressing.messageId;
    if (msg.envelope.addressing.action !== REQUEST_ACTION) throw new SoapError('WSA_ACTION_NOT_SUPPORTED', 'unsupported action');
    const parts = msg.binaries.map((b, i) => ({ contentId: `r${i}@test`, contentType: b.contentType, content: b.ref.data }));
    const body = `<e:Echo xmlns:e="urn:ihe:iti:xds-b:2007">${parts.map((p) => `<e:Document>${xopIncludeXml(p.contentId)}</e:Document>`).join('')}</e:Echo>`;
    const pkg = writeMtomMessage(writeSoapResponse(msg.envelope, RESPONSE_ACTION, body), parts, { action: RESPONSE_ACTION });
    res.writeHead(200, { 'content-type': pkg.contentType });
    pkg.body.pipe(res);
  } catch (err) {
    const fault = soapFaultResponse(err, { messageId });
    res.writeHead(fault.statusCode, { 'content-type': fault.contentType }).end(fault.body);
  }
}

let server: http.Server;
let base: string;
before(async () => {
  server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('MTOM request with streamed attachments; MTOM response into the sink; RelatesTo matches', async () => {
  const data = randomBytes(200_000);
  const result = await callSoap({
    endpoint: `${base}/xds`,
    action: REQUEST_ACTION,
    bodyXml: `<x:R xmlns:x="urn:ihe:iti:xds-b:2007"><x:Document id="d1">${xopIncludeXml('d1@test')}</x:Document></x:R>`,
    attachments: [{ contentId: 'd1@test', contentType: 'application/dicom', content: () => chunkedReadable(data, 16384) }],
    expectedResponseAction: RESPONSE_ACTION,
    inlineBinaryElements: [XDSB_DOCUMENT],
  });
  assert.equal(result.statusCode, 200);
  assert.equal(result.relatesToRequest, true);
  assert.equal(result.message.mtom, true);
  assert.deepEqual(result.message.binaries[0]?.ref.data, data);
  assert.equal(result.message.binaries[0]?.contentType, 'application/dicom');
});

test('plain SOAP request; a SOAP fault answer is thrown as SoapFaultReceivedError', async () => {
  await assert.rejects(
    callSoap({ endpoint: `${base}/xds`, action: 'urn:test:Unknown', bodyXml: '<x xmlns="urn:x"/>' }),
    (err: unknown) => err instanceof SoapFaultReceivedError && err.responseStatus === 400 && err.fault.code === 'Sender' && /unsupported action/.test(err.fault.reason),
  );
});

test('a non-SOAP answer and a silent peer are typed errors', async () => {
  await assert.rejects(callSoap({ endpoint: `${base}/html`, action: REQUEST_ACTION, bodyXml: '<x xmlns="urn:x"/>' }), (err: unknown) => err instanceof SoapError && err.code === 'SOAP_HTTP_ERROR');
  await assert.rejects(
    callSoap({ endpoint: `${base}/silent`, action: REQUEST_ACTION, bodyXml: '<x xmlns="urn:x"/>', timeoutMs: 200 }),
    (err: unknown) => err instanceof SoapError && err.code === 'SOAP_TIMEOUT',
  );
  await assert.rejects(callSoap({ endpoint: 'http://127.0.0.1:1/', action: REQUEST_ACTION, bodyXml: '<x xmlns="urn:x"/>' }), (err: unknown) => err instanceof SoapError && err.code === 'SOAP_HTTP_ERROR');
});

test('an oversized request gets a 413 fault; the request stream stays usable for the answer', async () => {
  const big = `<x:R xmlns:x="urn:x">${'a'.repeat(100_000)}</x:R>`;
  await assert.rejects(
    callSoap({ endpoint: `${base}/small`, action: REQUEST_ACTION, bodyXml: big }),
    (err: unknown) => err instanceof SoapFaultReceivedError && err.responseStatus === 413 && err.fault.code === 'Sender',
  );
  await assert.rejects(
    callSoap({ endpoint: `${base}/small`, action: REQUEST_ACTION, bodyXml: '<x:R xmlns:x="urn:x"/>', attachments: [{ contentId: 'a@x', contentType: 'application/octet-stream', content: randomBytes(300_000) }] }),
    (err: unknown) => err instanceof SoapFaultReceivedError && err.responseStatus === 413,
  );
});

const tlsSkip = { skip: requireTools({ commands: ['openssl'] }) };

test('HTTPS with TLS client certificates (ATNA secure node style)', tlsSkip, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imageshare-tls-'));
  try {
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=ImageShare test CA');
    ssl('req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
    ssl('req', ...key, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=edge.example');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
    const file = (n: string): Buffer => readFileSync(join(dir, n));
    const peers: string[] = [];
    const tlsServer = https.createServer({ key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      peers.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
      void handle(req, res);
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/xds`;
    try {
      const result = await callSoap({
        endpoint: url,
        action: REQUEST_ACTION,
        bodyXml: '<x:R xmlns:x="urn:ihe:iti:xds-b:2007"/>',
        tls: { key: file('client.key'), cert: file('client.crt'), ca: file('ca.crt') },
      });
      assert.equal(result.relatesToRequest, true);
      assert.deepEqual(peers, ['edge.example']);
      await assert.rejects(
        callSoap({ endpoint: url, action: REQUEST_ACTION, bodyXml: '<x:R xmlns:x="urn:x"/>', tls: { ca: file('ca.crt') } }),
        (err: unknown) => err instanceof SoapError && err.code === 'SOAP_HTTP_ERROR',
        'a client without a certificate is refused',
      );
      await assert.rejects(
        callSoap({ endpoint: url, action: REQUEST_ACTION, bodyXml: '<x:R xmlns:x="urn:x"/>', tls: { key: file('client.key'), cert: file('client.crt') } }),
        (err: unknown) => err instanceof SoapError && err.code === 'SOAP_HTTP_ERROR',
        'an untrusted server certificate is refused',
      );
    } finally {
      tlsServer.closeAllConnections();
      tlsServer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
