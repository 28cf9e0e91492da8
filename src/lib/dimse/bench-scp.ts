// C-STORE ingest benchmark: our DicomServer vs DCMTK storescp, same files, same sender.
//
//   node --import tsx src/lib/dimse/bench-scp.ts DIR [--reps N] [--pdu BYTES] [--io async|sync] [--keep]
//
// DIR is a folder of Part 10 files (e.g. `python3 ../shared/bench/gen_study.py /tmp/study400 --n 400`).
// Each repetition runs, interleaved (medians and best runs are printed at the end):
//   ours-file   DicomServer whose handler writes each instance to its own file (small Part 10
//               header + the received data set, no fsync), like storescp -od. By default with
//               blocking writes, as storescp does; --io async goes through the libuv thread pool
//               (what a durable store with fsync would use; slower here, see writeToFile)
//   ours-drain  DicomServer whose handler only drains the stream: the library's own cost
//   storescp    `storescp -od OUT` (DCMTK, parses and re-encodes, no fsync)
// The sender is always `storescu -aec BENCH +sd +r 127.0.0.1 PORT DIR` with TCP_NODELAY=1 (one
// association, default proposals; PDUs are sized by what the receiver announces, 16384 by default
// for both storescp and us). Every receiver is a fresh child process (ours: this script with
// --serve), so the harness never shares its CPU, and first gets one untimed pass of the study
// (warm-up: a real SCP is long-running, and V8 needs it). Wall time is measured around the second
// storescu; CPU is the receiver's user+system time over it, from /proc/PID/stat.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writevSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finished } from 'node:stream/promises';
import { encodeDataSet } from './dataset-codec.ts';
import { DicomServer } from './server.ts';
import type { CStoreRequest } from './server-association.ts';

interface Sample {
  seconds: number;
  files: number;
  cpuSeconds: number;
}

const tcpEnv = { ...process.env, TCP_NODELAY: '1' };

interface Args {
  dir: string;
  reps: number;
  pdu: number | undefined;
  keep: boolean;
  serveMode: 'file' | 'drain' | undefined;
  io: FileIo;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  let serveMode: 'file' | 'drain' | undefined;
  let io: FileIo = 'sync';
  let reps = 3;
  let pdu: number | undefined;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--reps') reps = Number(argv[++i]);
    else if (arg === '--pdu') pdu = Number(argv[++i]);
    else if (arg === '--keep') keep = true;
    else if (arg === '--io') io = argv[++i] === 'async' ? 'async' : 'sync';
    else if (arg === '--serve') serveMode = argv[++i] === 'file' ? 'file' : 'drain';
    else positional.push(arg);
  }
  if (positional.length !== 1 || !Number.isInteger(reps) || reps < 1) {
    console.error('usage: node --import tsx src/lib/dimse/bench-scp.ts DIR [--reps N] [--pdu BYTES] [--io async|sync] [--keep]');
    process.exit(2);
  }
  return { dir: positional[0]!, reps, pdu, keep, serveMode, io };
}

async function listFiles(dir: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    count++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { count, bytes };
}

function run(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: tcpEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function sendStudy(dir: string, port: number): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await run('storescu', ['-aec', 'BENCH', '+sd', '+r', '127.0.0.1', String(port), dir]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.code !== 0) throw new Error(`storescu failed (${result.code}): ${result.stderr.slice(0, 500)}`);
  return seconds;
}

/** Preamble, "DICM" and a File Meta group, as a storing handler would write before the data set. */
function part10Header(request: CStoreRequest): Buffer {
  const meta = encodeDataSet([
    { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
    { tag: 0x00020002, value: request.affectedSopClassUid },
    { tag: 0x00020003, value: request.affectedSopInstanceUid },
    { tag: 0x00020010, value: request.transferSyntaxUid },
    { tag: 0x00020012, value: '2.25.1' },
  ]);
  const groupLength = encodeDataSet([{ tag: 0x00020000, value: meta.length }]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, meta]);
}

const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Writes `prefix` and the stream to a new file with few syscalls: the PDV fragments (16 KiB views)
 * are gathered into batches of up to 1 MiB and written with one writev each. Piping into a
 * default fs.WriteStream instead costs one thread-pool write per fragment (~35 per CT slice)
 * and made the handler, not the network, the bottleneck.
 */
async function writeToFile(path: string, prefix: Buffer, data: Readable, io: FileIo): Promise<void> {
  if (io === 'sync') return writeToFileSync(path, prefix, data);
  const file = await open(path, 'w');
  try {
    let batch: Buffer[] = [prefix];
    let batchBytes = prefix.length;
    for await (const chunk of data as AsyncIterable<Buffer>) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        await file.writev(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) await file.writev(batch);
  } finally {
    await file.close();
  }
}

/**
 * The same with blocking calls, as storescp does: no thread-pool round trip (futex and eventfd
 * wake-ups) per file operation. Fine without fsync; a durable store needs the async form.
 */
async function writeToFileSync(path: string, prefix: Buffer, data: Readable): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    let batch: Buffer[] = [prefix];
    let batchBytes = prefix.length;
    for await (const chunk of data as AsyncIterable<Buffer>) {
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH_BYTES) {
        writevSync(fd, batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) writevSync(fd, batch);
  } finally {
    closeSync(fd);
  }
}

type FileIo = 'async' | 'sync';

/** Receiver mode: serve until SIGTERM, print the port on stdout. */
async function serve(mode: 'file' | 'drain', outDir: string, pdu: number | undefined, io: FileIo): Promise<void> {
  let stored = 0;
  const server = new DicomServer({
    maxPduLength: pdu,
    handlers: {
      async onCStore(request, data) {
        if (mode === 'drain') {
          data.resume();
          await finished(data);
        } else {
          // A counter, not the UID, names the file: UIDs come from the network.
          await writeToFile(join(outDir, `${++stored}.dcm`), part10Header(request), data, io);
        }
        return { status: 0x0000 };
      },
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  process.on('SIGTERM', () => {
    void server.close({ graceMs: 1000 }).then(() => process.exit(0));
  });
  process.stdout.write(`PORT ${port}\n`);
}

async function runOurs(dir: string, mode: 'file' | 'drain', outDir: string, pdu: number | undefined, io: FileIo): Promise<Sample> {
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, '--serve', mode, outDir, '--io', io, ...(pdu ? ['--pdu', String(pdu)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const match = /PORT (\d+)/.exec(text);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
    });
    await warmUp(dir, port, outDir);
    const cpuBefore = await processCpuSeconds(child.pid!);
    const seconds = await sendStudy(dir, port);
    const cpuUsed = (await processCpuSeconds(child.pid!)) - cpuBefore;
    const files = mode === 'drain' ? -1 : (await listFiles(outDir)).count;
    return { seconds, files, cpuSeconds: cpuUsed };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  }
}

/**
 * One untimed pass of the study through the fresh receiver, then its output is emptied. A DICOM
 * SCP is a long-running process, so the timed pass measures the steady state (V8's JIT warm,
 * storescp's caches warm); both receivers get the same treatment.
 */
async function warmUp(dir: string, port: number, outDir: string): Promise<void> {
  await sendStudy(dir, port);
  for (const name of await readdir(outDir)) await rm(join(outDir, name), { recursive: true, force: true });
}

async function processCpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the comm field).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function runStorescp(dir: string, outDir: string, pdu: number | undefined): Promise<Sample> {
  const port = await freePort();
  const args = ['-aet', 'STORESCP', '-od', outDir, ...(pdu ? ['-pdu', String(pdu)] : []), String(port)];
  const child = spawn('storescp', args, { env: tcpEnv, stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      if ((await run('echoscu', ['-aec', 'STORESCP', '127.0.0.1', String(port)])).code === 0) break;
      if (i > 100) throw new Error('storescp did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    await warmUp(dir, port, outDir);
    const cpuBefore = await processCpuSeconds(child.pid!);
    const seconds = await sendStudy(dir, port);
    const cpuUsed = (await processCpuSeconds(child.pid!)) - cpuBefore;
    return { seconds, files: (await listFiles(outDir)).count, cpuSeconds: cpuUsed };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const { dir, reps, pdu, keep, serveMode, io } = parseArgs(process.argv.slice(2));
  if (serveMode) {
    await serve(serveMode, dir, pdu, io);
    return;
  }
  const study = await listFiles(dir);
  if (study.count === 0) throw new Error(`no files in ${dir}`);
  console.log(`study: ${study.count} files, ${(study.bytes / 1e6).toFixed(1)} MB; ${reps} repetitions; ours-file I/O ${io}${pdu ? `; receiver max PDU ${pdu}` : ''}`);
  const work = await mkdtemp(join(tmpdir(), 'bench-scp-'));
  const cases = ['ours-file', 'ours-drain', 'storescp'] as const;
  const samples: Record<(typeof cases)[number], Sample[]> = { 'ours-file': [], 'ours-drain': [], storescp: [] };
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const name of cases) {
        const outDir = join(work, `${name}-${rep}`);
        await mkdir(outDir);
        const sample =
          name === 'storescp' ? await runStorescp(dir, outDir, pdu) : await runOurs(dir, name === 'ours-file' ? 'file' : 'drain', outDir, pdu, io);
        if (sample.files !== -1 && sample.files !== study.count) throw new Error(`${name}: stored ${sample.files} of ${study.count} files`);
        samples[name].push(sample);
        console.log(
          `rep ${rep} ${name.padEnd(10)} ${sample.seconds.toFixed(3)} s  ${(study.count / sample.seconds).toFixed(0)} img/s  ${(study.bytes / 1e6 / sample.seconds).toFixed(0)} MB/s  cpu ${sample.cpuSeconds.toFixed(2)} s`,
        );
        if (!keep) await rm(outDir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!keep) await rm(work, { recursive: true, force: true });
  }
  console.log(`\nmedian of ${reps} repetitions (best in brackets):`);
  console.log('case        wall s          img/s        MB/s       receiver CPU ms/instance');
  for (const name of cases) {
    const walls = samples[name].map((s) => s.seconds);
    const wall = median(walls);
    const best = Math.min(...walls);
    const cpuPerInstance = (median(samples[name].map((s) => s.cpuSeconds)) * 1000) / study.count;
    console.log(
      `${name.padEnd(10)}  ${wall.toFixed(3)} [${best.toFixed(3)}]  ${(study.count / wall).toFixed(0).padStart(4)} [${(study.count / best).toFixed(0).padStart(4)}]  ${(study.bytes / 1e6 / wall).toFixed(0).padStart(3)} [${(study.bytes / 1e6 / best).toFixed(0).padStart(3)}]  ${cpuPerInstance.toFixed(3).padStart(10)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
