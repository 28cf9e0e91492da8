import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type MetadataDb } from '../../storage/db/open.ts';
import { EdgeIndex, type InstanceIndexRecord, type StoredObject } from './edge-index.ts';

// The SQLite fast path (prepared statements) and the portable kysely path (PostgreSQL's) must agree:
// every case runs on both.
const variants: Array<{ name: string; make: (m: MetadataDb) => { index: EdgeIndex; record: EdgeIndex['recordInstance'] } }> = [
  {
    name: 'sqlite prepared statements',
    make: (m) => {
      const index = new EdgeIndex(m.db, m.sqlite);
      return { index, record: (rec, obj) => index.recordInstance(rec, obj) };
    },
  },
  {
    name: 'kysely (portable)',
    make: (m) => {
      const index = new EdgeIndex(m.db);
      return { index, record: (rec, obj) => index.recordWithKysely(rec, obj) };
    },
  },
];

function record(over: Partial<InstanceIndexRecord> = {}): InstanceIndexRecord {
  return {
    patientId: 'P1',
    issuerOfPatientId: null,
    patientName: 'Doe^Jane',
    patientBirthDate: '19700101',
    patientSex: 'F',
    studyInstanceUid: '1.2.3',
    studyDate: '20260101',
    studyTime: '101010',
    accessionNumber: 'A1',
    studyDescription: 'CT chest',
    referringPhysicianName: null,
    studyId: '1',
    specificCharacterSet: null,
    seriesInstanceUid: '1.2.3.1',
    modality: 'CT',
    seriesNumber: 1,
    seriesDescription: 'axial',
    bodyPartExamined: 'CHEST',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    sopInstanceUid: '1.2.3.1.1',
    instanceNumber: 1,
    numberOfFrames: null,
    ...over,
  };
}

function stored(key: string): StoredObject {
  return { blobKey: key.padEnd(64, '0'), sizeBytes: 100, transferSyntaxUid: '1.2.840.10008.1.2.1', callingAet: 'MODALITY' };
}

async function withIndex(variant: (typeof variants)[number], run: (ix: ReturnType<(typeof variants)[number]['make']>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-index-'));
  const m = await openDatabase({ dataDir: dir });
  try {
    await run(variant.make(m));
  } finally {
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const variant of variants) {
  test(`edge index (${variant.name}): counts instances, series and modalities per study`, async () => {
    await withIndex(variant, async ({ index, record: rec }) => {
      assert.deepEqual(await rec(record(), stored('a')), { kind: 'stored' });
      assert.deepEqual(await rec(record({ sopInstanceUid: '1.2.3.1.2', instanceNumber: 2 }), stored('b')), { kind: 'stored' });
      assert.deepEqual(await rec(record({ seriesInstanceUid: '1.2.3.2', modality: 'SR', sopInstanceUid: '1.2.3.2.1' }), stored('c')), { kind: 'stored' });
      const study = await index.getStudy('1.2.3');
      assert.equal(study?.numberOfInstances, 3);
      assert.equal(study?.numberOfSeries, 2);
      assert.deepEqual(study?.modalities, ['CT', 'SR']);
      assert.equal(study?.patientName, 'Doe^Jane');
      assert.equal((await index.listInstances('1.2.3')).length, 3);
    });
  });

  test(`edge index (${variant.name}): the same SOP Instance UID is kept once, first copy wins`, async () => {
    await withIndex(variant, async ({ index, record: rec }) => {
      await rec(record(), stored('a'));
      assert.deepEqual(await rec(record(), stored('a')), { kind: 'duplicate', sameBytes: true, keptBlobKey: stored('a').blobKey });
      assert.deepEqual(await rec(record(), stored('b')), { kind: 'duplicate', sameBytes: false, keptBlobKey: stored('a').blobKey });
      assert.equal((await index.getStudy('1.2.3'))?.numberOfInstances, 1);
      assert.equal(await index.countInstances(), 1);
    });
  });

  test(`edge index (${variant.name}): later instances fill study attributes the first lacked, never overwrite`, async () => {
    await withIndex(variant, async ({ index, record: rec }) => {
      await rec(record({ patientName: null, accessionNumber: null, studyDescription: null }), stored('a'));
      await rec(record({ sopInstanceUid: '1.2.3.1.2', patientName: 'Doe^Jane', accessionNumber: 'A1', studyDescription: 'first' }), stored('b'));
      await rec(record({ sopInstanceUid: '1.2.3.1.3', patientName: 'Other^Name', accessionNumber: 'A2', studyDescription: 'second' }), stored('c'));
      // A new series of the same study fills gaps too.
      await rec(record({ seriesInstanceUid: '1.2.3.9', sopInstanceUid: '1.2.3.9.1', patientName: 'X^Y', studyDate: '19990101' }), stored('d'));
      const study = await index.getStudy('1.2.3');
      assert.equal(study?.patientName, 'Doe^Jane');
      assert.equal(study?.accessionNumber, 'A1');
      assert.equal(study?.studyDescription, 'first');
      assert.equal(study?.studyDate, '20260101');
      assert.equal(study?.numberOfInstances, 4);
      assert.equal(study?.numberOfSeries, 2);
    });
  });
}

test('edge index (sqlite prepared statements): an instance recorded while a kysely transaction is open waits for it, and survives its rollback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-index-'));
  const m = await openDatabase({ dataDir: dir });
  try {
    const index = new EdgeIndex(m.db, m.sqlite);
    let recorded: Promise<unknown> | undefined;
    await assert.rejects(
      m.db.transaction().execute(async (tx) => {
        await tx.insertInto('edge_series').values({ series_uid: '9.9', study_uid: '9', modality: 'MR', series_number: 1, series_description: null, body_part: null, num_instances: 0 }).execute();
        recorded = index.recordInstance(record(), stored('a'));
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.deepEqual(await recorded, { kind: 'stored' });
    const study = await index.getStudy('1.2.3');
    assert.equal(study?.numberOfInstances, 1);
    assert.equal((await m.db.selectFrom('edge_series').select('series_uid').where('series_uid', '=', '9.9').execute()).length, 0);
  } finally {
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
