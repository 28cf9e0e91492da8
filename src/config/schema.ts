// The one configuration schema of ImageShare. Every role reads its settings from here; values come
// from an optional JSON file (IMAGESHARE_CONFIG) and environment variables, the environment winning.
// An empty environment variable counts as unset (DESIGN.md "Deployment").
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const aeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is 1 to 16 printable ASCII characters without backslash')
  .refine((s) => s.trim().length > 0, 'an AE title cannot be only spaces');

export const pacsDeviceSchema = z.object({
  name: z.string().min(1).optional(),
  aet: aeTitle,
  host: z.string().min(1),
  port: port.refine((p) => p > 0, 'port must be 1..65535'),
});
export type PacsDevice = z.infer<typeof pacsDeviceSchema>;

export const configSchema = z.object({
  /** Folder holding the database, blobs, keys, certificates and generated identity. */
  dataDir: z.string().min(1).default('./data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  http: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: port.default(8080),
      /** Public base URL (e.g. behind a proxy); derived from host/port when unset. */
      publicUrl: z.string().url().optional(),
    })
    .default({ host: '0.0.0.0', port: 8080 }),
  https: z
    .object({
      enabled: z.boolean().default(true),
      host: z.string().default('0.0.0.0'),
      port: port.default(8443),
      /** PEM files; when unset a certificate signed by the network's own CA is created at first start. */
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      /** CA bundle used to verify client certificates; the network CA when unset. */
      clientCaFile: z.string().optional(),
      /** Require a client certificate on the HTTPS port (ATNA Secure Node); optional by default. */
      requireClientCert: z.boolean().default(false),
    })
    .default({ enabled: true, host: '0.0.0.0', port: 8443, requireClientCert: false }),
  dicom: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: port.default(11112),
      aet: aeTitle.default('IMAGESHARE'),
      /** Calling AE titles allowed to associate; empty means any. */
      allowedCallingAets: z.array(aeTitle).default([]),
      /** Private (non-standard) storage SOP Class UIDs to accept. */
      privateSopClasses: z.array(z.string().regex(/^[0-9.]+$/)).default([]),
      maxPduLength: z.number().int().min(4096).max(4 * 1024 * 1024).default(65536),
      maxAssociations: z.number().int().min(1).max(1000).default(32),
      /** Seconds a release/close waits for in-flight associations at shutdown. */
      shutdownGraceSeconds: z.number().min(0).max(600).default(20),
    })
    .default({
      host: '0.0.0.0',
      port: 11112,
      aet: 'IMAGESHARE',
      allowedCallingAets: [],
      privateSopClasses: [],
      maxPduLength: 65536,
      maxAssociations: 32,
      shutdownGraceSeconds: 20,
    }),
  database: z
    .object({
      /** `sqlite:<path>` (default: <dataDir>/imageshare.db) or `postgres://user:pass@host/db`. */
      url: z.string().optional(),
      /**
       * SQLite commit policy (WAL mode). NORMAL (default): a commit survives a crash of the process
       * (kill -9) but the last ones may roll back on power loss; FULL also fsyncs the log at every
       * commit (about 0.8 ms per stored instance here), surviving power loss.
       */
      sqliteSynchronous: z.enum(['FULL', 'NORMAL']).default('NORMAL'),
    })
    .default({ sqliteSynchronous: 'NORMAL' }),
  blobs: z
    .object({
      kind: z.enum(['fs']).default('fs'),
      /** Folder of the filesystem blob store (default: <dataDir>/blobs). */
      dir: z.string().optional(),
      /** fsync every blob before it is acknowledged (turn off only for throw-away test data). */
      fsync: z.boolean().default(true),
      /**
       * Size in MiB of the intake journal (preallocated on disk at first start): objects up to 2 MiB
       * are made durable in it with one fdatasync and copied into their own files when the store is
       * idle. 0 turns it off (each object is written to its own file before it is acknowledged).
       */
      journalMb: z.number().int('must be a whole number of MiB').min(0).max(65536).default(512),
    })
    .default({ kind: 'fs', fsync: true, journalMb: 512 }),
  /** Identity shared by the network's members; generated at first start in the data folder when unset. */
  network: z
    .object({
      /** Network key (hex, 32 bytes) used to derive registry patient IDs from date of birth + access code. */
      key: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the network key is 64 hexadecimal characters').optional(),
      /** Assigning authority OID of the registry patient IDs. */
      patientIdAuthority: z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'must be an OID').optional(),
      repositoryUniqueId: z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'must be an OID').optional(),
      homeCommunityId: z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'must be an OID').optional(),
      sourceId: z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'must be an OID').optional(),
      /** Derive patient IDs as the original RSNA network did (unsalted SHA-256), for legacy consumers. */
      legacyRsnaPatientIds: z.boolean().default(false),
    })
    .default({ legacyRsnaPatientIds: false }),
  clearinghouse: z
    .object({
      /** Days content is kept (registry entries and bytes together); 0 keeps it forever. */
      retentionDays: z.number().int().min(0).max(36500).default(30),
      /** Conformance mode: accept patient IDs of any assigning authority, as public test registries do. */
      openPatientIds: z.boolean().default(false),
    })
    .default({ retentionDays: 30, openPatientIds: false }),
  /** Where the edge submits released exams (STOW-RS, RAD-68): this process's clearinghouse when unset. */
  edgeSubmission: z
    .object({
      clearinghouseUrl: z.string().url().optional(),
      /** PEM client certificate and key for HTTPS to the clearinghouse; this node's certificate when unset. */
      clientCertFile: z.string().optional(),
      clientKeyFile: z.string().optional(),
      caFile: z.string().optional(),
    })
    .default({}),
  hl7: z
    .object({
      enabled: z.boolean().default(true),
      host: z.string().default('0.0.0.0'),
      port: port.default(2575),
    })
    .default({ enabled: true, host: '0.0.0.0', port: 2575 }),
  /** Site PACS devices the edge can query and pull from. */
  pacs: z.array(pacsDeviceSchema).default([]),
  admin: z
    .object({
      /** Password of the `admin` account created at first start; generated and printed once when unset. */
      initialPassword: z.string().min(12, 'the admin password must have at least 12 characters').optional(),
    })
    .default({}),
  staff: z
    .object({
      sessionHours: z.number().positive().max(24 * 30).default(12),
      /** How long a verified HTTP Basic password is remembered, so scripts are not slowed by argon2. */
      basicAuthCacheSeconds: z.number().min(0).max(3600).default(60),
      maxFailedLogins: z.number().int().min(1).max(100).default(5),
      lockoutMinutes: z.number().min(1).max(24 * 60).default(15),
    })
    .default({ sessionHours: 12, basicAuthCacheSeconds: 60, maxFailedLogins: 5, lockoutMinutes: 15 }),
  audit: z
    .object({
      /** Run the Audit Record Repository role in this process. */
      repositoryEnabled: z.boolean().default(true),
      tlsPort: port.default(6514),
      udpPort: port.default(5514),
      host: z.string().default('0.0.0.0'),
      /** Require a client certificate (signed by the network CA) from nodes sending over TLS. */
      requireClientCert: z.boolean().default(true),
      /** Where this node sends its audit messages (host:port, TLS); this process's repository when unset. */
      sendTo: z
        .string()
        .regex(/^[^:]+:\d+$/, 'must be host:port')
        .optional(),
    })
    .default({ repositoryEnabled: true, tlsPort: 6514, udpPort: 5514, host: '0.0.0.0', requireClientCert: true }),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
