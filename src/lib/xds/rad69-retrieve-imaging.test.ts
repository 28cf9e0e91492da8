import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope } from '../soap/envelope.ts';
import { memoryAttachmentSink, readSoapMessage, type BufferedAttachment, type SoapMessage } from '../soap/mtom.ts';
import { firstChild, parseXml, parseXmlText } from '../soap/safe-xml.ts';
import { XDSB_DOCUMENT } from './iti41-provide-and-register.ts';
import { buildRetrieveResponseMessage, readRetrieveDocumentSetResponse, writeRetrieveDocumentSetResponse } from './iti43-retrieve.ts';
import {
  imagingDocumentRequests,
  readRetrieveImagingDocumentSetRequest,
  writeRetrieveImagingDocumentSetRequest,
  RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION,
} from './rad69-retrieve-imaging.ts';
import { readRegistryResponse, registryError } from './registry-response.ts';
import { manifestEntry } from './test-fixtures.ts';
import { RS_NS, XDSB_NS, XDS_ACTIONS } from './vocabulary.ts';
import { accessionNumbersOf, isImagingManifest, KOS_FORMAT_CODE, validateImagingManifestEntry } from './xds-imaging.ts';

const shared = { skip: requireTools({ shared: true }) };
const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));
const STUDY = '1.3.6.1.4.1.21367.201599.1.201604020954048';
const SERIES = '1.3.6.1.4.1.21367.201599.2.201604020954048';
const SOP = '1.3.6.1.4.1.21367.201599.3.201604020954048.1';
const REPOSITORY = '1.3.6.1.4.1.21367.13.80.110';

async function readMessage(body: Readable | Buffer, contentType: string): Promise<SoapMessage<BufferedAttachment>> {
  return readSoapMessage(Buffer.isBuffer(body) ? Readable.from([body]) : body, contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT], envelope: { requireAction: false } });
}

function rad69(body: string): ReturnType<typeof readRetrieveImagingDocumentSetRequest> {
  return readRetrieveImagingDocumentSetRequest(parseXmlText(body));
}
const req = (study: string, series: string, ts: string): string =>
  `<i:RetrieveImagingDocumentSetRequest xmlns:i="urn:ihe:rad:xdsi-b:2009" xmlns:b="urn:ihe:iti:xds-b:2007"><i:StudyRequest studyInstanceUID="${study}"><i:SeriesRequest seriesInstanceUID="${series}"><b:DocumentRequest><b:RepositoryUniqueId>${REPOSITORY}</b:RepositoryUniqueId><b:DocumentUniqueId>${SOP}</b:DocumentUniqueId></b:DocumentRequest></i:SeriesRequest></i:StudyRequest>${ts}</i:RetrieveImagingDocumentSetRequest>`;
const TS = '<i:TransferSyntaxUIDList><i:TransferSyntaxUID>1.2.840.10008.1.2.1</i:TransferSyntaxUID></i:TransferSyntaxUIDList>';

test('NIST RAD-69 request (ids_4810) parses: study → series → document, transfer syntax', shared, () => {
  const r = readRetrieveImagingDocumentSetRequest(parseXml(sample('nist-rad69-request-ids4810.xml')).root);
  assert.ok(r.ok);
  assert.deepEqual(r.request.transferSyntaxUids, ['1.2.840.10008.1.2.1']);
  assert.deepEqual(imagingDocumentRequests(r.request), [{ repositoryUniqueId: REPOSITORY, documentUniqueId: SOP, studyInstanceUid: STUDY, seriesInstanceUid: SERIES }]);
});

test('NIST RAD-75 request parses with HomeCommunityId', shared, () => {
  const r = readRetrieveImagingDocumentSetRequest(parseXml(sample('nist-rad75-request.xml')).root);
  assert.ok(r.ok);
  assert.equal(imagingDocumentRequests(r.request)[0]?.homeCommunityId, 'urn:oid:1.3.6.1.4.1.21367.13.70.201');
});

test('A-IDS-02: RAD-68 manifest metadata — application/dicom, KOS formatCode, stable, uniqueId = KOS SOP Instance UID, accession', () => {
  const de = manifestEntry();
  assert.ok(isImagingManifest(de));
  assert.deepEqual(accessionNumbersOf(de), ['ACC-0001']);
  assert.deepEqual(validateImagingManifestEntry(de, de.uniqueId), []);
  assert.deepEqual(KOS_FORMAT_CODE, { code: '1.2.840.10008.5.1.4.1.1.88.59', scheme: '1.2.840.10008.2.6.1', display: 'Key Object Selection Document' });
  const broken = [
    { mimeType: 'application/pdf' },
    { formatCode: { code: '1.2.840.10008.5.1.4.1.1.88.59', scheme: 'DCM' } },
    { objectType: 'on-demand' as const },
    { referenceIdList: [] },
    { uniqueId: '1.2.3^ext' },
  ];
  for (const change of broken) {
    const errors = validateImagingManifestEntry(manifestEntry(change));
    assert.equal(errors.length, 1, JSON.stringify(change));
    assert.equal(errors[0]?.errorCode, 'XDSRegistryMetadataError');
  }
  assert.equal(validateImagingManifestEntry(de, '1.2.3.4').length, 1, 'uniqueId must be the KOS SOP Instance UID');
});

test('A-IDS-03: a RAD-69 answer for a referenced image is Success with one DocumentResponse of mimeType application/dicom', shared, async () => {
  const kos = sample('nist-kos-ids4801.dcm');
  const request = readRetrieveImagingDocumentSetRequest(parseXml(sample('nist-rad69-request-ids4810.xml')).root);
  assert.ok(request.ok);
  const docs = imagingDocumentRequests(request.request).map((d) => ({ ...d, mimeType: 'application/dicom', content: kos }));
  const pkg = buildRetrieveResponseMessage(undefined, docs, [], RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION);
  const message = await readMessage(pkg.body, pkg.contentType);
  assert.equal(message.envelope.addressing.action, XDS_ACTIONS.retrieveDocumentSetResponse);
  const r = readRetrieveDocumentSetResponse(message);
  assert.equal(r.status, 'Success');
  assert.equal(r.documents.length, 1);
  assert.equal(r.documents[0]?.mimeType, 'application/dicom');
  assert.equal(r.documents[0]?.documentUniqueId, SOP);
  assert.deepEqual(r.documents[0]?.binary?.ref.data, kos);
  assert.equal(r.documents[0]?.binary?.ref.data.subarray(128, 132).toString('latin1'), 'DICM');
});

test('A-IDS-04: unknown RepositoryUniqueId → Failure, XDSUnknownRepositoryId, severity Error (NIST gold response)', shared, () => {
  const plan = sample('nist-rad69-gold-unknown-repository.testplan.xml').toString('utf8');
  const gold = parseXmlText(plan.slice(plan.indexOf('<xdsb:RetrieveDocumentSetResponse'), plan.indexOf('</xdsb:RetrieveDocumentSetResponse>') + '</xdsb:RetrieveDocumentSetResponse>'.length));
  const expected = readRegistryResponse(firstChild(gold, RS_NS, 'RegistryResponse')!);
  assert.equal(expected.status, 'Failure');
  assert.deepEqual(expected.errors.map((e) => [e.errorCode, e.severity]), [['XDSUnknownRepositoryId', 'Error']]);
  const ours = parseXmlText(writeRetrieveDocumentSetResponse({ documents: [], errors: [registryError('XDSUnknownRepositoryId', `Unknown Repository UID [${REPOSITORY}.999]. Expected [${REPOSITORY}]`)] }));
  assert.deepEqual(readRegistryResponse(firstChild(ours, RS_NS, 'RegistryResponse')!), expected);
});

test('A-IDS-05: unknown SOP Instance UID (or not in the requested series) → Failure, XDSDocumentUniqueIdError, no DocumentResponse', () => {
  const xml = parseXmlText(writeRetrieveDocumentSetResponse({ documents: [], errors: [registryError('XDSDocumentUniqueIdError', `SOP instance ${SOP}.9 is not in series ${SERIES}`, `${SOP}.9`)] }));
  assert.equal(readRegistryResponse(firstChild(xml, RS_NS, 'RegistryResponse')!).status, 'Failure');
  assert.equal(firstChild(xml, XDSB_NS, 'DocumentResponse'), undefined);
});

test('A-IDS-06: empty study or series UID, or a missing/empty TransferSyntaxUIDList → Failure with at least one error', () => {
  assert.ok(rad69(req(STUDY, SERIES, TS)).ok);
  for (const bad of [req('', SERIES, TS), req(STUDY, '', TS), req(STUDY, SERIES, ''), req(STUDY, SERIES, '<i:TransferSyntaxUIDList/>'), req(STUDY, SERIES, '<i:TransferSyntaxUIDList><i:TransferSyntaxUID> </i:TransferSyntaxUID></i:TransferSyntaxUIDList>')]) {
    const r = rad69(bad);
    assert.ok(!r.ok && r.errors.length >= 1 && r.errors.every((e) => e.severity === 'Error'));
  }
  const noDocs = rad69(req(STUDY, SERIES, TS).replace(/<b:DocumentRequest>[\s\S]*<\/b:DocumentRequest>/, ''));
  assert.ok(!noDocs.ok);
  assert.ok(!rad69('<x xmlns="urn:x"/>').ok);
});

test('A-IDS-07: only unsupported transfer syntaxes → Failure, XDSRepositoryError, no image', () => {
  const xml = parseXmlText(writeRetrieveDocumentSetResponse({ documents: [], errors: [registryError('XDSRepositoryError', 'none of the transfer syntaxes 1.2.840.10008.1.2.4.100 can be produced', SOP)] }));
  const rr = readRegistryResponse(firstChild(xml, RS_NS, 'RegistryResponse')!);
  assert.equal(rr.status, 'Failure');
  assert.deepEqual(rr.errors.map((e) => e.errorCode), ['XDSRepositoryError']);
  assert.equal(firstChild(xml, XDSB_NS, 'DocumentResponse'), undefined);
});

test('A-IDS-08: two documents, one unknown → PartialSuccess, one DocumentResponse, one error located at the unknown DocumentUniqueId', async () => {
  const pkg = buildRetrieveResponseMessage(
    undefined,
    [{ repositoryUniqueId: REPOSITORY, documentUniqueId: SOP, mimeType: 'application/dicom', content: Buffer.from('dicom') }],
    [registryError('XDSDocumentUniqueIdError', 'unknown SOP instance', `${SOP}.404`)],
    RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION,
  );
  const r = readRetrieveDocumentSetResponse(await readMessage(pkg.body, pkg.contentType));
  assert.equal(r.status, 'PartialSuccess');
  assert.equal(r.documents.length, 1);
  assert.deepEqual(r.errors.map((e) => [e.errorCode, e.location]), [['XDSDocumentUniqueIdError', `${SOP}.404`]]);
});

test('A-IDS-09: a HomeCommunityId in the request is echoed in the DocumentResponse', async () => {
  const request = rad69(req(STUDY, SERIES, TS).replace('<b:RepositoryUniqueId>', '<b:HomeCommunityId>urn:oid:1.2.3.4</b:HomeCommunityId><b:RepositoryUniqueId>'));
  assert.ok(request.ok);
  const docs = imagingDocumentRequests(request.request).map(({ studyInstanceUid: _s, seriesInstanceUid: _se, ...d }) => ({ ...d, mimeType: 'application/dicom', content: Buffer.from('x') }));
  const pkg = buildRetrieveResponseMessage(undefined, docs, [], RETRIEVE_IMAGING_DOCUMENT_SET_RESPONSE_ACTION);
  const r = readRetrieveDocumentSetResponse(await readMessage(pkg.body, pkg.contentType));
  assert.equal(r.documents[0]?.homeCommunityId, 'urn:oid:1.2.3.4');
});

test('RAD-69 request writer → parser round trip (imaging document consumer side)', () => {
  const request = {
    studies: [{ studyInstanceUid: STUDY, series: [{ seriesInstanceUid: SERIES, documents: [{ repositoryUniqueId: REPOSITORY, documentUniqueId: SOP }, { homeCommunityId: 'urn:oid:1.2', repositoryUniqueId: REPOSITORY, documentUniqueId: `${SOP}0` }] }] }],
    transferSyntaxUids: ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.1'],
  };
  const r = readRetrieveImagingDocumentSetRequest(parseXmlText(writeRetrieveImagingDocumentSetRequest(request)));
  assert.ok(r.ok);
  assert.deepEqual(r.request, request);
  assert.equal(parseSoapEnvelope(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`, { requireAction: false }).payload, undefined);
});
