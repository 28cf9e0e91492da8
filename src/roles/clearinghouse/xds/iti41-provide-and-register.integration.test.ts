// ITI-41 / RAD-68 at the running network's repository (POST /xds/repository), with the NIST vectors
// (conformance mode: any well-formed patient ID is accepted, as after NIST's patient feed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { requireTools } from '../../../../test-support/system-tools.ts';
import { KOS_FORMAT_CODE } from '../../../lib/xds/index.ts';
import { registerSubmission } from './registry-submission.ts';
import { RepositoryStore } from './repository-store.ts';
import { blobKeyOf } from '../../../storage/blob/blob-store.ts';
import {
  fullDocumentEntry,
  kosEntry,
  NIST_DOC_UNIQUE_ID,
  NIST_DOCUMENT_SHA1,
  NIST_KOS_SOP_INSTANCE_UID,
  NIST_PNR_CONTENT_TYPE,
  NIST_SS_UNIQUE_ID,
  nistPnrBody,
  post,
  provideAndRegisterRequest,
  registryAnswer,
  sample,
  singleDocumentSubmission,
} from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
let net: TestNetwork;
let url: string;

before(async () => {
  net = await startTestNetwork({ 'clearinghouse.openPatientIds': true });
  url = `${net.baseUrl}/xds/repository`;
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const db = () => net.network.db.db;
const count = async (table: 'xds_object' | 'xds_document' | 'xds_association'): Promise<number> =>
  Number((await db().selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const counts = async (): Promise<number[]> => [await count('xds_object'), await count('xds_document'), await count('xds_association')];
let seq = 0;
const fresh = (): { docUniqueId: string; ssUniqueId: string } => {
  seq++;
  return { docUniqueId: `1.2.826.0.1.3680043.10.99.${Date.now()}.${seq}.1`, ssUniqueId: `1.2.826.0.1.3680043.10.99.${Date.now()}.${seq}.2` };
};

test('A-SOAP-03: the NIST ITI-41 MTOM/XOP body → Success, the document is stored with hash, size and repositoryUniqueId', shared, async () => {
  const res = await registryAnswer(await post(url, nistPnrBody(), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  const doc = await db().selectFrom('xds_document').selectAll().where('unique_id', '=', NIST_DOC_UNIQUE_ID).executeTakeFirstOrThrow();
  assert.equal(doc.sha1, NIST_DOCUMENT_SHA1);
  assert.equal(Number(doc.size), 36);
  assert.equal(doc.mime_type, 'text/plain');
  const de = await db().selectFrom('xds_object').selectAll().where('unique_id', '=', NIST_DOC_UNIQUE_ID).executeTakeFirstOrThrow();
  assert.equal(de.hash, NIST_DOCUMENT_SHA1);
  assert.equal(Number(de.size), 36);
  assert.equal(de.repository_unique_id, net.network.identity.oids.repositoryUniqueId);
  assert.match(de.entry_uuid, /^urn:uuid:/);
  assert.ok(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', NIST_SS_UNIQUE_ID).executeTakeFirst());
});

test('replay: the same NIST body again (same SubmissionSet uniqueId, identical content) → Success, nothing new registered', shared, async () => {
  await post(url, nistPnrBody(), NIST_PNR_CONTENT_TYPE); // registered by the test above or here
  const before = await counts();
  const res = await registryAnswer(await post(url, nistPnrBody(), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.deepEqual(await counts(), before);
});

test('same SubmissionSet uniqueId with other content → Failure XDSDuplicateUniqueIdInRegistry, nothing registered', shared, async () => {
  await post(url, nistPnrBody(), NIST_PNR_CONTENT_TYPE);
  const before = await counts();
  const res = await registryAnswer(await post(url, nistPnrBody({ docUniqueId: fresh().docUniqueId }), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Failure');
  assert.ok(res.codes.includes('XDSDuplicateUniqueIdInRegistry'), res.codes.join());
  assert.deepEqual(await counts(), before);
});

test('A-SOAP-04: percent-encoded cid: href → Success', shared, async () => {
  const ids = fresh();
  const body = nistPnrBody(ids).toString('latin1').replace('href="cid:1.b5b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d@apache.org"', 'href="cid:1.b5b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d%40apache.org"');
  const res = await registryAnswer(await post(url, Buffer.from(body, 'latin1'), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
});

test('A-SOAP-05: inline base64 document inside the XOP package → Success, stored bytes are the decoded content', shared, async () => {
  const ids = fresh();
  const content = Buffer.from('inline document of this test, 38 byt.');
  const text = nistPnrBody(ids).toString('latin1');
  const body = text.replace(/<xop:Include[^>]*\/>/, content.toString('base64'));
  const res = await registryAnswer(await post(url, Buffer.from(body, 'latin1'), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  const doc = await db().selectFrom('xds_document').selectAll().where('unique_id', '=', ids.docUniqueId).executeTakeFirstOrThrow();
  assert.equal(Number(doc.size), content.length);
  assert.equal(doc.sha1, createHash('sha1').update(content).digest('hex'));
});

test('A-PNR-01: metadata hash ≠ SHA-1 of the document (…feb69, 123e2) → Failure XDSRepositoryMetadataError, nothing registered', shared, async () => {
  for (const hash of ['e543712c0e10501972de13a5bfcbe826c49feb69', '123e2']) {
    const before = await counts();
    const res = await registryAnswer(await post(url, nistPnrBody({ ...fresh(), slots: { hash } }), NIST_PNR_CONTENT_TYPE));
    assert.equal(res.status, 'Failure', hash);
    assert.deepEqual(res.codes, ['XDSRepositoryMetadataError'], hash);
    assert.deepEqual(await counts(), before);
  }
});

test('A-PNR-02: metadata size ≠ byte length (37, 214) → Failure XDSRepositoryMetadataError', shared, async () => {
  for (const size of ['37', '214']) {
    const res = await registryAnswer(await post(url, nistPnrBody({ ...fresh(), slots: { size } }), NIST_PNR_CONTENT_TYPE));
    assert.equal(res.status, 'Failure', size);
    assert.deepEqual(res.codes, ['XDSRepositoryMetadataError'], size);
  }
});

test('A-PNR-03: the correct hash in upper case with size 36 → Success', shared, async () => {
  const res = await registryAnswer(await post(url, nistPnrBody({ ...fresh(), slots: { hash: NIST_DOCUMENT_SHA1.toUpperCase(), size: '36' } }), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
});

test('a failed ITI-41 removes the bytes it stored (content unique to the request)', shared, async () => {
  const content = Buffer.from(`unique content ${Date.now()} ${Math.random()}`);
  const key = blobKeyOf(content);
  const ids = fresh();
  const de = fullDocumentEntry({ uniqueId: ids.docUniqueId, hash: '0000000000000000000000000000000000000000', size: undefined, repositoryUniqueId: undefined, mimeType: 'text/plain' });
  const req = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: ids.ssUniqueId }), [{ entryId: de.entryUUID, mimeType: 'text/plain', content }]);
  const res = await registryAnswer(await post(url, req.body, req.contentType));
  assert.equal(res.status, 'Failure');
  assert.equal(await net.network.blobs.size(key), null);
});

test('A-PNR-07: a registry error reaches the source unchanged (DocumentEntry patient ≠ SubmissionSet patient → XDSPatientIdDoesNotMatch)', shared, async () => {
  const text = nistPnrBody(fresh()).toString('latin1');
  const body = text.replace('value="SR7^^^&amp;1.2.260&amp;ISO"', 'value="OTHER7^^^&amp;1.2.260&amp;ISO"');
  const res = await registryAnswer(await post(url, Buffer.from(body, 'latin1'), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Failure');
  assert.ok(res.codes.includes('XDSPatientIdDoesNotMatch'), res.codes.join());
});

test('idempotency: the same document uniqueId with the same bytes in a new submission → Success, one DocumentEntry and one stored document', shared, async () => {
  const first = fresh();
  assert.equal((await registryAnswer(await post(url, nistPnrBody(first), NIST_PNR_CONTENT_TYPE))).status, 'Success');
  const again = { docUniqueId: first.docUniqueId, ssUniqueId: fresh().ssUniqueId };
  const res = await registryAnswer(await post(url, nistPnrBody(again), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.equal((await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', first.docUniqueId).execute()).length, 1);
  assert.equal((await db().selectFrom('xds_document').select('unique_id').where('unique_id', '=', first.docUniqueId).execute()).length, 1);
  // both SubmissionSets link the one entry
  const de = await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', first.docUniqueId).executeTakeFirstOrThrow();
  assert.equal((await db().selectFrom('xds_association').select('entry_uuid').where('target_uuid', '=', de.entry_uuid).execute()).length, 2);
});

test('A-PNR-13: the same document uniqueId with other bytes → Failure XDSNonIdenticalHash, nothing registered', shared, async () => {
  const first = fresh();
  assert.equal((await registryAnswer(await post(url, nistPnrBody(first), NIST_PNR_CONTENT_TYPE))).status, 'Success');
  const de = fullDocumentEntry({ uniqueId: first.docUniqueId, hash: undefined, size: undefined, repositoryUniqueId: undefined, mimeType: 'text/plain' });
  const req = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: fresh().ssUniqueId }), [{ entryId: de.entryUUID, mimeType: 'text/plain', content: Buffer.from('different bytes') }]);
  const before = await counts();
  const res = await registryAnswer(await post(url, req.body, req.contentType));
  assert.equal(res.status, 'Failure');
  assert.deepEqual(res.codes, ['XDSNonIdenticalHash']);
  assert.deepEqual(await counts(), before);
});

test('A-PNR-04 / A-PNR-05 at the repository: DocumentEntry without document → XDSMissingDocument; document without entry → XDSMissingDocumentMetadata', shared, async () => {
  const ids = fresh();
  const de = fullDocumentEntry({ uniqueId: ids.docUniqueId, hash: undefined, size: undefined, repositoryUniqueId: undefined });
  const noDoc = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: ids.ssUniqueId }), []);
  assert.deepEqual((await registryAnswer(await post(url, noDoc.body, noDoc.contentType))).codes, ['XDSMissingDocument']);
  const extra = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: ids.ssUniqueId }), [
    { entryId: de.entryUUID, mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 a') },
    { entryId: 'NoSuchEntry', mimeType: 'text/plain', content: Buffer.from('orphan') },
  ]);
  assert.deepEqual((await registryAnswer(await post(url, extra.body, extra.contentType))).codes, ['XDSMissingDocumentMetadata']);
});

test('atomicity: a failure inside the registration transaction leaves nothing registered', shared, async () => {
  const ids = fresh();
  const de = fullDocumentEntry({ uniqueId: ids.docUniqueId, hash: undefined, size: undefined, repositoryUniqueId: undefined, mimeType: 'text/plain' });
  const metadata = singleDocumentSubmission(de, { uniqueId: ids.ssUniqueId });
  const failing = new RepositoryStore(db(), net.network.blobs, net.network.identity.oids.repositoryUniqueId);
  failing.insertDocuments = async () => {
    throw new Error('disk full (simulated)');
  };
  const blob = { key: 'a'.repeat(64), size: 36, sha1: NIST_DOCUMENT_SHA1, contentType: 'text/plain', alreadyStored: true };
  const before = await counts();
  await assert.rejects(
    registerSubmission({ db: db(), registry: net.network.clearinghouse.xds.registry, repository: failing }, { transaction: 'ITI-41', metadata, problems: [], documents: new Map([[de.entryUUID, blob]]) }),
    /disk full/,
  );
  assert.deepEqual(await counts(), before);
  assert.equal(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', 'in', [ids.docUniqueId, ids.ssUniqueId]).executeTakeFirst(), undefined);
});

test('RAD-68: the NIST KOS (images held by another Imaging Document Source) is accepted as a manifest', shared, async () => {
  const kos = sample('nist-kos-ids4801.dcm');
  const de = kosEntry(NIST_KOS_SOP_INSTANCE_UID, 'IDS-DEPT001-a^^^&1.3.6.1.4.1.21367.13.20.1000&ISO');
  const req = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: fresh().ssUniqueId }), [{ entryId: de.entryUUID, mimeType: 'application/dicom', content: kos }]);
  const res = await registryAnswer(await post(url, req.body, req.contentType));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  const row = await db().selectFrom('xds_object').selectAll().where('unique_id', '=', NIST_KOS_SOP_INSTANCE_UID).executeTakeFirstOrThrow();
  assert.equal(row.format_code, `${KOS_FORMAT_CODE.code}^^${KOS_FORMAT_CODE.scheme}`);
  assert.equal(Number(row.size), kos.length);
});
