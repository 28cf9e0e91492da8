// Test helper (not product code): the whole network as a child process (`node bin/imageshare.mjs
// start`) on free loopback ports with HTTPS client certificates required between nodes and the edge
// submitting to its own clearinghouse over that HTTPS port — so the CLI runs against it like an
// operator would, and the server's own memory (VmHWM) can be measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, stopProcess, waitUntil } from '../../../../../test-support/dcmtk.ts';
import { projectRoot } from '../../../../../test-support/system-tools.ts';
import { loadConfig } from '../../../../config/load.ts';
import { loadOrCreateIdentity, type NetworkIdentity } from '../../../../server/identity.ts';
import { issueCertificate } from '../../../../security/pki.ts';
import type { TlsClientOptions } from '../../../../lib/soap/index.ts';

export interface ChildNetwork {
  readonly pid: number;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly httpUrl: string;
  readonly httpsUrl: string;
  readonly dicomPort: number;
  readonly identity: NetworkIdentity;
  /** A client certificate from the network CA, as another node of the network would have. */
  readonly clientTls: TlsClientOptions;
  output(): string;
  /** Peak resident set (VmHWM) of the server process, kB. */
  peakRssKb(): number;
  /** Resets VmHWM to the current RSS (Linux: clear_refs 5). */
  resetPeakRss(): void;
  stop(): Promise<void>;
}

export async function startChildNetwork(extraEnv: NodeJS.ProcessEnv = {}): Promise<ChildNetwork> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imageshare-child-'));
  const [httpPort, httpsPort, dicomPort, auditTls, auditUdp] = [await getFreePort(), await getFreePort(), await getFreePort(), await getFreePort(), await getFreePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    IMAGESHARE_DATA_DIR: dataDir,
    IMAGESHARE_LOG_LEVEL: process.env.IMAGESHARE_TEST_LOG_LEVEL ?? 'warn',
    IMAGESHARE_HTTP_HOST: '127.0.0.1',
    IMAGESHARE_HTTP_PORT: String(httpPort),
    IMAGESHARE_HTTPS_HOST: '127.0.0.1',
    IMAGESHARE_HTTPS_PORT: String(httpsPort),
    IMAGESHARE_TLS_REQUIRE_CLIENT_CERT: 'true',
    IMAGESHARE_CLEARINGHOUSE_URL: `https://127.0.0.1:${httpsPort}`,
    IMAGESHARE_DICOM_HOST: '127.0.0.1',
    IMAGESHARE_DICOM_PORT: String(dicomPort),
    IMAGESHARE_AUDIT_HOST: '127.0.0.1',
    IMAGESHARE_AUDIT_TLS_PORT: String(auditTls),
    IMAGESHARE_AUDIT_UDP_PORT: String(auditUdp),
    IMAGESHARE_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, [join(projectRoot, 'bin', 'imageshare.mjs'), 'start'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`the network exited early:\n${output}`);
        return fetch(`${httpUrl}/healthz`).then((r) => r.ok, () => false);
      },
      60_000,
      'the network to start',
    );
  } catch (err) {
    await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const identity = await loadOrCreateIdentity(loadConfig({ env: { IMAGESHARE_DATA_DIR: dataDir } }));
  const client = await issueCertificate(identity.ca, { commonName: 'test consumer node', usage: 'client' });
  const pid = child.pid ?? -1;
  return {
    pid,
    dataDir,
    env,
    httpUrl,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    dicomPort,
    identity,
    clientTls: { key: client.keyPem, cert: client.certPem, ca: identity.ca.certPem },
    output: () => output,
    peakRssKb() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    },
    resetPeakRss() {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    },
    async stop() {
      await stopProcess(child, 25_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `node bin/imageshare.mjs <args>` against the child network; resolves with its exit code and output. */
export function runCli(network: ChildNetwork, args: readonly string[], timeoutMs = 600_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'imageshare.mjs'), ...args], { cwd: projectRoot, env: network.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
