import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { FsBlobStore } from './fs-blob-store.ts';
import { blobKeyOf, createBlobHasher } from './blob-store.ts';

function tempStore(): { store: FsBlobStore; dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
  return { store: new FsBlobStore({ dir }), dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('the content address is BLAKE3-256 in lowercase hex (published test vectors)', () => {
  assert.equal(blobKeyOf(Buffer.alloc(0)), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  assert.equal(blobKeyOf(Buffer.from('abc')), '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  assert.equal(blobKeyOf([Buffer.from('a'), Buffer.from('bc')]), blobKeyOf(Buffer.from('abc')));
});

test('a blob is stored under the BLAKE3 of its bytes and read back identically', async () => {
  const { store, done } = tempStore();
  try {
    const bytes = Buffer.from('hello blob store');
    const ref = await store.put(bytes);
    assert.equal(ref.key, blobKeyOf(bytes));
    assert.equal(ref.size, bytes.length);
    assert.equal(ref.alreadyStored, false);
    assert.equal(await text(store.openRead(ref.key)), 'hello blob store');
    assert.equal(await text(store.openRead(ref.key, { start: 6, end: 9 })), 'blob');
    assert.deepEqual(await store.readHead(ref.key, 5), Buffer.from('hello'));
  } finally {
    done();
  }
});

test('identical bytes are stored once', async () => {
  const { store, dir, done } = tempStore();
  try {
    const bytes = randomBytes(100_000);
    const a = await store.put(bytes);
    const b = await store.put(Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]));
    assert.equal(a.key, b.key);
    assert.equal(b.alreadyStored, true);
    await store.close(); // removes this process's temporary folder
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  } finally {
    done();
  }
});

test('a large stream is written in chunks and hashed correctly', async () => {
  const { store, done } = tempStore();
  try {
    const chunks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    const expected = createBlobHasher();
    for (const c of chunks) expected.update(c);
    const ref = await store.put(Readable.from(chunks));
    assert.equal(ref.key, expected.digest());
    assert.equal(await store.size(ref.key), 64 * 64 * 1024);
  } finally {
    done();
  }
});

test('an aborted write leaves nothing behind, and leftovers of a crash are removed at open', async () => {
  const { store, dir, done } = tempStore();
  try {
    const w = store.createWriter();
    w.write(randomBytes(1000));
    await new Promise((r) => setTimeout(r, 20));
    await w.abort();
    await store.close();
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    writeFileSync(join(dir, 'tmp', 'stale.tmp'), 'half');
    // A folder of a process that is gone, and one of a process still running (the test runner's parent).
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    mkdirSync(join(dir, 'tmp', `${dead}-0a1b2c`));
    writeFileSync(join(dir, 'tmp', `${dead}-0a1b2c`, '1.tmp'), 'half');
    const live = `${process.ppid}-0d0e0f`;
    mkdirSync(join(dir, 'tmp', live));
    const reopened = new FsBlobStore({ dir });
    // The reopened store sweeps the leftovers (loose files, folders of processes that are gone), keeps
    // the running process's folder and makes one of its own.
    assert.deepEqual(readdirSync(join(dir, 'tmp')).sort(), [basename(reopened.tmpDir), live].sort());
    // Its folder removed under it, it makes it again.
    rmSync(reopened.tmpDir, { recursive: true });
    await reopened.put(Buffer.from('after the folder was removed'));
    await reopened.close();
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [live]);
  } finally {
    done();
  }
});

test('a missing blob is reported as not found', async () => {
  const { store, done } = tempStore();
  try {
    assert.equal(await store.size('0'.repeat(64)), null);
    await assert.rejects(store.readHead('0'.repeat(64), 10), { code: 'BLOB_NOT_FOUND' });
  } finally {
    done();
  }
});

test('objects on both sides of the hash-at-end limit (2 MiB) get the right key', async () => {
  const { store, done } = tempStore();
  try {
    for (const size of [2 * 1024 * 1024 - 1, 2 * 1024 * 1024, 2 * 1024 * 1024 + 1, 5 * 1024 * 1024 + 7]) {
      const bytes = randomBytes(size);
      const chunks: Buffer[] = [];
      for (let at = 0; at < size; at += 40_000) chunks.push(bytes.subarray(at, Math.min(size, at + 40_000)));
      const ref = await store.put(Readable.from(chunks));
      assert.equal(ref.key, blobKeyOf(bytes), `size ${size}`);
      assert.equal(await store.size(ref.key), size);
    }
  } finally {
    done();
  }
});

test('a torn copy under the content address (power loss before its commit) is replaced, not trusted', async () => {
  const { store, done } = tempStore();
  try {
    const bytes = randomBytes(50_000);
    const key = blobKeyOf(bytes);
    writeFileSync(store.localPath(key), Buffer.alloc(bytes.length)); // same size, zeros
    const ref = await store.put(bytes);
    assert.equal(ref.key, key);
    assert.equal(ref.alreadyStored, true);
    assert.deepEqual(await store.readHead(key, bytes.length), bytes);
  } finally {
    done();
  }
});

test('on ext4 the store and temporary folders are marked as tops of directory hierarchies (chattr +T)', async (t) => {
  const { store, dir, done } = tempStore();
  try {
    const fsType = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout?.trim();
    if (process.platform !== 'linux' || fsType !== 'ext2/ext3') {
      t.diagnostic(`filesystem ${fsType ?? 'unknown'}: the placement hint is ext4's, nothing to check`);
      return;
    }
    const attrs = spawnSync('lsattr', ['-d', dir, join(dir, 'tmp')], { encoding: 'utf8' });
    assert.equal(attrs.status, 0, `lsattr (e2fsprogs) failed: ${attrs.stderr}`);
    const lines = attrs.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line.split(' ')[0]!, /T/, line);
    assert.equal(basename(join(store.tmpDir, '..')), 'tmp');
  } finally {
    await store.close();
    done();
  }
});
