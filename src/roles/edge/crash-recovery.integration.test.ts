// Integration (crash test): the server is killed with SIGKILL in the middle of a multi-image C-STORE
// transfer and restarted. Every instance whose success response storescu received is indexed with
// intact bytes, and no half-written instance is indexed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { projectRoot, requireTools, sharedDir } from '../../../test-support/system-tools.ts';
import { dcmtkEnv, getFreePort, waitUntil } from '../../../test-support/dcmtk.ts';
import { openDatabase } from '../../storage/db/open.ts';
import { blobKeyOf } from '../../storage/blob/blob-store.ts';
import { FsBlobStore } from '../../storage/blob/fs-blob-store.ts';
import { buffer } from 'node:stream/consumers';
import { readFileLayout } from '../../lib/dicom/part10.ts';

const skip = requireTools({ commands: ['storescu', 'python3'], shared: true, paths: [join(sharedDir, 'bench', 'gen_study.py')] });

function startServer(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [join(projectRoot, 'bin', 'imageshare.mjs'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, output: () => out };
}

async function waitHealthy(httpPort: number, server: { child: ChildProcess; output: () => string }): Promise<void> {
  await waitUntil(
    async () => {
      if (server.child.exitCode !== null) throw new Error(`server exited: ${server.output()}`);
      try {
        return (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status === 200;
      } catch {
        return false;
      }
    },
    30_000,
    'the server to become healthy',
  );
}

test('SIGKILL during a multi-image transfer loses no acknowledged instance and indexes no partial one (integration)', { skip, timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'edge-crash-'));
  try {
    const studyDir = join(work, 'study');
    const gen = spawnSync('python3', [join(sharedDir, 'bench', 'gen_study.py'), studyDir, '--n', '120'], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const files = readdirSync(studyDir).sort().map((f) => join(studyDir, f));

    const [httpPort, dicomPort] = [await getFreePort(), await getFreePort()];
    const dataDir = join(work, 'data');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      IMAGESHARE_DATA_DIR: dataDir,
      IMAGESHARE_HTTP_HOST: '127.0.0.1',
      IMAGESHARE_HTTP_PORT: String(httpPort),
      IMAGESHARE_HTTPS_ENABLED: 'false',
      IMAGESHARE_DICOM_HOST: '127.0.0.1',
      IMAGESHARE_DICOM_PORT: String(dicomPort),
      IMAGESHARE_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
      IMAGESHARE_LOG_LEVEL: 'warn',
    };
    const first = startServer(env);
    await waitHealthy(httpPort, first);

    // storescu -v prints "Sending file: X" then "Received Store Response (Success)" for each instance.
    const sender = spawn('storescu', ['-v', '-aec', 'IMAGESHARE', '127.0.0.1', String(dicomPort), ...files], { env: dcmtkEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged: string[] = [];
    let current: string | null = null;
    let killed = false;
    let log = '';
    const onLine = (line: string) => {
      const sending = /Sending file: (.+)$/.exec(line);
      if (sending) current = sending[1]!.trim();
      if (/Received Store Response \(Success\)/.test(line) && current) {
        acknowledged.push(current);
        if (acknowledged.length === 40 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    for (const stream of [sender.stdout!, sender.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8').on('data', (d: string) => {
        log += d;
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        lines.forEach(onLine);
      });
    }
    await once(sender, 'close');
    if (first.child.exitCode === null && first.child.signalCode === null) await once(first.child, 'exit');
    assert.ok(killed, `the server was not killed mid-transfer: ${log.slice(-2000)}`);
    assert.ok(acknowledged.length >= 40 && acknowledged.length < files.length, `acknowledged ${acknowledged.length} of ${files.length}`);

    // Restart on the same data folder: it must come up (temporary files of the killed write are swept).
    const second = startServer(env);
    await waitHealthy(httpPort, second);
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    assert.deepEqual(readdirSync(join(dataDir, 'blobs', 'tmp')), [], 'no temporary file left after restart');

    const db = await openDatabase({ dataDir });
    try {
      const rows = await db.db.selectFrom('edge_instance').select(['sop_instance_uid', 'blob_key', 'size_bytes']).execute();
      const bySop = new Map(rows.map((r) => [r.sop_instance_uid, r]));
      for (const file of acknowledged) {
        const { layout, head } = await readFileLayout(file);
        assert.ok(head.length > 0);
        const sop = layout.meta?.mediaStorageSopInstanceUid;
        assert.ok(sop, `no SOP Instance UID in ${file}`);
        const row = bySop.get(sop);
        assert.ok(row, `acknowledged instance ${sop} is not indexed after the crash`);
        const expected = readFileSync(file).subarray(layout.datasetOffset);
        assert.equal(row.size_bytes, expected.length);
      }
      // Every indexed instance (acknowledged or not) points at a complete blob whose hash is its key,
      // read through the store: it may still be in the intake journal, as the killed server left it.
      const blobs = new FsBlobStore({ dir: join(dataDir, 'blobs') });
      try {
        for (const row of rows) {
          assert.equal(await blobs.size(row.blob_key), row.size_bytes, `indexed instance ${row.sop_instance_uid} has no stored bytes`);
          const bytes = await buffer(blobs.openRead(row.blob_key));
          assert.equal(blobKeyOf(bytes), row.blob_key, `half-written object indexed: ${row.sop_instance_uid}`);
        }
        // And they all end up in their own files.
        await blobs.settle({ now: true });
        for (const row of rows) assert.equal(blobKeyOf(readFileSync(blobs.localPath(row.blob_key))), row.blob_key);
      } finally {
        await blobs.close();
      }
      assert.ok(rows.length >= acknowledged.length && rows.length <= acknowledged.length + 1, `${rows.length} indexed for ${acknowledged.length} acknowledged`);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
