// Loads the configuration: JSON file (IMAGESHARE_CONFIG) first, then environment variables on top,
// validated by the one schema with messages that name the variable a site's IT person has to fix.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSchema, type Config } from './schema.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`The configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'pacs';
interface EnvBinding {
  env: string;
  path: string[];
  kind: EnvKind;
  help: string;
}

/** Every environment variable the product reads, with the config path it sets. */
export const envBindings: readonly EnvBinding[] = [
  { env: 'IMAGESHARE_DATA_DIR', path: ['dataDir'], kind: 'string', help: 'data folder (default ./data)' },
  { env: 'IMAGESHARE_LOG_LEVEL', path: ['logLevel'], kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent' },
  { env: 'IMAGESHARE_HTTP_HOST', path: ['http', 'host'], kind: 'string', help: 'address the HTTP port binds to' },
  { env: 'IMAGESHARE_HTTP_PORT', path: ['http', 'port'], kind: 'int', help: 'plain HTTP port (default 8080)' },
  { env: 'IMAGESHARE_PUBLIC_URL', path: ['http', 'publicUrl'], kind: 'string', help: 'public base URL' },
  { env: 'IMAGESHARE_HTTPS_ENABLED', path: ['https', 'enabled'], kind: 'bool', help: 'serve HTTPS (default true)' },
  { env: 'IMAGESHARE_HTTPS_HOST', path: ['https', 'host'], kind: 'string', help: 'address the HTTPS port binds to' },
  { env: 'IMAGESHARE_HTTPS_PORT', path: ['https', 'port'], kind: 'int', help: 'HTTPS port (default 8443)' },
  { env: 'IMAGESHARE_TLS_CERT', path: ['https', 'certFile'], kind: 'string', help: 'PEM server certificate' },
  { env: 'IMAGESHARE_TLS_KEY', path: ['https', 'keyFile'], kind: 'string', help: 'PEM server key' },
  { env: 'IMAGESHARE_TLS_CLIENT_CA', path: ['https', 'clientCaFile'], kind: 'string', help: 'PEM CA bundle for client certificates' },
  { env: 'IMAGESHARE_TLS_REQUIRE_CLIENT_CERT', path: ['https', 'requireClientCert'], kind: 'bool', help: 'require client certificates on HTTPS' },
  { env: 'IMAGESHARE_DICOM_HOST', path: ['dicom', 'host'], kind: 'string', help: 'address the DICOM port binds to' },
  { env: 'IMAGESHARE_DICOM_PORT', path: ['dicom', 'port'], kind: 'int', help: 'DICOM port (default 11112)' },
  { env: 'IMAGESHARE_DICOM_AET', path: ['dicom', 'aet'], kind: 'string', help: 'our AE title (default IMAGESHARE)' },
  { env: 'IMAGESHARE_DICOM_ALLOWED_CALLING_AETS', path: ['dicom', 'allowedCallingAets'], kind: 'list', help: 'comma-separated calling AE titles allowed (empty: any)' },
  { env: 'IMAGESHARE_DICOM_PRIVATE_SOP_CLASSES', path: ['dicom', 'privateSopClasses'], kind: 'list', help: 'comma-separated private SOP Class UIDs to accept' },
  { env: 'IMAGESHARE_DATABASE_URL', path: ['database', 'url'], kind: 'string', help: 'sqlite:<path> or postgres://...' },
  { env: 'IMAGESHARE_SQLITE_SYNCHRONOUS', path: ['database', 'sqliteSynchronous'], kind: 'string', help: 'FULL or NORMAL' },
  { env: 'IMAGESHARE_BLOB_DIR', path: ['blobs', 'dir'], kind: 'string', help: 'blob store folder' },
  { env: 'IMAGESHARE_BLOB_FSYNC', path: ['blobs', 'fsync'], kind: 'bool', help: 'fsync each stored object (default true)' },
  { env: 'IMAGESHARE_BLOB_JOURNAL_MB', path: ['blobs', 'journalMb'], kind: 'int', help: 'MiB of disk for the intake journal (default 512; 0: off)' },
  { env: 'IMAGESHARE_PACS', path: ['pacs'], kind: 'pacs', help: 'comma-separated AET@host:port of the site PACS' },
  { env: 'IMAGESHARE_ADMIN_PASSWORD', path: ['admin', 'initialPassword'], kind: 'string', help: 'password of the admin account created at first start' },
  { env: 'IMAGESHARE_AUDIT_TLS_PORT', path: ['audit', 'tlsPort'], kind: 'int', help: 'audit syslog TLS port (default 6514)' },
  { env: 'IMAGESHARE_AUDIT_UDP_PORT', path: ['audit', 'udpPort'], kind: 'int', help: 'audit syslog UDP port (default 5514)' },
  { env: 'IMAGESHARE_NETWORK_KEY', path: ['network', 'key'], kind: 'string', help: 'network key (64 hex characters) shared by the network members' },
  { env: 'IMAGESHARE_PATIENT_ID_AUTHORITY', path: ['network', 'patientIdAuthority'], kind: 'string', help: 'assigning authority OID of registry patient IDs' },
  { env: 'IMAGESHARE_REPOSITORY_UNIQUE_ID', path: ['network', 'repositoryUniqueId'], kind: 'string', help: 'repositoryUniqueId OID of this clearinghouse' },
  { env: 'IMAGESHARE_HOME_COMMUNITY_ID', path: ['network', 'homeCommunityId'], kind: 'string', help: 'homeCommunityId OID' },
  { env: 'IMAGESHARE_SOURCE_ID', path: ['network', 'sourceId'], kind: 'string', help: 'XDS sourceId OID of this edge' },
  { env: 'IMAGESHARE_LEGACY_RSNA_PATIENT_IDS', path: ['network', 'legacyRsnaPatientIds'], kind: 'bool', help: 'derive patient IDs as the original RSNA network (unsalted SHA-256)' },
  { env: 'IMAGESHARE_RETENTION_DAYS', path: ['clearinghouse', 'retentionDays'], kind: 'int', help: 'days the clearinghouse keeps content (0: forever; default 30)' },
  { env: 'IMAGESHARE_XDS_OPEN_PATIENT_IDS', path: ['clearinghouse', 'openPatientIds'], kind: 'bool', help: 'conformance mode: accept any assigning authority (default false)' },
  { env: 'IMAGESHARE_CLEARINGHOUSE_URL', path: ['edgeSubmission', 'clearinghouseUrl'], kind: 'string', help: 'base URL of the clearinghouse the edge submits to (default: this process)' },
  { env: 'IMAGESHARE_CLEARINGHOUSE_CLIENT_CERT', path: ['edgeSubmission', 'clientCertFile'], kind: 'string', help: 'PEM client certificate for the clearinghouse' },
  { env: 'IMAGESHARE_CLEARINGHOUSE_CLIENT_KEY', path: ['edgeSubmission', 'clientKeyFile'], kind: 'string', help: 'PEM client key for the clearinghouse' },
  { env: 'IMAGESHARE_CLEARINGHOUSE_CA', path: ['edgeSubmission', 'caFile'], kind: 'string', help: 'PEM CA of the clearinghouse certificate' },
  { env: 'IMAGESHARE_HL7_PORT', path: ['hl7', 'port'], kind: 'int', help: 'HL7 v2 MLLP port (default 2575)' },
  { env: 'IMAGESHARE_HL7_ENABLED', path: ['hl7', 'enabled'], kind: 'bool', help: 'listen for HL7 v2 over MLLP (default true)' },
  { env: 'IMAGESHARE_AUDIT_REPOSITORY_ENABLED', path: ['audit', 'repositoryEnabled'], kind: 'bool', help: 'run the Audit Record Repository here (default true)' },
  { env: 'IMAGESHARE_AUDIT_REQUIRE_CLIENT_CERT', path: ['audit', 'requireClientCert'], kind: 'bool', help: 'require client certificates on the audit TLS port (default true)' },
  { env: 'IMAGESHARE_AUDIT_SEND_TO', path: ['audit', 'sendTo'], kind: 'string', help: 'host:port of the audit repository this node sends to (default: its own)' },
];

function parseEnvValue(b: EnvBinding, raw: string, problems: string[]): unknown {
  switch (b.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) {
        problems.push(`${b.env}="${raw}" is not a whole number (${b.help})`);
        return undefined;
      }
      return Number(raw.trim());
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      problems.push(`${b.env}="${raw}" must be true or false (${b.help})`);
      return undefined;
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'pacs': {
      const devices: unknown[] = [];
      for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^([^@]+)@([^:]+|\[[^\]]+\]):(\d+)$/.exec(item);
        if (!m) {
          problems.push(`${b.env}: "${item}" is not AET@host:port`);
          continue;
        }
        devices.push({ aet: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) });
      }
      return devices;
    }
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function envNameForPath(path: readonly PropertyKey[]): string | undefined {
  const dotted = path.map(String).join('.');
  return envBindings.find((b) => dotted === b.path.join('.') || dotted.startsWith(b.path.join('.') + '.'))?.env;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Values that override file and environment (used by tests and the CLI). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  let input: Record<string, unknown> = {};
  const file = env.IMAGESHARE_CONFIG?.trim();
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`IMAGESHARE_CONFIG=${file}: the file must hold a JSON object`);
      } else input = parsed as Record<string, unknown>;
    } catch (err) {
      problems.push(`IMAGESHARE_CONFIG=${file}: cannot read it as JSON (${(err as Error).message})`);
    }
  }
  for (const b of envBindings) {
    const raw = env[b.env];
    if (raw === undefined || raw.trim() === '') continue; // empty counts as unset
    const value = parseEnvValue(b, raw, problems);
    if (value !== undefined) setPath(input, b.path, value);
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) setPath(input, k.split('.'), v);

  const result = configSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.map(String).join('.') || '(root)';
      const envName = envNameForPath(issue.path);
      problems.push(`${envName ? `${envName} (${where})` : where}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const config = result.data;
  config.dataDir = resolve(config.dataDir);
  return config;
}
