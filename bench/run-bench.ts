// `npm run bench`: C-STORE ingest of the 400-slice synthetic CT into our edge, DCMTK storescp and
// Orthanc in one run (the peer harness of ../shared/bench interleaves the cases), then our ratios.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const projectRoot = resolve(import.meta.dirname, '..');
const sharedBench = resolve(projectRoot, '..', 'shared', 'bench');

interface Row {
  kase: string;
  metric: string;
  rep: number;
  value: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(rows: Row[]): Map<string, Map<string, number>> {
  const byCase = new Map<string, Map<string, number[]>>();
  for (const r of rows) {
    if (!Number.isFinite(r.value)) continue;
    const c = byCase.get(r.kase) ?? new Map<string, number[]>();
    byCase.set(r.kase, c);
    c.set(r.metric, [...(c.get(r.metric) ?? []), r.value]);
  }
  const out = new Map<string, Map<string, number>>();
  for (const [k, metrics] of byCase) out.set(k, new Map([...metrics].map(([m, xs]) => [m, median(xs)])));
  return out;
}

function ensureStudy(dir: string, n: number): void {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : [];
  if (files.length === n) return;
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`[bench] generating the ${n}-slice CT study in ${dir}\n`);
  const r = spawnSync('python3', [join(sharedBench, 'gen_study.py'), dir, '--n', String(n)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('gen_study.py failed');
}

export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      reps: { type: 'string', default: '3' },
      slices: { type: 'string', default: '400' },
      peers: { type: 'string', default: 'dcmtk orthanc' },
      'dicom-port': { type: 'string', default: '14112' },
      'http-port': { type: 'string', default: '18080' },
      'durable-only': { type: 'boolean', default: false },
    },
  });
  if (!existsSync(join(sharedBench, 'peers.sh'))) {
    process.stderr.write(`the peer harness is missing: expected ${sharedBench}/peers.sh (../shared beside the checkout)\n`);
    return 2;
  }
  for (const cmd of ['storescu', 'storescp', 'curl', 'python3', ...(values.peers!.includes('orthanc') ? ['Orthanc'] : [])]) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
      process.stderr.write(`missing command ${cmd}: apt-get install -y dcmtk orthanc orthanc-dicomweb curl python3\n`);
      return 2;
    }
  }
  const studyDir = join(process.env.IMAGESHARE_BENCH_STUDY_DIR ?? join(tmpdir(), 'imageshare-bench'), `study${values.slices}`);
  mkdirSync(resolve(studyDir, '..'), { recursive: true });
  ensureStudy(studyDir, Number(values.slices));

  const reps = values.reps!;
  const passes: Array<{ mode: 'durable' | 'no-fsync'; peers: string }> = [{ mode: 'durable', peers: values.peers! }];
  if (!values['durable-only']) passes.push({ mode: 'no-fsync', peers: values.peers!.includes('dcmtk') ? 'dcmtk' : '' });
  const results: Array<{ mode: string; summary: Map<string, Map<string, number>>; counts: number[] }> = [];
  for (const pass of passes) {
    const r = await runPass(pass.mode, pass.peers, reps, studyDir, values['dicom-port']!, values['http-port']!);
    if (!r) return 1;
    results.push(r);
  }
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? '-' : x.toFixed(d));
  const lines = ['', `C-STORE ingest of ${values.slices} CT slices, medians over ${reps} repetitions (cases interleaved within each pass)`, ''];
  lines.push('| pass | case | MB/s | images/s | server CPU s | peak RSS MiB |', '|---|---|---|---|---|---|');
  for (const r of results) {
    for (const c of ['imageshare C-STORE', 'dcmtk storescp C-STORE', 'orthanc C-STORE']) {
      const m = r.summary.get(c);
      if (!m) continue;
      lines.push(`| ${r.mode} | ${c} | ${fmt(m.get('MBps'))} | ${fmt(m.get('img_s'))} | ${fmt(m.get('srv_cpu_s'), 2)} | ${fmt(m.get('rss_MiB'))} |`);
    }
  }
  lines.push('');
  for (const r of results) {
    const ours = r.summary.get('imageshare C-STORE')?.get('MBps');
    const scp = r.summary.get('dcmtk storescp C-STORE')?.get('MBps');
    const orthanc = r.summary.get('orthanc C-STORE')?.get('MBps');
    if (ours && scp) lines.push(`${r.mode}: ratio imageshare / storescp (MB/s) = ${(ours / scp).toFixed(2)}  (goal >= 0.8)`);
    if (ours && orthanc) lines.push(`${r.mode}: ratio imageshare / Orthanc  (MB/s) = ${(ours / orthanc).toFixed(2)}  (goal >= 3)`);
    lines.push(`${r.mode}: imageshare instances indexed per repetition: ${r.counts.join(', ') || 'unknown'} (expected ${values.slices})`);
  }
  lines.push(
    '',
    'durable: our default (each blob durable before the response: fdatasync of its journal record, or of its file and folder; SQLite WAL);',
    "Orthanc fsyncs too (SyncStorageArea true). no-fsync: IMAGESHARE_BLOB_FSYNC=false, like storescp, which writes without fsync.",
  );
  process.stdout.write(lines.join('\n') + '\n');
  return results.every((r) => r.counts.every((n) => n === Number(values.slices))) ? 0 : 1;
}

async function runPass(
  mode: 'durable' | 'no-fsync',
  peers: string,
  reps: string,
  studyDir: string,
  dicomPort: string,
  httpPort: string,
): Promise<{ mode: string; summary: Map<string, Map<string, number>>; counts: number[] } | null> {
  const state = mkdtempSync(join(tmpdir(), 'imageshare-bench-state-'));
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    IMAGESHARE_DATA_DIR: join(state, 'data'),
    IMAGESHARE_HTTP_HOST: '127.0.0.1',
    IMAGESHARE_HTTP_PORT: httpPort,
    IMAGESHARE_HTTPS_ENABLED: 'false',
    IMAGESHARE_DICOM_HOST: '127.0.0.1',
    IMAGESHARE_DICOM_PORT: dicomPort,
    IMAGESHARE_DICOM_AET: 'IMAGESHARE',
    IMAGESHARE_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    IMAGESHARE_LOG_LEVEL: 'warn',
    IMAGESHARE_AUDIT_TLS_PORT: '0',
    IMAGESHARE_AUDIT_UDP_PORT: '0',
    IMAGESHARE_HL7_ENABLED: 'false',
    IMAGESHARE_BLOB_FSYNC: mode === 'durable' ? 'true' : 'false',
  };
  const rawTsv = join(state, 'raw.tsv');
  const harnessEnv: NodeJS.ProcessEnv = {
    ...serverEnv,
    REPS: reps,
    PEERS: peers,
    RAW_TSV: rawTsv,
    TARGET_NAME: 'imageshare',
    TARGET_DICOM_PORT: dicomPort,
    TARGET_DICOM_AET: 'IMAGESHARE',
    TARGET_RESET_CMD: `bash '${join(projectRoot, 'bench', 'target.sh')}' reset '${state}'`,
    TARGET_PID_CMD: `cat '${join(state, 'pid')}'`,
  };
  process.stderr.write(`[bench] pass "${mode}" (peers: ${peers || 'none'})\n`);
  const code = await new Promise<number>((res) => {
    const child = spawn('bash', [join(sharedBench, 'peers.sh'), studyDir], { env: harnessEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (c) => res(c ?? 1));
  });
  spawnSync('bash', [join(projectRoot, 'bench', 'target.sh'), 'stop', state], { env: serverEnv, stdio: 'inherit' });
  if (code !== 0 || !existsSync(rawTsv)) {
    process.stderr.write(`[bench] the harness failed (exit ${code}); state kept in ${state}\n`);
    return null;
  }
  const rows: Row[] = readFileSync(rawTsv, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kase, metric, rep, value] = l.split('\t');
      return { kase: kase!, metric: metric!, rep: Number(rep), value: Number(value) };
    });
  const counts = existsSync(join(state, 'indexed-counts')) ? readFileSync(join(state, 'indexed-counts'), 'utf8').trim().split('\n').map(Number) : [];
  rmSync(state, { recursive: true, force: true });
  return { mode, summary: summarize(rows), counts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchCommand(process.argv.slice(2)).then((c) => process.exit(c));
}
