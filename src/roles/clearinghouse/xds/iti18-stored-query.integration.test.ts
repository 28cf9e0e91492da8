// ITI-18 Registry Stored Query at the running network's registry (POST /xds/registry): the NIST
// vectors, the ihe-protocols.md §13 A-SQ-* rules on the server side, status filters, time ranges,
// code lists with AND/OR semantics, and injection attempts treated as data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { requireTools } from '../../../../test-support/system-tools.ts';
import {
  ASSOCIATION_TYPE,
  AVAILABILITY_STATUS,
  QUERY_PARAM as P,
  REGISTER_ACTION,
  REGISTRY_STORED_QUERY_ACTION,
  STORED_QUERY_ID,
  writeStoredQueryRequest,
  writeSubmitObjectsRequest,
  type StoredQueryToWrite,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';
import { fullDocumentEntry, validSubmission } from '../../../lib/xds/test-fixtures.ts';
import {
  NIST_DOC_UNIQUE_ID,
  NIST_DOCUMENT_SHA1,
  NIST_PNR_CONTENT_TYPE,
  nistPnrBody,
  payloadOf,
  post,
  queryAnswer,
  registryAnswer,
  sample,
  SOAP_CT,
  soapRequest,
} from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
let net: TestNetwork;
let url: string;
const PA = 'PATIENTA^^^&1.2.826.0.1.3680043.10.77&ISO';
const PB = 'PATIENTB^^^&1.2.826.0.1.3680043.10.77&ISO';
const approved = { kind: 'strings', values: [AVAILABILITY_STATUS.approved] } as const;

let seq = 0;
function submission(patientId: string): XdsMetadata {
  const m = validSubmission();
  const n = `${Date.now()}.${++seq}`;
  return {
    ...m,
    submissionSets: m.submissionSets.map((s) => ({ ...s, patientId, uniqueId: `1.2.826.0.1.3680043.10.96.${n}.1` })),
    documentEntries: m.documentEntries.map((d, i) => ({ ...d, patientId, uniqueId: `1.2.826.0.1.3680043.10.96.${n}.${10 + i}` })),
    folders: m.folders.map((f) => ({ ...f, patientId, uniqueId: `1.2.826.0.1.3680043.10.96.${n}.3` })),
  };
}
const subA = submission(PA);
const subB = submission(PB);

const register = async (m: XdsMetadata) => registryAnswer(await post(url, soapRequest(REGISTER_ACTION, writeSubmitObjectsRequest(m)), SOAP_CT));
const query = async (q: StoredQueryToWrite) => queryAnswer(await post(url, soapRequest(REGISTRY_STORED_QUERY_ACTION, writeStoredQueryRequest(q)), SOAP_CT));
/** A FindDocuments request with raw slot XML (for malformed and hostile values). */
function rawQuery(slots: Record<string, readonly string[]>, id: string = STORED_QUERY_ID.FindDocuments, returnType = 'LeafClass'): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const slotXml = Object.entries(slots)
    .map(([name, values]) => `<rim:Slot name="${name}"><rim:ValueList>${values.map((v) => `<rim:Value>${esc(v)}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`)
    .join('');
  return soapRequest(
    REGISTRY_STORED_QUERY_ACTION,
    `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="${returnType}"/><rim:AdhocQuery id="${id}">${slotXml}</rim:AdhocQuery></query:AdhocQueryRequest>`,
  );
}
const raw = async (xml: string) => queryAnswer(await post(url, xml, SOAP_CT));

before(async () => {
  net = await startTestNetwork({ 'clearinghouse.openPatientIds': true });
  url = `${net.baseUrl}/xds/registry`;
  for (const m of [subA, subB]) assert.equal((await register(m)).status, 'Success');
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

test('NIST FindDocuments vector (classCode value^^scheme matches nothing) → Success with no entries', shared, async () => {
  const res = await queryAnswer(await post(url, sample('nist-iti18-finddocuments.soap.xml'), SOAP_CT));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.equal(res.metadata.documentEntries.length, 0);
});

test('A-SQ-03: NIST FindDocuments without $XDSDocumentEntryStatus → Failure XDSStoredQueryMissingParam', shared, async () => {
  const body = sample('nist-iti18-finddocuments-INVALID-missing-status.xml').toString('utf8').replace(/^<\?xml[^>]*\?>/, '');
  const res = await raw(soapRequest(REGISTRY_STORED_QUERY_ACTION, body));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSStoredQueryMissingParam']);
});

test('A-SQ-01: FindDocuments (patient + Approved) → only that patient\'s entries, LeafClass with status, lid and objectType', shared, async () => {
  const res = await query({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: approved } });
  assert.equal(res.status, 'Success');
  assert.deepEqual(res.metadata.documentEntries.map((d) => d.uniqueId).sort(), subA.documentEntries.map((d) => d.uniqueId).sort());
  for (const de of res.metadata.documentEntries) {
    assert.equal(de.patientId, PA);
    assert.equal(de.availabilityStatus, AVAILABILITY_STATUS.approved);
    assert.match(de.logicalId ?? '', /^urn:uuid:/);
    assert.equal(de.objectType, 'stable');
    assert.match(de.entryUUID, /^urn:uuid:/);
  }
});

test('A-SQ-02: FindDocuments with returnType ObjectRef → only rim:ObjectRef elements', shared, async () => {
  const answer = await post(url, soapRequest(REGISTRY_STORED_QUERY_ACTION, writeStoredQueryRequest({ name: 'FindDocuments', returnType: 'ObjectRef', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: approved } })), SOAP_CT);
  const res = await queryAnswer(answer);
  assert.equal(res.status, 'Success');
  assert.equal(res.metadata.objectRefs.length, 2);
  assert.equal(res.metadata.documentEntries.length, 0);
  assert.doesNotMatch(answer.body.toString('utf8'), /ExtrinsicObject/);
});

test('A-SQ-04: unknown AdhocQuery id → Failure XDSUnknownStoredQuery', shared, async () => {
  const res = await raw(rawQuery({ [P.documentEntryPatientId]: [`'${PA}'`] }, 'urn:uuid:00000000-0000-0000-0000-000000000000'));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSUnknownStoredQuery']);
});

test('A-SQ-05: a classCode without coding scheme → Failure, no entries', shared, async () => {
  const res = await raw(rawQuery({ [P.documentEntryPatientId]: [`'${PA}'`], [P.documentEntryStatus]: [`('${AVAILABILITY_STATUS.approved}')`], [P.documentEntryClassCode]: ["('REPORTS^^')"] }));
  assert.equal(res.status, 'Failure');
  assert.equal(res.metadata.documentEntries.length, 0);
});

test('A-SQ-06 and code lists: a classCode list is an OR; no match → Success with zero entries', shared, async () => {
  const q = (codes: Array<{ code: string; scheme: string }>) =>
    query({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: approved, [P.documentEntryClassCode]: { kind: 'codes', values: codes } } });
  assert.equal((await q([{ code: 'NOPE', scheme: '1.2.3' }])).metadata.documentEntries.length, 0);
  assert.equal((await q([{ code: 'REPORTS', scheme: '1.3.6.1.4.1.19376.1.2.6.1' }])).metadata.documentEntries.length, 1);
  assert.equal((await q([{ code: 'REPORTS', scheme: '1.3.6.1.4.1.19376.1.2.6.1' }, { code: 'IMAGES', scheme: '1.3.6.1.4.1.19376.1.2.6.1' }])).metadata.documentEntries.length, 2);
  // same code, other scheme: no match
  assert.equal((await q([{ code: 'REPORTS', scheme: '9.9.9' }])).metadata.documentEntries.length, 0);
});

test('eventCodeList in several slots: AND of OR-lists', shared, async () => {
  const q = (groups: Array<Array<{ code: string; scheme: string }>>) =>
    query({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: approved, [P.documentEntryEventCodeList]: { kind: 'codeGroups', groups } } });
  const ct = { code: 'CT', scheme: 'DCM' };
  const ot = { code: 'OT', scheme: 'DCM' };
  const mr = { code: 'MR', scheme: 'DCM' };
  assert.equal((await q([[ct], [ot]])).metadata.documentEntries.length, 2);
  assert.equal((await q([[ct], [mr]])).metadata.documentEntries.length, 0);
  assert.equal((await q([[mr, ct]])).metadata.documentEntries.length, 2);
});

test('A-SQ-09 and time ranges: From ≤ creationTime < To, quoted or unquoted timestamps', shared, async () => {
  const range = (from: string, to: string) =>
    raw(rawQuery({ [P.documentEntryPatientId]: [`'${PA}'`], [P.documentEntryStatus]: [`('${AVAILABILITY_STATUS.approved}')`], [P.documentEntryCreationTimeFrom]: [from], [P.documentEntryCreationTimeTo]: [to] }));
  // creationTime of the fixtures: 20240131235959
  assert.equal((await range('20240131', '20240201')).metadata.documentEntries.length, 2);
  assert.equal((await range("'20240131'", "'20240201'")).metadata.documentEntries.length, 2);
  assert.equal((await range('20240201', '2025')).metadata.documentEntries.length, 0);
  assert.equal((await range('2023', '20240131235959')).metadata.documentEntries.length, 0);
});

test('A-SQ-07: GetDocuments naming entries of two patients: LeafClass → XDSResultNotSinglePatient, ObjectRef → Success', shared, async () => {
  const ids = { kind: 'strings', values: [subA.documentEntries[0]?.uniqueId ?? '', subB.documentEntries[0]?.uniqueId ?? ''] } as const;
  const leaf = await query({ name: 'GetDocuments', params: { [P.documentEntryUniqueId]: ids } });
  assert.equal(leaf.status, 'Failure');
  assert.deepEqual(leaf.codes, ['XDSResultNotSinglePatient']);
  const refs = await query({ name: 'GetDocuments', returnType: 'ObjectRef', params: { [P.documentEntryUniqueId]: ids } });
  assert.equal(refs.status, 'Success');
  assert.equal(refs.metadata.objectRefs.length, 2);
});

test('A-SQ-08: injection payloads in the patient ID slot are data: no extra results, no server error', shared, async () => {
  for (const value of [`'${PA}'' OR ''1''=''1'`, `'x'' OR 1=1 --^^^&1.2.3&ISO'`, `'${PA}'); DROP TABLE xds_object; --'`, `('${PA}','${PB}')`]) {
    const answer = await post(url, rawQuery({ [P.documentEntryPatientId]: [value], [P.documentEntryStatus]: [`('${AVAILABILITY_STATUS.approved}')`] }), SOAP_CT);
    assert.equal(answer.status, 200, value);
    const res = await queryAnswer(answer);
    assert.equal(res.metadata.documentEntries.length, 0, value);
  }
  const still = await query({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: approved } });
  assert.equal(still.metadata.documentEntries.length, 2);
});

test('FindSubmissionSets, GetSubmissionSetAndContents, GetAssociations, GetFolders, FindFolders', shared, async () => {
  const sets = await query({ name: 'FindSubmissionSets', params: { [P.submissionSetPatientId]: { kind: 'string', value: PA }, [P.submissionSetStatus]: approved } });
  assert.deepEqual(sets.metadata.submissionSets.map((s) => s.uniqueId), [subA.submissionSets[0]?.uniqueId]);
  const ss = sets.metadata.submissionSets[0];
  assert.ok(ss);
  const contents = await query({ name: 'GetSubmissionSetAndContents', params: { [P.submissionSetUniqueId]: { kind: 'string', value: ss.uniqueId } } });
  assert.equal(contents.status, 'Success');
  assert.equal(contents.metadata.submissionSets.length, 1);
  assert.equal(contents.metadata.documentEntries.length, 2);
  assert.equal(contents.metadata.folders.length, 1);
  // SS→DE ×2, SS→Folder, Folder→DE (the SS→association membership is not an object member)
  assert.ok(contents.metadata.associations.length >= 4, String(contents.metadata.associations.length));
  const assocs = await query({ name: 'GetAssociations', params: { [P.uuid]: { kind: 'strings', values: [ss.entryUUID] } } });
  assert.ok(assocs.metadata.associations.length >= 3);
  assert.ok(assocs.metadata.associations.every((a) => a.sourceUUID === ss.entryUUID || a.targetUUID === ss.entryUUID));
  const folders = await query({ name: 'GetFolders', params: { [P.folderUniqueId]: { kind: 'strings', values: [subA.folders[0]?.uniqueId ?? ''] } } });
  assert.equal(folders.metadata.folders.length, 1);
  const found = await query({ name: 'FindFolders', params: { [P.folderPatientId]: { kind: 'string', value: PA }, [P.folderStatus]: approved } });
  assert.deepEqual(found.metadata.folders.map((f) => f.uniqueId), [subA.folders[0]?.uniqueId]);
  const ssByOther = await query({ name: 'FindSubmissionSets', params: { [P.submissionSetPatientId]: { kind: 'string', value: PA }, [P.submissionSetStatus]: approved, [P.submissionSetContentType]: { kind: 'codes', values: [{ code: 'nope', scheme: '1.2' }] } } });
  assert.equal(ssByOther.metadata.submissionSets.length, 0);
});

test('status filter: a replaced (RPLC) entry is Deprecated and only found when Deprecated is asked for', shared, async () => {
  const m = submission(PA);
  assert.equal((await register(m)).status, 'Success');
  const old = await query({ name: 'GetDocuments', returnType: 'ObjectRef', params: { [P.documentEntryUniqueId]: { kind: 'strings', values: [m.documentEntries[0]?.uniqueId ?? ''] } } });
  const oldUuid = old.metadata.objectRefs[0]?.id ?? '';
  const n = `${Date.now()}.${++seq}`;
  const replacement = fullDocumentEntry({ entryUUID: 'New01', logicalId: undefined, availabilityStatus: undefined, homeCommunityId: undefined, version: undefined, patientId: PA, uniqueId: `1.2.826.0.1.3680043.10.95.${n}.1` });
  const rplc: XdsMetadata = {
    submissionSets: [{ ...m.submissionSets[0]!, uniqueId: `1.2.826.0.1.3680043.10.95.${n}.2` }],
    documentEntries: [replacement],
    folders: [],
    associations: [
      { entryUUID: 'a1', type: ASSOCIATION_TYPE.hasMember, sourceUUID: 'SubmissionSet01', targetUUID: 'New01', submissionSetStatus: 'Original', extraSlots: [] },
      { entryUUID: 'a2', type: ASSOCIATION_TYPE.replace, sourceUUID: 'New01', targetUUID: oldUuid, extraSlots: [] },
    ],
    objectRefs: [],
  };
  assert.equal((await register(rplc)).status, 'Success');
  const byStatus = async (status: string) =>
    (await query({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: PA }, [P.documentEntryStatus]: { kind: 'strings', values: [status] } } })).metadata.documentEntries.map((d) => d.uniqueId);
  assert.ok(!(await byStatus(AVAILABILITY_STATUS.approved)).includes(m.documentEntries[0]?.uniqueId ?? ''));
  assert.ok((await byStatus(AVAILABILITY_STATUS.approved)).includes(replacement.uniqueId));
  assert.deepEqual(await byStatus(AVAILABILITY_STATUS.deprecated), [m.documentEntries[0]?.uniqueId]);
});

test('A-PNR-06: after ITI-41, GetDocuments returns the entry with repositoryUniqueId, hash and size filled by the repository', shared, async () => {
  assert.equal((await registryAnswer(await post(`${net.baseUrl}/xds/repository`, nistPnrBody(), NIST_PNR_CONTENT_TYPE))).status, 'Success');
  const res = await query({ name: 'GetDocuments', params: { [P.documentEntryUniqueId]: { kind: 'strings', values: [NIST_DOC_UNIQUE_ID] } } });
  const de = res.metadata.documentEntries[0];
  assert.ok(de);
  assert.equal(de.hash, NIST_DOCUMENT_SHA1);
  assert.equal(de.size, 36);
  assert.equal(de.repositoryUniqueId, net.network.identity.oids.repositoryUniqueId);
});

test('the NIST FindDocuments envelope payload also works inside a fresh envelope (namespace-agnostic)', shared, async () => {
  const res = await raw(soapRequest(REGISTRY_STORED_QUERY_ACTION, payloadOf(sample('nist-iti18-finddocuments.soap.xml').toString('utf8'))));
  assert.equal(res.status, 'Success');
});

test('GetAll: the patient\'s SubmissionSets, Folders, DocumentEntries and the associations between them', shared, async () => {
  const res = await query({
    name: 'GetAll',
    params: { [P.patientId]: { kind: 'string', value: PB }, [P.documentEntryStatus]: approved, [P.submissionSetStatus]: approved, [P.folderStatus]: approved },
  });
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.equal(res.metadata.submissionSets.length, 1);
  assert.equal(res.metadata.folders.length, 1);
  assert.equal(res.metadata.documentEntries.length, 2);
  assert.equal(res.metadata.associations.length, 5);
});
