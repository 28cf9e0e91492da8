import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope, writeSoapRequest, writeSoapResponse } from '../soap/envelope.ts';
import { memoryAttachmentSink, readSoapMessage, writeMtomMessage } from '../soap/mtom.ts';
import { chunkedReadable, crlfFraming, NIST_PNR_BOUNDARY, NIST_PNR_CONTENT_TYPE } from '../soap/test-fixtures.ts';
import {
  completeDocumentEntriesForRegistry,
  readProvideAndRegisterRequest,
  readRegistryResponseEnvelope,
  receivedDocuments,
  writeProvideAndRegisterRequest,
  XDSB_DOCUMENT,
  PROVIDE_AND_REGISTER_ACTION,
  PROVIDE_AND_REGISTER_RESPONSE_ACTION,
} from './iti41-provide-and-register.ts';
import { readStoredQueryResponse, writeStoredQueryResponse } from './iti18-stored-query.ts';
import type { XdsMetadata } from './metadata.ts';
import { readRegistryResponse, registryError, writeRegistryResponse, type RegistryError } from './registry-response.ts';
import { validateSubmission, validateSubmissionMetadata, type ReceivedDocument } from './submission-validation.ts';
import { DOCUMENT_SHA1, validSubmission } from './test-fixtures.ts';
import { parseXmlText } from '../soap/safe-xml.ts';

const shared = { skip: requireTools({ shared: true }) };
const nistBodyText = (): string => readFileSync(join(samplesDir, 'nist-iti41-pnr-mtom-xop.body.txt'), 'latin1');
const nistDocument = (): Buffer => readFileSync(join(samplesDir, 'nist-iti41-document-36bytes.txt'));

/** The NIST PnR body with extra slots on the DocumentEntry (how NIST's 11981/12369 variants differ). */
function withDocumentEntrySlots(slots: Record<string, string>): Buffer {
  const xml = Object.entries(slots)
    .map(([name, value]) => `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${value}</rim:Value></rim:ValueList></rim:Slot>`)
    .join('');
  const text = nistBodyText();
  const at = text.indexOf('<rim:Slot name="creationTime">');
  return Buffer.from(text.slice(0, at) + xml + text.slice(at), 'latin1');
}

async function submit(body: Buffer): Promise<{ errors: RegistryError[]; metadata: XdsMetadata; documents: Map<string, ReceivedDocument> }> {
  const message = await readSoapMessage(chunkedReadable(crlfFraming(body, NIST_PNR_BOUNDARY), 1024), NIST_PNR_CONTENT_TYPE, {
    sink: memoryAttachmentSink(),
    inlineBinaryElements: [XDSB_DOCUMENT],
  });
  const request = readProvideAndRegisterRequest(message);
  const documents = receivedDocuments(request, (ref) => ({ size: ref.size, sha1: ref.sha1 }));
  const errors = await validateSubmission({ transaction: 'ITI-41', metadata: request.metadata, problems: request.problems, documents }, { isKnownPatientId: (pid) => pid === 'SR7^^^&1.2.260&ISO' });
  return { errors, metadata: request.metadata, documents };
}

const codes = (errors: readonly RegistryError[]): string[] => errors.map((e) => e.errorCode);

test('NIST ITI-41 MTOM body: metadata and the attached document are read, and it validates (expected Success)', shared, async () => {
  const { errors, metadata, documents } = await submit(Buffer.from(nistBodyText(), 'latin1'));
  assert.deepEqual(errors, []);
  assert.equal(metadata.documentEntries[0]?.uniqueId, '1.42.20160705093311.6');
  assert.equal(metadata.submissionSets[0]?.uniqueId, '1.42.20160705093311.7');
  assert.equal(metadata.documentEntries[0]?.patientId, 'SR7^^^&1.2.260&ISO');
  assert.deepEqual(documents.get('Document01'), { size: 36, sha1: DOCUMENT_SHA1 });
  assert.equal(nistDocument().length, 36);
});

test('A-PNR-01: metadata hash different from the SHA-1 of the document → XDSRepositoryMetadataError', shared, async () => {
  for (const hash of ['e543712c0e10501972de13a5bfcbe826c49feb69', '123e2']) {
    const { errors } = await submit(withDocumentEntrySlots({ hash }));
    assert.deepEqual(codes(errors), ['XDSRepositoryMetadataError'], hash);
    assert.equal(errors[0]?.location, 'Document01');
  }
});

test('A-PNR-02: metadata size different from the byte length → XDSRepositoryMetadataError', shared, async () => {
  for (const size of ['37', '214']) {
    const { errors } = await submit(withDocumentEntrySlots({ size }));
    assert.deepEqual(codes(errors), ['XDSRepositoryMetadataError'], size);
  }
  assert.deepEqual(codes((await submit(withDocumentEntrySlots({ size: 'big' }))).errors), ['XDSRepositoryMetadataError']);
});

test('A-PNR-03: the correct hash in upper case with size 36 → Success', shared, async () => {
  const { errors } = await submit(withDocumentEntrySlots({ hash: DOCUMENT_SHA1.toUpperCase(), size: '36' }));
  assert.deepEqual(errors, []);
});

test('A-PNR-04: a DocumentEntry without an attached document → XDSMissingDocument', shared, async () => {
  const text = nistBodyText();
  const noDoc = text.replace(/<xdsb:Document id="Document01">[\s\S]*?<\/xdsb:Document>/, '');
  const { errors } = await submit(Buffer.from(noDoc, 'latin1'));
  assert.deepEqual(codes(errors), ['XDSMissingDocument']);
});

test('A-PNR-05: a document without a DocumentEntry → XDSMissingDocumentMetadata', shared, async () => {
  const extra = nistBodyText().replace('</xdsb:ProvideAndRegisterDocumentSetRequest>', `<xdsb:Document id="Document02">${Buffer.from('orphan').toString('base64')}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`);
  const { errors } = await submit(Buffer.from(extra, 'latin1'));
  assert.deepEqual(codes(errors), ['XDSMissingDocumentMetadata']);
  assert.equal(errors[0]?.location, 'Document02');
});

test('A-PNR-06: the repository fills repositoryUniqueId, hash and size, and a LeafClass query returns them', shared, async () => {
  const { metadata, documents } = await submit(Buffer.from(nistBodyText(), 'latin1'));
  const registered = completeDocumentEntriesForRegistry(metadata, documents, '1.2.826.0.1.3680043.10.2');
  const response = readStoredQueryResponse(parseXmlText(writeStoredQueryResponse({ returnType: 'LeafClass', metadata: registered })));
  const de = response.metadata.documentEntries[0];
  assert.equal(de?.repositoryUniqueId, '1.2.826.0.1.3680043.10.2');
  assert.equal(de?.hash, DOCUMENT_SHA1);
  assert.equal(de?.size, 36);
  // What the registry receives then passes ITI-42 validation (hash/size/repositoryUniqueId required there).
  assert.deepEqual(validateSubmissionMetadata({ transaction: 'ITI-42', metadata: registered }), []);
});

test('A-PNR-07: an error from the registry is propagated unchanged to the source', () => {
  const fromRegistry = writeRegistryResponse([registryError('XDSPatientIdDoesNotMatch', 'patientId of Document01 differs', 'Document01')]);
  const read = readRegistryResponse(parseXmlText(fromRegistry));
  assert.equal(read.status, 'Failure');
  const toSource = readRegistryResponse(parseXmlText(writeRegistryResponse(read.errors)));
  assert.deepEqual(toSource, read);
  assert.deepEqual(codes(toSource.errors), ['XDSPatientIdDoesNotMatch']);
});

test('A-PNR-08 (ITI-41): two DocumentEntries with the same uniqueId → XDSRepositoryDuplicateUniqueIdInMessage', () => {
  const m = validSubmission();
  const twin = { ...m, documentEntries: [m.documentEntries[0]!, { ...m.documentEntries[1]!, uniqueId: m.documentEntries[0]!.uniqueId }] };
  const docs = new Map([
    ['Document01', { size: 36, sha1: DOCUMENT_SHA1 }],
    ['Manifest01', { size: 36, sha1: DOCUMENT_SHA1 }],
  ]);
  assert.deepEqual(codes(validateSubmissionMetadata({ transaction: 'ITI-41', metadata: twin, documents: docs })), ['XDSRepositoryDuplicateUniqueIdInMessage']);
});

test('A-PNR-10 (ITI-41): a DocumentEntry patientId other than the SubmissionSet one → XDSPatientIdDoesNotMatch', shared, async () => {
  const text = nistBodyText();
  const first = text.indexOf('value="SR7^^^&amp;1.2.260&amp;ISO"');
  const changed = text.slice(0, first) + 'value="OTHER^^^&amp;1.2.260&amp;ISO"' + text.slice(first + 'value="SR7^^^&amp;1.2.260&amp;ISO"'.length);
  const { errors } = await submit(Buffer.from(changed, 'latin1'));
  assert.deepEqual(codes(errors), ['XDSPatientIdDoesNotMatch']);
});

test('A-PNR-09 (ITI-41): a patient ID that was never fed → XDSUnknownPatientId', shared, async () => {
  const body = Buffer.from(nistBodyText().replaceAll('SR7^^^', 'NEVERFED^^^'), 'latin1');
  const { errors } = await submit(body);
  assert.deepEqual(codes(errors), ['XDSUnknownPatientId']);
});

test('ITI-41 writer → reader: metadata and documents survive an MTOM round trip; the response action matches', async () => {
  const m = validSubmission();
  const content = [Buffer.from('%PDF-1.4 report'), Buffer.from('DICM kos bytes')];
  const documents = m.documentEntries.map((de, i) => ({ entryId: de.entryUUID, attachment: { contentId: `doc${i}@edge`, contentType: de.mimeType, content: content[i]! } }));
  const body = writeProvideAndRegisterRequest(m, documents);
  const pkg = writeMtomMessage(writeSoapRequest(PROVIDE_AND_REGISTER_ACTION, body, 'https://clearinghouse.invalid/xds/iti41'), documents.map((d) => d.attachment), { action: PROVIDE_AND_REGISTER_ACTION });
  const message = await readSoapMessage(pkg.body, pkg.contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT] });
  const request = readProvideAndRegisterRequest(message);
  assert.deepEqual(request.metadata, m);
  assert.deepEqual(request.problems, []);
  assert.deepEqual(request.documents.get('Manifest01')?.binary.ref.data, content[1]);
  const docs = receivedDocuments(request, (r) => ({ size: r.size, sha1: r.sha1 }));
  const adjusted: XdsMetadata = { ...m, documentEntries: m.documentEntries.map((d) => ({ ...d, hash: docs.get(d.entryUUID)!.sha1, size: docs.get(d.entryUUID)!.size })) };
  assert.deepEqual(validateSubmissionMetadata({ transaction: 'ITI-41', metadata: adjusted, documents: docs }), []);

  const responseXml = writeSoapResponse(message.envelope, PROVIDE_AND_REGISTER_RESPONSE_ACTION, writeRegistryResponse([]));
  const response = parseSoapEnvelope(responseXml);
  assert.equal(response.addressing.relatesTo[0]?.messageId, message.envelope.addressing.messageId);
  assert.equal(readRegistryResponseEnvelope(response).status, 'Success');
});

test('NIST ITI-41 response sample reads as Success', shared, () => {
  const env = parseSoapEnvelope(readFileSync(join(samplesDir, 'nist-iti41-response-success.soap.xml')));
  assert.deepEqual(readRegistryResponseEnvelope(env), { status: 'Success', rawStatus: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success', errors: [] });
});

test('xdsb:Document problems: duplicate ids are reported against the repository', shared, async () => {
  const dup = nistBodyText().replace('</xdsb:ProvideAndRegisterDocumentSetRequest>', `<xdsb:Document id="Document01">${Buffer.from('again').toString('base64')}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>`);
  const { errors } = await submit(Buffer.from(dup, 'latin1'));
  assert.deepEqual(codes(errors), ['XDSRepositoryMetadataError']);
  assert.match(errors[0]?.codeContext ?? '', /appears twice/);
});
