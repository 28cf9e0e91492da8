// Starts the whole network in-process for an integration test: temp data folder, free ports,
// a random admin password; `stop()` closes it and removes the folder.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { startNetwork, type RunningNetwork } from '../src/server/network.ts';
import { createLogger } from '../src/util/log.ts';

export interface TestNetwork {
  network: RunningNetwork;
  config: Config;
  baseUrl: string;
  httpsUrl: string | null;
  adminPassword: string;
  /** Authorization header value for the admin account (HTTP Basic). */
  adminAuth: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestNetwork(overrides: Record<string, unknown> = {}, opts: { dataDir?: string; keepData?: boolean } = {}): Promise<TestNetwork> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'imageshare-test-'));
  const adminPassword = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel: process.env.IMAGESHARE_TEST_LOG_LEVEL ?? 'warn',
      'http.host': '127.0.0.1',
      'http.port': 0,
      'https.host': '127.0.0.1',
      'https.port': 0,
      'dicom.host': '127.0.0.1',
      'dicom.port': 0,
      'audit.host': '127.0.0.1',
      'audit.tlsPort': 0,
      'audit.udpPort': 0,
      'hl7.host': '127.0.0.1',
      'hl7.port': 0,
      'admin.initialPassword': adminPassword,
      // A small intake journal: less disk per test network, and its segments fill and are reused.
      'blobs.journalMb': 32,
      ...overrides,
    },
  });
  const network = await startNetwork(config, createLogger(config.logLevel));
  return {
    network,
    config,
    baseUrl: `http://127.0.0.1:${network.ports.http}`,
    httpsUrl: network.ports.https ? `https://127.0.0.1:${network.ports.https}` : null,
    adminPassword,
    adminAuth: 'Basic ' + Buffer.from(`admin:${adminPassword}`).toString('base64'),
    dataDir,
    async stop() {
      await network.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
