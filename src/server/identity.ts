// First start: creates the data folder's identity — network key, OIDs, the network CA and the TLS
// server certificate, and a local CLI token — and reads them back on later starts.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { createNetworkCa, defaultServerNames, issueCertificate, type PemKeyPair } from '../security/pki.ts';

export interface NetworkOids {
  /** Root under which this install's OIDs and UIDs are made (2.25.<uuid>). */
  root: string;
  /** XDS SubmissionSet.sourceId of this install's document sources. */
  sourceId: string;
  repositoryUniqueId: string;
  homeCommunityId: string;
  /** Assigning authority of the network's registry patient IDs. */
  patientIdAuthority: string;
}

export interface NetworkIdentity {
  networkKey: Buffer;
  oids: NetworkOids;
  ca: PemKeyPair;
  tls: { certPem: string; keyPem: string; clientCaPem: string };
  /** Secret letting the `imageshare` CLI on this machine call the local server's admin API. */
  cliToken: string;
  firstStart: boolean;
}

/** Writes a small file atomically (temp, fsync, rename) with owner-only permissions. */
export function writeSecretFile(path: string, content: string | Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

function uuidOid(): string {
  return `2.25.${BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10)}`;
}

export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys');
}

export function cliTokenPath(dataDir: string): string {
  return join(keysDir(dataDir), 'cli-token');
}

export async function loadOrCreateIdentity(config: Config): Promise<NetworkIdentity> {
  const dir = keysDir(config.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const oidsPath = join(config.dataDir, 'identity.json');
  const keyPath = join(dir, 'network.key');
  const caCertPath = join(dir, 'network-ca.crt');
  const caKeyPath = join(dir, 'network-ca.key');
  const tlsCertPath = join(dir, 'server.crt');
  const tlsKeyPath = join(dir, 'server.key');
  const tokenPath = cliTokenPath(config.dataDir);
  const firstStart = !existsSync(oidsPath);

  if (!existsSync(keyPath)) writeSecretFile(keyPath, randomBytes(32).toString('hex') + '\n');
  if (!existsSync(oidsPath)) {
    const root = uuidOid();
    const oids: NetworkOids = {
      root,
      sourceId: `${root}.1`,
      repositoryUniqueId: `${root}.2`,
      homeCommunityId: `${root}.3`,
      patientIdAuthority: `${root}.4`,
    };
    writeSecretFile(oidsPath, JSON.stringify(oids, null, 2) + '\n');
  }
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    const ca = await createNetworkCa('ImageShare Network CA');
    writeSecretFile(caKeyPath, ca.keyPem);
    writeSecretFile(caCertPath, ca.certPem);
  }
  const ca: PemKeyPair = { certPem: readFileSync(caCertPath, 'utf8'), keyPem: readFileSync(caKeyPath, 'utf8') };
  if (!config.https.certFile && (!existsSync(tlsCertPath) || !existsSync(tlsKeyPath))) {
    const server = await issueCertificate(ca, { commonName: 'ImageShare server', ...defaultServerNames(), usage: 'both' });
    writeSecretFile(tlsKeyPath, server.keyPem);
    writeSecretFile(tlsCertPath, server.certPem);
  }
  if (!existsSync(tokenPath)) writeSecretFile(tokenPath, randomBytes(32).toString('base64url') + '\n');

  const hexKey = config.network.key ?? readFileSync(keyPath, 'utf8').trim();
  const generated = JSON.parse(readFileSync(oidsPath, 'utf8')) as NetworkOids;
  // Configured values win over the ones generated at first start (members of one network share them).
  const oids: NetworkOids = {
    ...generated,
    ...(config.network.sourceId ? { sourceId: config.network.sourceId } : {}),
    ...(config.network.repositoryUniqueId ? { repositoryUniqueId: config.network.repositoryUniqueId } : {}),
    ...(config.network.homeCommunityId ? { homeCommunityId: config.network.homeCommunityId } : {}),
    ...(config.network.patientIdAuthority ? { patientIdAuthority: config.network.patientIdAuthority } : {}),
  };
  return {
    networkKey: Buffer.from(hexKey, 'hex'),
    oids,
    ca,
    tls: {
      certPem: readFileSync(config.https.certFile ?? tlsCertPath, 'utf8'),
      keyPem: readFileSync(config.https.keyFile ?? tlsKeyPath, 'utf8'),
      clientCaPem: readFileSync(config.https.clientCaFile ?? caCertPath, 'utf8'),
    },
    cliToken: readFileSync(tokenPath, 'utf8').trim(),
    firstStart,
  };
}
