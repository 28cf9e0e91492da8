import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../../storage/db/open.ts';
import { ReleaseStore, type Release } from './release-store.ts';

async function withStore(fn: (store: ReleaseStore) => Promise<void>): Promise<void> {
  const db = await openDatabase({ url: 'sqlite::memory:', dataDir: '/nonexistent' });
  try {
    await fn(new ReleaseStore(db.db));
  } finally {
    await db.close();
  }
}

function release(id: string, study: string): Release {
  return {
    release_id: id,
    study_uid: study,
    site_patient_id: 'MRN1',
    site_issuer: null,
    access_code: 'CODE',
    birth_date: '19700312',
    registry_patient_id: 'x^^^&1.2&ISO',
    kos_series_uid: '2.25.1',
    kos_sop_instance_uid: '2.25.2',
    submission_set_uid: '2.25.3',
    created_at: new Date().toISOString(),
    created_by: 'test',
  };
}

test('release store: a site patient keeps their first access code', () =>
  withStore(async (store) => {
    assert.equal(await store.accessCodeFor('|MRN1', 'FIRST'), 'FIRST');
    assert.equal(await store.accessCodeFor('|MRN1', 'SECOND'), 'FIRST');
    assert.equal(await store.accessCodeFor('HOSP|MRN1', 'THIRD'), 'THIRD', 'another issuer is another patient');
  }));

test('release store: one release per study, status rows appended in order, unfinished jobs listed', () =>
  withStore(async (store) => {
    const first = await store.create(release('r1', '1.2.3'));
    assert.equal(first.created, true);
    const again = await store.create(release('r2', '1.2.3'));
    assert.equal(again.created, false);
    assert.equal(again.release.release_id, 'r1');
    await store.appendStatus('r1', 'sending-images', 1);
    await store.appendStatus('r1', 'failed', 1, 'boom');
    assert.deepEqual((await store.history('r1')).map((h) => [h.seq, h.status, h.attempts, h.error]), [
      [1, 'queued', 0, null],
      [2, 'sending-images', 1, null],
      [3, 'failed', 1, 'boom'],
    ]);
    assert.deepEqual((await store.unfinished()).map((r) => r.release_id), ['r1']);
    await store.appendStatus('r1', 'manifest-registered', 2);
    assert.deepEqual(await store.unfinished(), []);
  }));

test('release store: confirmed instances are remembered per destination', () =>
  withStore(async (store) => {
    await store.recordConfirmed('https://hub', 'r1', ['1.1', '1.2']);
    await store.recordConfirmed('https://hub', 'r1', ['1.2', '1.3']);
    assert.deepEqual([...(await store.confirmedInstances('https://hub', ['1.1', '1.2', '1.3', '1.4']))].sort(), ['1.1', '1.2', '1.3']);
    assert.equal((await store.confirmedInstances('https://other', ['1.1'])).size, 0);
  }));
