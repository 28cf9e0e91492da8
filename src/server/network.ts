// Starts the whole network in one process (the embedded default): every role on one SQLite database
// and one data folder, sharing the HTTP(S) ports. Each role keeps to its own routes and tables.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../util/log.ts';
import { openDatabase, type MetadataDb } from '../storage/db/open.ts';
import { FsBlobStore } from '../storage/blob/fs-blob-store.ts';
import { BlobJournalError } from '../storage/blob/blob-journal.ts';
import { ConfigError } from '../config/load.ts';
import type { BlobStore } from '../storage/blob/blob-store.ts';
import { StaffAccounts } from '../auth/staff-accounts.ts';
import { registerStaffAuth } from '../auth/staff-routes.ts';
import { createHttpServers } from './http-server.ts';
import { loadOrCreateIdentity, type NetworkIdentity } from './identity.ts';
import { startEdge, type EdgeRole } from '../roles/edge/edge-role.ts';
import { startAuditRepository, type AuditRepository } from '../roles/audit/audit-repository.ts';
import { openAuditTrail, type AuditTrail } from './audit-trail.ts';
import { startClearinghouse, type ClearinghouseRole } from '../roles/clearinghouse/clearinghouse-role.ts';

export interface RunningNetwork {
  config: Config;
  identity: NetworkIdentity;
  ports: { http: number; https: number | null; dicom: number; auditTls: number | null; auditUdp: number | null };
  /** Set on the first start when no admin password was configured: print it once. */
  generatedAdminPassword?: string;
  db: MetadataDb;
  blobs: BlobStore;
  edge: EdgeRole;
  audit: AuditTrail;
  auditRepository: AuditRepository | null;
  clearinghouse: ClearinghouseRole;
  close(): Promise<void>;
}

export async function startNetwork(config: Config, log: Logger): Promise<RunningNetwork> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o750 });
  const identity = await loadOrCreateIdentity(config);
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, sqliteSynchronous: config.database.sqliteSynchronous });
  const cleanups: Array<() => Promise<void>> = [() => db.close()];
  let ready = false;
  try {
    let blobs: FsBlobStore;
    try {
      blobs = new FsBlobStore({
        dir: config.blobs.dir ?? join(config.dataDir, 'blobs'),
        fsync: config.blobs.fsync,
        journalBytes: config.blobs.journalMb * 1024 * 1024,
      });
    } catch (err) {
      // A site's IT person gets the reason and the setting to change, not a stack trace.
      if (err instanceof BlobJournalError) throw new ConfigError([err.message]);
      throw err;
    }
    cleanups.unshift(() => blobs.close());
    const accounts = new StaffAccounts(db.db, config.staff);
    const admin = await accounts.ensureAdmin(config.admin.initialPassword);
    if (admin.created) log.info({ username: 'admin' }, 'admin account created');

    const servers = await createHttpServers({
      logger: log,
      http: config.http,
      https: config.https.enabled
        ? { host: config.https.host, port: config.https.port, ...identity.tls, requireClientCert: config.https.requireClientCert }
        : undefined,
    });
    cleanups.unshift(() => servers.close());
    const app = servers.app;
    app.get('/healthz', async (_req, reply) => (ready ? { status: 'ok' } : reply.code(503).send({ status: 'starting' })));

    let auditRepository: AuditRepository | null = null;
    if (config.audit.repositoryEnabled) {
      auditRepository = await startAuditRepository({
        db: db.db,
        app,
        log: log.child({ role: 'audit' }),
        host: config.audit.host,
        tlsPort: config.audit.tlsPort,
        udpPort: config.audit.udpPort,
        tls: { ...identity.tls, requireClientCert: config.audit.requireClientCert },
      });
      const repo = auditRepository;
      cleanups.unshift(() => repo.close());
    }
    const [sendHost, sendPort] = config.audit.sendTo
      ? [config.audit.sendTo.split(':')[0]!, Number(config.audit.sendTo.split(':')[1])]
      : ['127.0.0.1', auditRepository?.tlsPort ?? config.audit.tlsPort];
    const audit = await openAuditTrail({
      dataDir: config.dataDir,
      log: log.child({ component: 'audit-trail' }),
      sourceId: `${config.dicom.aet}@${identity.oids.root}`,
      aet: config.dicom.aet,
      repository: { host: sendHost, port: sendPort, caPem: identity.tls.clientCaPem, certPem: identity.tls.certPem, keyPem: identity.tls.keyPem },
    });
    // Closed after the roles (so their last events are spooled) and before the repository.
    cleanups.unshift(async () => {
      audit.emit(() => audit.events.applicationStop({ application: audit.node }));
      await audit.close();
    });

    await registerStaffAuth(app, {
      accounts,
      cliToken: identity.cliToken,
      onSignIn: (e) => {
        log.info({ success: e.success, via: e.via, ip: e.ip }, 'staff sign-in');
        audit.emit(() =>
          audit.events.userLogin({
            user: { userId: e.username, host: e.ip },
            authenticator: audit.node,
            outcome: e.success ? 'success' : 'minor-failure',
            ...(e.reason ? { outcomeDescription: e.reason } : {}),
          }),
        );
      },
    });

    const clearinghouse = await startClearinghouse({ config, identity, db: db.db, blobs, app, audit, log: log.child({ role: 'clearinghouse' }) });
    cleanups.unshift(() => clearinghouse.close());

    const edge = await startEdge({ config, identity, db: db.db, sqlite: db.sqlite, blobs, app, audit, log: log.child({ role: 'edge' }) });
    cleanups.unshift(() => edge.close());

    const { httpPort, httpsPort } = await servers.listen();
    ready = true;
    audit.emit(() => audit.events.applicationStart({ application: audit.node }));
    log.info({ httpPort, httpsPort, dicomPort: edge.dicomPort, aet: config.dicom.aet }, 'ImageShare network ready');

    let closing: Promise<void> | null = null;
    return {
      config,
      identity,
      ports: { http: httpPort, https: httpsPort, dicom: edge.dicomPort, auditTls: auditRepository?.tlsPort ?? null, auditUdp: auditRepository?.udpPort ?? null },
      generatedAdminPassword: admin.generatedPassword,
      db,
      blobs,
      edge,
      audit,
      auditRepository,
      clearinghouse,
      close() {
        closing ??= (async () => {
          ready = false;
          for (const c of cleanups) await c().catch((err: Error) => log.error({ err: err.message }, 'error during shutdown'));
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => undefined);
    throw err;
  }
}
