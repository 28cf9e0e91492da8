// The blob store's intake journal, through the store: objects are readable while only in the journal,
// copied into their own files when the store is idle, found again after a crash, and segments are
// reused without bringing back what was there before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FsBlobStore } from './fs-blob-store.ts';
import { blobKeyOf } from './blob-store.ts';

const MiB = 1024 * 1024;
const projectRoot = new URL('../../..', import.meta.url).pathname;

/** Deterministic bytes, as plain JavaScript source so that a child process makes the same ones. */
const BYTES_OF_SOURCE = `function bytesOf(seed, size) {
  return size === 0 ? Buffer.alloc(0) : Buffer.alloc(size, createHash('sha256').update(String(seed)).digest().subarray(0, 31));
}`;
const bytesOf = new Function('Buffer', 'createHash', `${BYTES_OF_SOURCE}; return bytesOf;`)(Buffer, createHash) as (seed: number, size: number) => Buffer;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'blob-journal-'));
}

/** Runs `fn` on a store with a 32 MiB journal in a new folder, then closes it and removes the folder. */
async function withJournalStore(fn: (store: FsBlobStore) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a journaled object is read back before and after it is copied into its own file', () =>
  withJournalStore(async (store) => {
    const objects = [bytesOf(1, 525 * 1024), bytesOf(2, 10), bytesOf(3, 0), bytesOf(4, 2 * MiB)];
    const refs: Array<{ key: string }> = [];
    for (const o of objects) refs.push(await store.put(Readable.from([o.subarray(0, 1000), o.subarray(1000)])));
    assert.equal(store.journaledCount, objects.length);
    for (const [i, o] of objects.entries()) {
      const key = refs[i]!.key;
      assert.equal(key, blobKeyOf(o));
      assert.equal(existsSync(store.localPath(key)), false, 'not in its own file yet');
      assert.deepEqual(await buffer(store.openRead(key)), o);
      assert.equal(await store.size(key), o.length);
      assert.deepEqual(await store.readHead(key, 64), o.subarray(0, 64));
    }
    assert.deepEqual(await buffer(store.openRead(refs[0]!.key, { start: 100, end: 199 })), objects[0]!.subarray(100, 200));
    await store.settle({ now: true });
    assert.equal(store.journaledCount, 0);
    for (const [i, o] of objects.entries()) {
      assert.deepEqual(readFileSync(store.localPath(refs[i]!.key)), o);
      assert.deepEqual(await buffer(store.openRead(refs[i]!.key)), o);
    }
  }));

test('a journaled object is readable when its commit resolves, before its fdatasync is done', () =>
  withJournalStore(async (store) => {
    const bytes = bytesOf(9, 200_000);
    const writer = store.createWriter();
    await new Promise<void>((resolve, reject) => writer.end(bytes, (err?: Error | null) => (err ? reject(err) : resolve())));
    const { key, durable, alreadyStored } = await writer.commit();
    assert.equal(alreadyStored, false);
    assert.deepEqual(await buffer(store.openRead(key)), bytes);
    await durable;
    assert.equal(store.journaledCount, 1);
  }));

test('the journal is copied out on its own once no object arrived for a moment', () =>
  withJournalStore(async (store) => {
    const ref = await store.put(bytesOf(5, 300_000));
    assert.equal(store.journaledCount, 1);
    await waitFor(() => store.journaledCount === 0);
    assert.deepEqual(readFileSync(store.localPath(ref.key)), bytesOf(5, 300_000));
  }));

test('identical bytes are journaled once; an object larger than 2 MiB goes to its own file directly', () =>
  withJournalStore(async (store) => {
    const a = await store.put(bytesOf(6, 100_000));
    const b = await store.put(bytesOf(6, 100_000));
    assert.equal(a.key, b.key);
    assert.equal(b.alreadyStored, true);
    assert.equal(store.journaledCount, 1);
    const big = bytesOf(7, 3 * MiB + 17);
    const chunks = [];
    for (let off = 0; off < big.length; off += 64 * 1024) chunks.push(big.subarray(off, off + 64 * 1024));
    const c = await store.put(Readable.from(chunks));
    assert.equal(c.key, blobKeyOf(big));
    assert.deepEqual(readFileSync(store.localPath(c.key)), big);
    assert.equal(store.journaledCount, 1, 'the large object is not in the journal');
    // The space the large object started in is used by the next one.
    const d = await store.put(bytesOf(8, 1000));
    assert.equal(store.journaledCount, 2);
    assert.deepEqual(await buffer(store.openRead(d.key)), bytesOf(8, 1000));
  }));

test('acknowledged objects survive a crash (SIGKILL) in the journal and are copied out after the restart', async () => {
  const dir = tempDir();
  const script = join(dir, 'writer.mts');
  writeFileSync(
    script,
    `import { FsBlobStore } from ${JSON.stringify(join(projectRoot, 'src/storage/blob/fs-blob-store.ts'))};
import { createHash } from 'node:crypto';
${BYTES_OF_SOURCE}
const store = new FsBlobStore({ dir: ${JSON.stringify(join(dir, 'blobs'))}, journalBytes: 32 * 1024 * 1024 });
const keys = [];
for (let i = 0; i < 30; i++) keys.push((await store.put(bytesOf(100 + i, 200_000 + i))).key);
process.stdout.write(JSON.stringify(keys));
process.kill(process.pid, 'SIGKILL');
`,
  );
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: projectRoot, encoding: 'utf8' });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const keys = JSON.parse(child.stdout) as string[];
  assert.equal(keys.length, 30);
  const store = new FsBlobStore({ dir: join(dir, 'blobs'), journalBytes: 32 * MiB });
  try {
    assert.equal(store.journaledCount, 30);
    for (const [i, key] of keys.entries()) assert.deepEqual(await buffer(store.openRead(key)), bytesOf(100 + i, 200_000 + i));
    await store.settle({ now: true });
    for (const [i, key] of keys.entries()) assert.deepEqual(readFileSync(store.localPath(key)), bytesOf(100 + i, 200_000 + i));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full journal sends objects to their own files; freed segments are reused without bringing back old or deleted objects', async () => {
  const dir = tempDir();
  let store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
  try {
    const first = [];
    for (let i = 0; i < 40; i++) first.push(await store.put(bytesOf(200 + i, MiB)));
    const journaledAtFirst = store.journaledCount;
    assert.ok(journaledAtFirst > 10 && journaledAtFirst < 40, `some journaled, the rest direct (${journaledAtFirst})`);
    for (const [i, ref] of first.entries()) assert.deepEqual(await buffer(store.openRead(ref.key)), bytesOf(200 + i, MiB));
    await store.settle({ now: true });
    assert.equal(store.journaledCount, 0);

    // A second use of the segments: fewer records than before, one of them deleted.
    const second = [];
    for (let i = 0; i < 3; i++) second.push(await store.put(bytesOf(300 + i, 4000)));
    await store.delete(second[1]!.key);
    assert.equal(await store.size(second[1]!.key), null);
    assert.equal(store.journaledCount, 2);
    await store.close();

    store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
    assert.equal(store.journaledCount, 2, 'only the second use of the segment is read back');
    assert.deepEqual(await buffer(store.openRead(second[0]!.key)), bytesOf(300, 4000));
    assert.deepEqual(await buffer(store.openRead(second[2]!.key)), bytesOf(302, 4000));
    assert.equal(await store.size(second[1]!.key), null);
    for (const [i, ref] of first.entries()) assert.deepEqual(readFileSync(store.localPath(ref.key)), bytesOf(200 + i, MiB));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal of another size, or none, still gives back what the old one held', async () => {
  const dir = tempDir();
  let store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
  try {
    const ref = await store.put(bytesOf(400, 50_000));
    await store.close();
    store = new FsBlobStore({ dir, journalBytes: 0 });
    assert.equal(store.journaledCount, 1);
    assert.deepEqual(await buffer(store.openRead(ref.key)), bytesOf(400, 50_000));
    const direct = await store.put(bytesOf(401, 1000));
    assert.ok(existsSync(store.localPath(direct.key)), 'with the journal off, objects go to their files');
    await store.settle({ now: true });
    assert.deepEqual(readFileSync(store.localPath(ref.key)), bytesOf(400, 50_000));
    await store.close();
    store = new FsBlobStore({ dir, journalBytes: 0 });
    assert.equal(existsSync(join(dir, 'journal', 'segment-00.bin')), false, 'the emptied journal is removed');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal left by a process that is gone is taken over, even when its pid now belongs to another process', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const dir = tempDir();
  try {
    let store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
    const ref = await store.put(bytesOf(600, 5000));
    await store.close();
    // pid 1 is running, but it is not the process that wrote this (another start time).
    writeFileSync(join(dir, 'journal', 'owner.pid'), '1 1');
    store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
    assert.equal(store.journaledCount, 1, 'the journal was read back');
    assert.deepEqual(await buffer(store.openRead(ref.key)), bytesOf(600, 5000));
    await store.close();
    // pid 1 with its own start time: a live owner, the journal is left alone.
    const stat = readFileSync('/proc/1/stat', 'latin1');
    writeFileSync(join(dir, 'journal', 'owner.pid'), `1 ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`);
    store = new FsBlobStore({ dir, journalBytes: 32 * MiB });
    assert.equal(store.journaledCount, 0);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second store on the same folder in this process writes without the journal', async () => {
  const dir = tempDir();
  const a = new FsBlobStore({ dir, journalBytes: 32 * MiB });
  const b = new FsBlobStore({ dir, journalBytes: 32 * MiB });
  try {
    const ref = await b.put(bytesOf(500, 1000));
    assert.equal(b.journaledCount, 0);
    assert.ok(existsSync(b.localPath(ref.key)));
  } finally {
    await b.close();
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
