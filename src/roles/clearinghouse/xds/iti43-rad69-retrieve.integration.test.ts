// ITI-43 Retrieve Document Set (POST /xds/repository) and RAD-69 Retrieve Imaging Document Set
// (POST /xds/imaging) at the running network. The network's repositoryUniqueId is set to the NIST
// Imaging Document Source's (1.3.6.1.4.1.21367.13.80.110) so the NIST RAD-69 vector addresses us.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { corpusDir, requireTools } from '../../../../test-support/system-tools.ts';
import {
  RETRIEVE_DOCUMENT_SET_ACTION,
  RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION,
  RETRIEVE_IMAGING_DOCUMENT_SET_ACTION,
  writeRetrieveDocumentSetRequest,
  writeRetrieveImagingDocumentSetRequest,
  type DocumentRequest,
} from '../../../lib/xds/index.ts';
import {
  kosEntry,
  NIST_DOC_UNIQUE_ID,
  NIST_DOCUMENT_SHA1,
  NIST_KOS_SOP_INSTANCE_UID,
  NIST_PNR_CONTENT_TYPE,
  nistPnrBody,
  payloadOf,
  post,
  provideAndRegisterRequest,
  PT_KOS_SOP_INSTANCE_UID,
  registryAnswer,
  retrieveAnswer,
  sample,
  singleDocumentSubmission,
  SOAP_CT,
  soapRequest,
} from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
const REPO = '1.3.6.1.4.1.21367.13.80.110';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const PT_STUDY = '1.3.6.1.4.1.21367.201599.1.201604020956016';
const PT_SERIES = '1.3.6.1.4.1.21367.201599.2.201604020956016';
const PT_FILES = Array.from({ length: 10 }, (_, i) => `pt_series_inst${String(i + 1).padStart(2, '0')}.dcm`);
let net: TestNetwork;

const sopUidOf = (bytes: Buffer): string => dicomParser.parseDicom(new Uint8Array(bytes)).string('x00080018') ?? '';

before(async () => {
  net = await startTestNetwork({ 'clearinghouse.openPatientIds': true, 'network.repositoryUniqueId': REPO });
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const retrieve = async (docs: DocumentRequest[]) =>
  retrieveAnswer(await post(`${net.baseUrl}/xds/repository`, soapRequest(RETRIEVE_DOCUMENT_SET_ACTION, writeRetrieveDocumentSetRequest(docs)), SOAP_CT));

async function registerKos(file: Buffer, sopUid: string, patientId: string): Promise<void> {
  const url = `${net.baseUrl}/xds/repository`;
  const de = kosEntry(sopUid, patientId);
  const req = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: `1.2.826.0.1.3680043.10.94.${Date.now()}.${Math.floor(Math.random() * 1e6)}` }), [{ entryId: de.entryUUID, mimeType: 'application/dicom', content: file }]);
  const res = await registryAnswer(await post(url, req.body, req.contentType));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
}

const rad69 = async (xml: string) => retrieveAnswer(await post(`${net.baseUrl}/xds/imaging`, soapRequest(RETRIEVE_IMAGING_DOCUMENT_SET_ACTION, xml), SOAP_CT));

// ITI-43 ------------------------------------------------------------------------------------------

test('A-RET-01 / A-SOAP-02: a stored document comes back as an MTOM part with the same bytes and mimeType; RelatesTo = request MessageID', shared, async () => {
  assert.equal((await registryAnswer(await post(`${net.baseUrl}/xds/repository`, nistPnrBody(), NIST_PNR_CONTENT_TYPE))).status, 'Success');
  const request = soapRequest(RETRIEVE_DOCUMENT_SET_ACTION, writeRetrieveDocumentSetRequest([{ repositoryUniqueId: REPO, documentUniqueId: NIST_DOC_UNIQUE_ID }]));
  const messageId = /<a:MessageID>([^<]+)</.exec(request)?.[1];
  const answer = await post(`${net.baseUrl}/xds/repository`, request, SOAP_CT);
  assert.match(answer.contentType, /^multipart\/related/);
  const res = await retrieveAnswer(answer);
  assert.equal(res.status, 'Success');
  assert.equal(res.envelope.addressing.action, RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION);
  assert.equal(res.envelope.addressing.relatesTo[0]?.messageId, messageId);
  assert.equal(res.documents.length, 1);
  const doc = res.documents[0];
  assert.equal(doc?.mimeType, 'text/plain');
  assert.equal(doc?.binary?.source, 'xop');
  assert.equal(createHash('sha1').update(doc?.binary?.ref.data ?? Buffer.alloc(0)).digest('hex'), NIST_DOCUMENT_SHA1);
});

test('NIST ITI-43 vector (placeholder UIDs) → XDSDocumentUniqueIdError per document, as is and with our repository id', shared, async () => {
  const vector = sample('nist-iti43-request.soap.xml').toString('utf8');
  const asIs = await retrieveAnswer(await post(`${net.baseUrl}/xds/repository`, vector, SOAP_CT));
  assert.equal(asIs.status, 'Failure');
  assert.deepEqual(asIs.codes, ['XDSDocumentUniqueIdError', 'XDSDocumentUniqueIdError']);
  const ours = await retrieveAnswer(await post(`${net.baseUrl}/xds/repository`, vector.replaceAll('1.3.6.1.4...1000', REPO), SOAP_CT));
  assert.equal(ours.status, 'Failure');
  assert.deepEqual(ours.codes, ['XDSDocumentUniqueIdError', 'XDSDocumentUniqueIdError']);
  assert.deepEqual(ours.errors.map((e) => e.location), ['1.3.6.1.4...2300', '1.3.6.1.4...2301']);
  assert.equal(ours.documents.length, 0);
});

test('A-RET-02: one known and one unknown document → PartialSuccess, one DocumentResponse, error located at the unknown uniqueId', shared, async () => {
  assert.equal((await registryAnswer(await post(`${net.baseUrl}/xds/repository`, nistPnrBody(), NIST_PNR_CONTENT_TYPE))).status, 'Success');
  const res = await retrieve([
    { repositoryUniqueId: REPO, documentUniqueId: NIST_DOC_UNIQUE_ID, homeCommunityId: 'urn:oid:1.2.3.4' },
    { repositoryUniqueId: REPO, documentUniqueId: '1.2.3.4.5.404' },
  ]);
  assert.equal(res.status, 'PartialSuccess');
  assert.equal(res.documents.length, 1);
  assert.equal(res.documents[0]?.homeCommunityId, 'urn:oid:1.2.3.4');
  assert.deepEqual(res.codes, ['XDSDocumentUniqueIdError']);
  assert.equal(res.errors[0]?.location, '1.2.3.4.5.404');
});

test('A-RET-03: a stored document asked under another RepositoryUniqueId → XDSUnknownRepositoryId', shared, async () => {
  const res = await retrieve([{ repositoryUniqueId: `${REPO}.999`, documentUniqueId: NIST_DOC_UNIQUE_ID }]);
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSUnknownRepositoryId']);
  assert.equal(res.documents.length, 0);
});

// RAD-69 ------------------------------------------------------------------------------------------

test('NIST RAD-69 (ids4810) with nist-kos-ids4801.dcm registered by RAD-68 but the image absent → Failure XDSDocumentUniqueIdError, no DocumentResponse', shared, async () => {
  await registerKos(sample('nist-kos-ids4801.dcm'), NIST_KOS_SOP_INSTANCE_UID, 'IDS-DEPT001-a^^^&1.3.6.1.4.1.21367.13.20.1000&ISO');
  const answer = await post(`${net.baseUrl}/xds/imaging`, soapRequest(RETRIEVE_IMAGING_DOCUMENT_SET_ACTION, sample('nist-rad69-request-ids4810.xml').toString('utf8')), SOAP_CT);
  const res = await retrieveAnswer(answer);
  assert.equal(res.envelope.addressing.action, RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION);
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSDocumentUniqueIdError']);
  assert.equal(res.errors[0]?.location, '1.3.6.1.4.1.21367.201599.3.201604020954048.1');
  assert.equal(res.documents.length, 0);
});

test('A-IDS-04: the NIST RAD-69 request with an unknown RepositoryUniqueId → Failure XDSUnknownRepositoryId, severity Error (gold ids_2018-4811 case-01)', shared, async () => {
  const xml = sample('nist-rad69-request-ids4810.xml').toString('utf8').replace(`>${REPO}<`, `>${REPO}.999<`);
  const res = await rad69(xml);
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSUnknownRepositoryId']);
  assert.equal(res.errors[0]?.severity, 'Error');
  assert.equal(res.documents.length, 0);
});

test('A-IDS-06: empty study UID or no TransferSyntaxUIDList → Failure with at least one RegistryError', shared, async () => {
  const vector = sample('nist-rad69-request-ids4810.xml').toString('utf8');
  const emptyStudy = await rad69(vector.replace('studyInstanceUID="1.3.6.1.4.1.21367.201599.1.201604020954048"', 'studyInstanceUID=""'));
  assert.equal(emptyStudy.status, 'Failure');
  assert.ok(emptyStudy.errors.length >= 1);
  const noTs = await rad69(vector.replace(/<xdsiB:TransferSyntaxUIDList>[\s\S]*<\/xdsiB:TransferSyntaxUIDList>/, ''));
  assert.equal(noTs.status, 'Failure');
  assert.ok(noTs.errors.length >= 1);
});

const stowed: { sopUids: string[]; ok: boolean } = { sopUids: [], ok: false };

async function stowPtSeries(): Promise<void> {
  if (stowed.ok) return;
  const boundary = 'stowBoundary7d3f';
  const parts: Buffer[] = [];
  for (const f of PT_FILES) {
    const bytes = readFileSync(join(corpusDir, f));
    stowed.sopUids.push(sopUidOf(bytes));
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${net.baseUrl}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, authorization: net.adminAuth, accept: 'application/dicom+json' },
    body: Buffer.concat(parts),
  });
  assert.ok(res.status === 200 || res.status === 202, `STOW-RS answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  await registerKos(readFileSync(join(corpusDir, 'kos_manifest_pt_series.dcm')), PT_KOS_SOP_INSTANCE_UID, 'IDS-DEPT024-a^^^&1.3.6.1.4.1.21367.13.20.1000&ISO');
  stowed.ok = true;
}

const ptRequest = (sopUids: readonly string[], opts: { series?: string; transferSyntaxes?: string[]; homeCommunityId?: string } = {}): string =>
  writeRetrieveImagingDocumentSetRequest({
    studies: [
      {
        studyInstanceUid: PT_STUDY,
        series: [{ seriesInstanceUid: opts.series ?? PT_SERIES, documents: sopUids.map((documentUniqueId) => ({ repositoryUniqueId: REPO, documentUniqueId, ...(opts.homeCommunityId ? { homeCommunityId: opts.homeCommunityId } : {}) })) }],
      },
    ],
    transferSyntaxUids: opts.transferSyntaxes ?? [EXPLICIT_LE],
  });

test('A-IDS-03 / A-SOAP-07: RAD-69 success path — the ten pt_series images (STOW-RS) and their KOS (RAD-68) → Success, ten application/dicom parts with the same SOP Instance UIDs', shared, async () => {
  await stowPtSeries();
  const res = await rad69(ptRequest(stowed.sopUids));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.equal(res.documents.length, 10);
  for (const [i, d] of res.documents.entries()) {
    assert.equal(d.mimeType, 'application/dicom');
    assert.equal(d.binary?.source, 'xop');
    assert.equal(d.repositoryUniqueId, REPO);
    assert.equal(d.documentUniqueId, stowed.sopUids[i]);
    const ds = dicomParser.parseDicom(new Uint8Array(d.binary?.ref.data ?? Buffer.alloc(0)));
    assert.equal(ds.string('x00080018'), stowed.sopUids[i]);
    assert.equal(ds.string('x0020000d'), PT_STUDY);
    assert.equal(ds.string('x0020000e'), PT_SERIES);
    assert.equal(ds.string('x00100020'), 'IDS-DEPT024-a');
  }
});

test('A-IDS-08 / A-IDS-09: one known and one unknown instance → PartialSuccess, one DocumentResponse echoing HomeCommunityId, one error at the unknown UID', shared, async () => {
  await stowPtSeries();
  const res = await rad69(ptRequest([stowed.sopUids[0] ?? '', '1.2.3.4.5.6.404'], { homeCommunityId: 'urn:oid:1.2.3.4' }));
  assert.equal(res.status, 'PartialSuccess');
  assert.equal(res.documents.length, 1);
  assert.equal(res.documents[0]?.homeCommunityId, 'urn:oid:1.2.3.4');
  assert.deepEqual(res.codes, ['XDSDocumentUniqueIdError']);
  assert.equal(res.errors[0]?.location, '1.2.3.4.5.6.404');
});

test('A-IDS-05: a SOP Instance UID asked under another series → XDSDocumentUniqueIdError', shared, async () => {
  await stowPtSeries();
  const res = await rad69(ptRequest([stowed.sopUids[0] ?? ''], { series: '1.2.3.4.5.999' }));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSDocumentUniqueIdError']);
});

test('A-IDS-07: only a transfer syntax the source cannot produce → Failure XDSRepositoryError, no image', shared, async () => {
  await stowPtSeries();
  const res = await rad69(ptRequest([stowed.sopUids[0] ?? ''], { transferSyntaxes: ['1.2.840.10008.1.2.4.100'] }));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSRepositoryError']);
  assert.equal(res.documents.length, 0);
});

test('the NIST RAD-69 body in a fresh envelope is read namespace-agnostically', shared, async () => {
  const res = await rad69(payloadOf(`<Body>${sample('nist-rad69-request-ids4810.xml').toString('utf8')}</Body>`));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSDocumentUniqueIdError']);
});
