import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope } from '../soap/envelope.ts';
import { memoryAttachmentSink, readSoapMessage, type BufferedAttachment, type SoapMessage } from '../soap/mtom.ts';
import { findDescendants, parseXmlText } from '../soap/safe-xml.ts';
import { XOP_NS } from '../soap/namespaces.ts';
import { XDSB_DOCUMENT } from './iti41-provide-and-register.ts';
import {
  buildRetrieveResponseMessage,
  readRetrieveDocumentSetRequest,
  readRetrieveDocumentSetResponse,
  writeRetrieveDocumentSetRequest,
  writeRetrieveDocumentSetResponse,
  RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION,
} from './iti43-retrieve.ts';
import { registryError } from './registry-response.ts';

const shared = { skip: requireTools({ shared: true }) };
const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));

async function readMessage(body: Readable | Buffer, contentType: string): Promise<SoapMessage<BufferedAttachment>> {
  return readSoapMessage(Buffer.isBuffer(body) ? Readable.from([body]) : body, contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT], envelope: { requireAction: false } });
}

test('NIST ITI-43 request parses: two DocumentRequests', shared, () => {
  const r = readRetrieveDocumentSetRequest(parseSoapEnvelope(sample('nist-iti43-request.soap.xml')).payload);
  assert.ok(r.ok);
  assert.deepEqual(r.request.documents, [
    { repositoryUniqueId: '1.3.6.1.4...1000', documentUniqueId: '1.3.6.1.4...2300' },
    { repositoryUniqueId: '1.3.6.1.4...1000', documentUniqueId: '1.3.6.1.4...2301' },
  ]);
});

test('NIST ITI-39 request parses with HomeCommunityId in every DocumentRequest', shared, () => {
  const r = readRetrieveDocumentSetRequest(parseSoapEnvelope(sample('nist-iti39-request.soap.xml')).payload);
  assert.ok(r.ok);
  assert.deepEqual(r.request.documents.map((d) => d.homeCommunityId), ['urn:oid:1.2.3.5', 'urn:oid:1.2.3.5']);
});

test('NIST ITI-43 response (inline base64) reads on the consumer side; documents go through the sink', shared, async () => {
  const message = await readMessage(sample('nist-iti43-response.soap.xml'), 'application/soap+xml; charset=UTF-8');
  const r = readRetrieveDocumentSetResponse(message);
  assert.equal(r.status, 'Success');
  assert.deepEqual(r.errors, []);
  assert.equal(r.documents.length, 2);
  const expected = Buffer.from('UjBsR09EbGhjZ0dTQUxNQUFBUUNBRU1tQ1p0dU1GUXhEUzhi', 'base64');
  for (const d of r.documents) {
    assert.equal(d.mimeType, 'text/xml');
    assert.equal(d.repositoryUniqueId, '1.3.6.1.4...1000');
    assert.deepEqual(d.binary?.ref.data, expected);
  }
});

test('request problems use the retrieve error codes', () => {
  const bad = parseXmlText('<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest><DocumentUniqueId>1.2</DocumentUniqueId></DocumentRequest><DocumentRequest><RepositoryUniqueId>1.3</RepositoryUniqueId></DocumentRequest></RetrieveDocumentSetRequest>');
  const r = readRetrieveDocumentSetRequest(bad);
  assert.ok(!r.ok);
  assert.deepEqual(r.errors.map((e) => e.errorCode), ['XDSUnknownRepositoryId', 'XDSDocumentUniqueIdError']);
  const empty = readRetrieveDocumentSetRequest(parseXmlText('<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"/>'));
  assert.ok(!empty.ok);
  const round = readRetrieveDocumentSetRequest(parseXmlText(writeRetrieveDocumentSetRequest([{ homeCommunityId: 'urn:oid:1.2', repositoryUniqueId: '1.3', documentUniqueId: '1.4' }])));
  assert.ok(round.ok);
  assert.deepEqual(round.request.documents, [{ homeCommunityId: 'urn:oid:1.2', repositoryUniqueId: '1.3', documentUniqueId: '1.4' }]);
});

test('A-RET-01: a retrieved document has the same bytes (SHA-1) and mimeType as stored', async () => {
  const stored = randomBytes(500_000);
  const requestEnv = parseSoapEnvelope(
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action>urn:ihe:iti:2007:RetrieveDocumentSet</a:Action><a:MessageID>urn:uuid:req-1</a:MessageID></s:Header><s:Body>${writeRetrieveDocumentSetRequest([{ repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.4' }])}</s:Body></s:Envelope>`,
  );
  const pkg = buildRetrieveResponseMessage(requestEnv, [{ repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.4', mimeType: 'application/pdf', content: () => Readable.from([stored.subarray(0, 1000), stored.subarray(1000)]) }]);
  const message = await readMessage(pkg.body, pkg.contentType);
  assert.equal(message.envelope.addressing.action, RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION);
  assert.deepEqual(message.envelope.addressing.relatesTo.map((r) => r.messageId), ['urn:uuid:req-1']);
  const r = readRetrieveDocumentSetResponse(message);
  assert.equal(r.status, 'Success');
  assert.equal(r.documents[0]?.mimeType, 'application/pdf');
  assert.equal(r.documents[0]?.binary?.ref.sha1, createHash('sha1').update(stored).digest('hex'));
});

test('A-SOAP-07: retrieve responses carry each document as an XOP attachment of an MTOM package', async () => {
  const docs = [1, 2, 3].map((i) => ({ repositoryUniqueId: '1.2.3', documentUniqueId: `1.2.3.${i}`, mimeType: 'application/dicom', content: Buffer.from(`image ${i}`) }));
  const pkg = buildRetrieveResponseMessage(undefined, docs);
  assert.match(pkg.contentType, /^multipart\/related;.*type="application\/xop\+xml"/);
  const message = await readMessage(pkg.body, pkg.contentType);
  assert.equal(message.mtom, true);
  assert.equal(findDescendants(message.envelope.body, (e) => e.ns === XOP_NS && e.local === 'Include').length, 3);
  assert.deepEqual(message.binaries.map((b) => b.source), ['xop', 'xop', 'xop']);
  assert.deepEqual(readRetrieveDocumentSetResponse(message).documents.map((d) => d.binary?.ref.data.toString()), ['image 1', 'image 2', 'image 3']);
});

test('A-RET-02: an unknown DocumentUniqueId gets no DocumentResponse but XDSDocumentUniqueIdError; with another document → PartialSuccess', async () => {
  const unknown = registryError('XDSDocumentUniqueIdError', 'document 1.2.3.9 is not in this repository', '1.2.3.9');
  const partial = buildRetrieveResponseMessage(undefined, [{ repositoryUniqueId: '1.2.3', documentUniqueId: '1.2.3.1', mimeType: 'text/plain', content: Buffer.from('x') }], [unknown]);
  const r = readRetrieveDocumentSetResponse(await readMessage(partial.body, partial.contentType));
  assert.equal(r.status, 'PartialSuccess');
  assert.deepEqual(r.documents.map((d) => d.documentUniqueId), ['1.2.3.1']);
  assert.deepEqual(r.errors, [unknown]);
  const only = readRetrieveDocumentSetResponse(await readMessage(Buffer.from(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${writeRetrieveDocumentSetResponse({ documents: [], errors: [unknown] })}</s:Body></s:Envelope>`), 'application/soap+xml'));
  assert.equal(only.status, 'Failure');
  assert.equal(only.documents.length, 0);
});

test('A-RET-03: a wrong RepositoryUniqueId → XDSUnknownRepositoryId', () => {
  const xml = writeRetrieveDocumentSetResponse({ documents: [], errors: [registryError('XDSUnknownRepositoryId', 'Unknown Repository UID [1.2.999]', '1.2.999')] });
  const root = parseXmlText(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${xml}</s:Body></s:Envelope>`);
  assert.match(xml, /status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"/);
  assert.match(xml, /errorCode="XDSUnknownRepositoryId"/);
  assert.match(xml, /severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/);
  assert.ok(root);
});

test('inline (non-XOP) response documents are base64 and read back through the sink', async () => {
  const bytes = randomBytes(1000);
  const xml = writeRetrieveDocumentSetResponse({ documents: [{ repositoryUniqueId: '1.2', documentUniqueId: '1.2.1', mimeType: 'application/octet-stream', content: { inline: bytes } }] });
  const r = readRetrieveDocumentSetResponse(await readMessage(Buffer.from(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${xml}</s:Body></s:Envelope>`), 'application/soap+xml'));
  assert.deepEqual(r.documents[0]?.binary?.ref.data, bytes);
});
