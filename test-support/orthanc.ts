// Starts a throw-away Orthanc (as a test PACS) in a temp folder with a generated configuration on
// free ports, waits for its REST API, uploads files over REST, and stops it by PID and removes the
// folder. Orthanc 1.10 has no bind-address option: RemoteAccessAllowed=false keeps its HTTP API
// to localhost, and tests only talk to it over 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dcmtkEnv, getFreePort, stopProcess, waitUntil } from './dcmtk.ts';

export const orthancBinary = existsSync('/usr/sbin/Orthanc') ? '/usr/sbin/Orthanc' : 'Orthanc';
const dicomWebPlugin = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancModality {
  aeTitle: string;
  host: string;
  port: number;
}

export interface OrthancOptions {
  /** Orthanc's own AE title. Default ORTHANC. */
  dicomAet?: string;
  /** Known peers by symbolic name: C-MOVE destinations must be listed here. */
  modalities?: Record<string, OrthancModality>;
  /** Load the DICOMweb plugin. Default false. */
  dicomWeb?: boolean;
  /** Merged over the generated configuration. */
  extraConfig?: Record<string, unknown>;
  startTimeoutMs?: number;
}

export interface RunningOrthanc {
  pid: number;
  aeTitle: string;
  dicomPort: number;
  httpPort: number;
  baseUrl: string;
  workDir: string;
  /** POST /instances with the file's bytes; returns Orthanc's answer (ID, Status, ...). */
  upload(path: string): Promise<{ ID: string; Status: string }>;
  /** GET (or another method) on the REST API, parsed as JSON. */
  rest<T>(path: string, init?: RequestInit): Promise<T>;
  /** Orthanc's console output so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<RunningOrthanc> {
  const workDir = await mkdtemp(join(tmpdir(), 'orthanc-test-'));
  const httpPort = await getFreePort();
  let dicomPort = await getFreePort();
  while (dicomPort === httpPort) dicomPort = await getFreePort();
  const aeTitle = options.dicomAet ?? 'ORTHANC';
  const modalities: Record<string, [string, string, number]> = {};
  for (const [name, m] of Object.entries(options.modalities ?? {})) modalities[name] = [m.aeTitle, m.host, m.port];
  const config = {
    Name: 'dimse-test',
    StorageDirectory: join(workDir, 'storage'),
    IndexDirectory: join(workDir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpCompressionEnabled: false,
    DicomCheckCalledAet: false,
    DicomCheckModalityHost: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowMove: true,
    DicomAlwaysAllowGet: true,
    DicomModalities: modalities,
    // Close Orthanc's outgoing (C-MOVE sub-operation) associations at once instead of after 5 s.
    DicomAssociationCloseDelay: 0,
    SaveJobs: false,
    StorageCompression: false,
    Plugins: options.dicomWeb && existsSync(dicomWebPlugin) ? [dicomWebPlugin] : [],
    ...options.extraConfig,
  };
  const configPath = join(workDir, 'orthanc.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const child: ChildProcess = spawn(orthancBinary, [configPath], { cwd: workDir, env: dcmtkEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  const baseUrl = `http://127.0.0.1:${httpPort}`;

  const stop = async (): Promise<void> => {
    await stopProcess(child, 10_000);
    await rm(workDir, { recursive: true, force: true });
  };
  const rest = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${baseUrl}${path}`, init);
    if (!response.ok) throw new Error(`Orthanc ${init?.method ?? 'GET'} ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };

  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`Orthanc exited early (code ${child.exitCode}): ${output.slice(-2000)}`);
        try {
          return (await fetch(`${baseUrl}/system`)).ok;
        } catch {
          return false;
        }
      },
      options.startTimeoutMs ?? 30_000,
      'Orthanc REST API',
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    pid: child.pid ?? -1,
    aeTitle,
    dicomPort,
    httpPort,
    baseUrl,
    workDir,
    upload: async (path) => rest(`/instances`, { method: 'POST', body: await readFile(path), headers: { 'Content-Type': 'application/dicom' } }),
    rest,
    log: () => output,
    stop,
  };
}
