import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from './open.ts';

test('the SQLite database is created and migrated at open, and reopening is idempotent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-'));
  try {
    const first = await openDatabase({ dataDir: dir });
    await first.db
      .insertInto('staff_user')
      .values({ id: 'u1', username: 'alice', password_hash: 'x', role: 'admin', created_at: new Date().toISOString(), locked_until: null })
      .execute();
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    const rows = await second.db.selectFrom('staff_user').select(['username', 'failed_logins', 'disabled']).execute();
    assert.deepEqual(rows, [{ username: 'alice', failed_logins: 0, disabled: 0 }]);
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown database URL scheme is refused with a clear message', async () => {
  await assert.rejects(openDatabase({ dataDir: '/tmp', url: 'mysql://x' }), /must start with sqlite: or postgres/);
});
