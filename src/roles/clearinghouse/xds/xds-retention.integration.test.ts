// Retention of the registry + repository: entries, documents and bytes older than
// clearinghouse.retentionDays go together; bytes still referenced elsewhere stay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { blobKeyOf } from '../../../storage/blob/blob-store.ts';
import { fullDocumentEntry, post, provideAndRegisterRequest, registryAnswer, singleDocumentSubmission } from './xds-test-support.ts';

let net: TestNetwork;
const DAY = 86_400_000;

before(async () => {
  net = await startTestNetwork({ 'clearinghouse.openPatientIds': true, 'clearinghouse.retentionDays': 1 });
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const db = () => net.network.db.db;
let seq = 0;

/** Submits one text document; returns its uniqueId and blob key. */
async function submit(content: Buffer): Promise<{ uniqueId: string; key: string }> {
  const n = `${Date.now()}.${++seq}`;
  const url = `${net.baseUrl}/xds/repository`;
  const de = fullDocumentEntry({ uniqueId: `1.2.826.0.1.3680043.10.93.${n}.1`, hash: undefined, size: undefined, repositoryUniqueId: undefined, mimeType: 'text/plain' });
  const req = await provideAndRegisterRequest(url, singleDocumentSubmission(de, { uniqueId: `1.2.826.0.1.3680043.10.93.${n}.2` }), [{ entryId: de.entryUUID, mimeType: 'text/plain', content }]);
  const res = await registryAnswer(await post(url, req.body, req.contentType));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  return { uniqueId: de.uniqueId, key: blobKeyOf(content) };
}

test('retention: entries, documents and unreferenced bytes older than retentionDays are deleted together; newer ones stay', async () => {
  const old = await submit(Buffer.from(`old ${Math.random()}`));
  const purgedNow = await net.network.clearinghouse.xds.purgeExpired(new Date());
  assert.equal(purgedNow.objects, 0, 'nothing is older than a day yet');
  const result = await net.network.clearinghouse.xds.purgeExpired(new Date(Date.now() + 2 * DAY));
  assert.ok(result.objects >= 2 && result.documents >= 1 && result.blobs >= 1, JSON.stringify(result));
  assert.equal(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', old.uniqueId).executeTakeFirst(), undefined);
  assert.equal(await db().selectFrom('xds_document').select('unique_id').where('unique_id', '=', old.uniqueId).executeTakeFirst(), undefined);
  assert.equal(await net.network.blobs.size(old.key), null);
  assert.equal((await db().selectFrom('xds_association').select('entry_uuid').execute()).length, 0);
  assert.equal((await db().selectFrom('xds_object_code').select('entry_uuid').execute()).length, 0);
});

test('retention: bytes shared with a newer document, or used by the image store, are kept', async () => {
  const content = Buffer.from(`shared ${Math.random()}`);
  const older = await submit(content);
  const imageBytes = Buffer.from(`image ${Math.random()}`);
  const imageDoc = await submit(imageBytes);
  // the older ones are backdated; a newer document has the same bytes as `older`
  const backdate = new Date(Date.now() - 3 * DAY).toISOString();
  await db().updateTable('xds_object').set({ created_at: backdate }).execute();
  await db().updateTable('xds_association').set({ created_at: backdate }).execute();
  await db().updateTable('xds_document').set({ created_at: backdate }).execute();
  const newer = await submit(content);
  await db()
    .insertInto('clearinghouse_instance')
    .values({ sop_instance_uid: `1.2.3.${Date.now()}`, study_uid: '1.2.3', series_uid: '1.2.3.1', sop_class_uid: '1.2.840.10008.5.1.4.1.1.7', transfer_syntax_uid: '1.2.840.10008.1.2.1', patient_id: null, issuer_of_patient_id: null, blob_key: imageDoc.key, size_bytes: imageBytes.length, received_at: new Date().toISOString(), stored_by: 'staff:test' })
    .execute();
  await net.network.clearinghouse.xds.purgeExpired(new Date());
  assert.equal(await db().selectFrom('xds_document').select('unique_id').where('unique_id', '=', older.uniqueId).executeTakeFirst(), undefined);
  assert.ok(await db().selectFrom('xds_document').select('unique_id').where('unique_id', '=', newer.uniqueId).executeTakeFirst());
  assert.equal(await net.network.blobs.size(older.key), content.length, 'still referenced by the newer document');
  assert.equal(await net.network.blobs.size(imageDoc.key), imageBytes.length, 'still referenced by the image store');
});

test('retention: retentionDays 0 keeps everything', async () => {
  const net0 = await startTestNetwork({ 'clearinghouse.openPatientIds': true, 'clearinghouse.retentionDays': 0 });
  try {
    const r = await net0.network.clearinghouse.xds.purgeExpired(new Date(Date.now() + 10_000 * DAY));
    assert.deepEqual(r, { objects: 0, associations: 0, documents: 0, blobs: 0 });
  } finally {
    await net0.network.audit.flush(2000);
    await net0.stop();
  }
});
