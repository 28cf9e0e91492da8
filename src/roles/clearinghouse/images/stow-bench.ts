// STOW-RS ingest benchmark: the 400-slice synthetic CT study (../shared/bench/gen_study.py) in one
// multipart/related request sent with `curl -T` (as the peer harness ../shared/bench/peers.sh does),
// to a fresh in-process network each repetition. Reports wall time, MB/s and the process's peak RSS
// during the upload (VmHWM, reset before each upload through /proc/self/clear_refs).
// Run: npx tsx src/roles/clearinghouse/images/stow-bench.ts [--reps 3] [--expect-continue]
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { sharedDir } from '../../../../test-support/system-tools.ts';
import { startTestNetwork } from '../../../../test-support/network.ts';

export const BENCH_STUDY_DIR = '/tmp/imageshare-bench/study400';
const BOUNDARY = 'imageshare-bench-boundary-5c2a91';

export interface StowBenchRun {
  httpStatus: number;
  referenced: number;
  failed: number;
  bodyBytes: number;
  seconds: number;
  megabytesPerSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
}

/** Makes the study when it is not there (python3 and ../shared needed). */
export function ensureBenchStudy(dir = BENCH_STUDY_DIR, slices = 400): string[] {
  const list = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort() : []);
  if (list().length < slices) {
    const r = spawnSync('python3', [join(sharedDir, 'bench', 'gen_study.py'), dir, '--n', String(slices)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('gen_study.py failed');
  }
  return list().map((f) => join(dir, f));
}

/** Writes the multipart/related body to a file, streaming (the study never sits in memory). */
export async function writeStowBody(files: readonly string[], target: string): Promise<number> {
  const out = createWriteStream(target);
  for (const file of files) {
    if (!out.write(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`)) await once(out, 'drain');
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) if (!out.write(chunk)) await once(out, 'drain');
    if (!out.write('\r\n')) await once(out, 'drain');
  }
  out.end(`--${BOUNDARY}--\r\n`);
  await once(out, 'finish');
  return statSync(target).size;
}

function rssMiB(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function runStowBenchOnce(bodyPath: string, opts: { expectContinue?: boolean; overrides?: Record<string, unknown> } = {}): Promise<StowBenchRun> {
  const net = await startTestNetwork(opts.overrides ?? {});
  try {
    global.gc?.();
    // Writing 5 to clear_refs resets the peak RSS counter (VmHWM) of this process.
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      /* not permitted: the peak then covers the whole process life */
    }
    const rssBeforeMiB = rssMiB('VmRSS');
    const curl = spawn('curl', [
      '-sS', '--max-time', '600', '-X', 'POST', '-T', bodyPath,
      ...(opts.expectContinue ? [] : ['-H', 'Expect:']),
      '-u', `admin:${net.adminPassword}`,
      '-H', `Content-Type: multipart/related; type="application/dicom"; boundary=${BOUNDARY}`,
      '-H', 'Accept: application/dicom+json',
      '-w', '\n%{http_code} %{time_total}',
      `${net.baseUrl}/dicomweb/studies`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    curl.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const [code] = (await once(curl, 'close')) as [number | null];
    if (code !== 0) throw new Error(`curl exited with ${code}`);
    const lines = output.trimEnd().split('\n');
    const [status, seconds] = lines.pop()!.split(' ');
    const body = JSON.parse(lines.join('\n')) as Record<string, { Value?: unknown[] }>;
    const bodyBytes = statSync(bodyPath).size;
    return {
      httpStatus: Number(status),
      referenced: body['00081199']?.Value?.length ?? 0,
      failed: body['00081198']?.Value?.length ?? 0,
      bodyBytes,
      seconds: Number(seconds),
      megabytesPerSecond: bodyBytes / Number(seconds) / 1e6,
      rssBeforeMiB,
      peakRssMiB: rssMiB('VmHWM'),
    };
  } finally {
    await net.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const repsIndex = args.indexOf('--reps');
  const reps = repsIndex >= 0 ? Number(args[repsIndex + 1]) : 3;
  const files = ensureBenchStudy();
  const bodyPath = '/tmp/imageshare-bench/stow-body.multipart';
  const bytes = await writeStowBody(files, bodyPath);
  console.log(`${files.length} files, body ${(bytes / 1e6).toFixed(1)} MB`);
  for (let r = 1; r <= reps; r++) {
    const run = await runStowBenchOnce(bodyPath, { expectContinue: args.includes('--expect-continue'), ...(args.includes('--no-fsync') ? { overrides: { 'blobs.fsync': false } } : {}) });
    console.log(
      `rep ${r}: HTTP ${run.httpStatus}, ${run.referenced} stored, ${run.failed} failed, ${run.seconds.toFixed(2)} s, ` +
        `${run.megabytesPerSecond.toFixed(1)} MB/s, RSS before ${run.rssBeforeMiB.toFixed(0)} MiB, peak ${run.peakRssMiB.toFixed(0)} MiB`,
    );
  }
}

if (process.argv[1]?.endsWith('stow-bench.ts')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
