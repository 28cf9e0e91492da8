// Helpers for tests that drive DCMTK command-line tools (storescu, dcmsend, echoscu, storescp).
// Every tool runs with TCP_NODELAY=1: Debian's DCMTK leaves Nagle on otherwise, and each small
// PDU then waits ~40 ms for the peer's delayed ACK. Processes we start are stopped by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** The environment for DCMTK tools: ours plus TCP_NODELAY=1. */
export function dcmtkEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, TCP_NODELAY: '1' };
}

/**
 * A free TCP port on `host`, for a server that binds it later (another process, or after other
 * work). Taken below the kernel's ephemeral range: a port from that range (what `listen(0)` gives)
 * can meanwhile become the local port of an outgoing connection (an HTTP upload, a C-MOVE), and the
 * server's bind then fails with EADDRINUSE, as seen once in the PACS pull test. Never the same port
 * twice in one test process.
 */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralPortRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await canListen(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found between ${low} and ${high}`);
}

const handedOut = new Set<number>();

function ephemeralPortRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b) return [a, b];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

async function canListen(port: number, host: string): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch {
    return false;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}

/** Runs a DCMTK tool to completion (async: never blocks the event loop our servers run on). */
export function runDcmtk(command: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<ToolResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: dcmtkEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

export interface SendOptions {
  host?: string;
  port: number;
  callingAeTitle?: string;
  calledAeTitle?: string;
  files: readonly string[];
  /** Extra arguments placed before host and port (e.g. ['-xv', '-R']). */
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

/**
 * storescu's option that proposes `transferSyntaxUid` (and the uncompressed ones). Without it
 * storescu proposes only uncompressed syntaxes and cannot send a compressed file as is.
 */
export function storescuProposalFor(transferSyntaxUid: string): string {
  const options: Record<string, string> = {
    '1.2.840.10008.1.2': '-xi',
    '1.2.840.10008.1.2.1': '-xe',
    '1.2.840.10008.1.2.1.99': '-xd',
    '1.2.840.10008.1.2.2': '-xb',
    '1.2.840.10008.1.2.4.50': '-xy',
    '1.2.840.10008.1.2.4.51': '-xx',
    '1.2.840.10008.1.2.4.70': '-xs',
    '1.2.840.10008.1.2.4.80': '-xt',
    '1.2.840.10008.1.2.4.81': '-xu',
    '1.2.840.10008.1.2.4.90': '-xv',
    '1.2.840.10008.1.2.4.91': '-xw',
    '1.2.840.10008.1.2.5': '-xr',
  };
  return options[transferSyntaxUid] ?? '-x=';
}

export function storescu(options: SendOptions): Promise<ToolResult> {
  return runDcmtk(
    'storescu',
    [
      ...(options.extraArgs ?? []),
      '-aet',
      options.callingAeTitle ?? 'STORESCU',
      '-aec',
      options.calledAeTitle ?? 'ANY-SCP',
      options.host ?? '127.0.0.1',
      String(options.port),
      ...options.files,
    ],
    { timeoutMs: options.timeoutMs },
  );
}

export function dcmsend(options: SendOptions): Promise<ToolResult> {
  return runDcmtk(
    'dcmsend',
    [
      ...(options.extraArgs ?? []),
      '-aet',
      options.callingAeTitle ?? 'DCMSEND',
      '-aec',
      options.calledAeTitle ?? 'ANY-SCP',
      options.host ?? '127.0.0.1',
      String(options.port),
      ...options.files,
    ],
    { timeoutMs: options.timeoutMs },
  );
}

export function echoscu(options: Omit<SendOptions, 'files'>): Promise<ToolResult> {
  return runDcmtk(
    'echoscu',
    [...(options.extraArgs ?? []), '-aet', options.callingAeTitle ?? 'ECHOSCU', '-aec', options.calledAeTitle ?? 'ANY-SCP', options.host ?? '127.0.0.1', String(options.port)],
    { timeoutMs: options.timeoutMs },
  );
}

/** Stops a process we started: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Polls until `check` resolves true or the deadline passes. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningStorescp {
  port: number;
  pid: number;
  aeTitle: string;
  outDir: string;
  /** Everything storescp printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `storescp -od outDir` on a free loopback port and waits until it answers C-ECHO. */
export async function startStorescp(options: { outDir: string; aeTitle?: string; port?: number; extraArgs?: readonly string[] }): Promise<RunningStorescp> {
  const port = options.port ?? (await getFreePort());
  const aeTitle = options.aeTitle ?? 'STORESCP';
  const child = spawn('storescp', [...(options.extraArgs ?? []), '-aet', aeTitle, '-od', options.outDir, String(port)], {
    env: dcmtkEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const running: RunningStorescp = {
    port,
    pid: child.pid ?? -1,
    aeTitle,
    outDir: options.outDir,
    output: () => output,
    stop: () => stopProcess(child),
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`storescp exited early: ${output}`);
        return (await echoscu({ port, calledAeTitle: aeTitle, timeoutMs: 5000 })).code === 0;
      },
      15_000,
      'storescp to answer C-ECHO',
    );
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
