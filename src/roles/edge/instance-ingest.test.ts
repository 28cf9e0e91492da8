// InstanceIngest on a real SQLite index and blob store (with its intake journal): stored, duplicate,
// and a duplicate whose first copy's bytes were lost, which the new copy replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { openDatabase } from '../../storage/db/open.ts';
import { FsBlobStore } from '../../storage/blob/fs-blob-store.ts';
import { encodeElement, EXPLICIT_LITTLE } from '../../lib/dicom/element-writer.ts';
import { Status } from '../../lib/dimse/status.ts';
import { createLogger } from '../../util/log.ts';
import { EdgeIndex } from './edge-index.ts';
import { InstanceIngest } from './instance-ingest.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

function dataset(sopInstanceUid: string, pixelByte: number): Buffer {
  const e = (tag: number, vr: Parameters<typeof encodeElement>[1], value: string | Uint8Array) => encodeElement(tag, vr, value, EXPLICIT_LITTLE);
  return Buffer.concat([
    e(0x00080016, 'UI', CT),
    e(0x00080018, 'UI', sopInstanceUid),
    e(0x00080060, 'CS', 'CT'),
    e(0x00100010, 'PN', 'Doe^Jane'),
    e(0x00100020, 'LO', 'P1'),
    e(0x0020000d, 'UI', '1.2.3.4'),
    e(0x0020000e, 'UI', '1.2.3.4.5'),
    e(0x7fe00010, 'OB', Buffer.alloc(300_000, pixelByte)),
  ]);
}

test('an instance is stored and indexed; sent again it is a duplicate; if its first copy was lost, the new copy replaces it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
  const db = await openDatabase({ dataDir: dir });
  const blobs = new FsBlobStore({ dir: join(dir, 'blobs'), journalBytes: 32 * 1024 * 1024 });
  try {
    const index = new EdgeIndex(db.db, db.sqlite);
    const ingest = new InstanceIngest(blobs, index, createLogger('silent'));
    const request = { sopClassUid: CT, sopInstanceUid: '1.2.3.4.5.6', transferSyntaxUid: EXPLICIT_LE, callingAet: 'MODALITY', source: 'test' };
    const bytes = dataset('1.2.3.4.5.6', 1);
    const send = (b: Buffer) => ingest.ingest(request, Readable.from([b.subarray(0, 1000), b.subarray(1000)]));
    const keyOf = async () => (await db.db.selectFrom('edge_instance').select('blob_key').where('sop_instance_uid', '=', request.sopInstanceUid).executeTakeFirstOrThrow()).blob_key;

    const first = await send(bytes);
    assert.equal(first.status, Status.Success);
    assert.equal(first.outcome, 'stored');
    const key = await keyOf();
    assert.deepEqual(await buffer(blobs.openRead(key)), bytes);

    assert.equal((await send(bytes)).outcome, 'duplicate');

    // The row stays, its bytes go (as after a failed flush): the next copy takes their place.
    await blobs.delete(key);
    const again = await send(dataset('1.2.3.4.5.6', 2));
    assert.equal(again.status, Status.Success);
    assert.equal(again.outcome, 'stored');
    const replaced = await keyOf();
    assert.notEqual(replaced, key);
    assert.deepEqual(await buffer(blobs.openRead(replaced)), dataset('1.2.3.4.5.6', 2));
    assert.equal(await index.countInstances(), 1);
  } finally {
    await blobs.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
