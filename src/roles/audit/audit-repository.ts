// The audit role: an ATNA Audit Record Repository (ITI-20) receiving syslog over TLS (RFC 5425) and
// UDP (RFC 5426) from every node — ours and other vendors' — storing each validated message, and
// serving admins through FHIR AuditEvent search.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/db/schema.ts';
import type { Logger } from '../../util/log.ts';
import { startAuditReceiver, type AuditReceiver } from '../../lib/audit/index.ts';
import { AuditStore } from './audit-store.ts';
import { registerAuditEventSearch } from './audit-event-routes.ts';
import { registerAuditRoutes } from './audit-routes.ts';

export interface AuditRepositoryOptions {
  db: Kysely<Database>;
  app: FastifyInstance;
  log: Logger;
  host: string;
  tlsPort: number;
  udpPort: number;
  tls: { certPem: string; keyPem: string; clientCaPem: string; requireClientCert: boolean };
}

export interface AuditRepository {
  store: AuditStore;
  tlsPort: number;
  udpPort: number;
  close(): Promise<void>;
}

export async function startAuditRepository(opts: AuditRepositoryOptions): Promise<AuditRepository> {
  const store = new AuditStore(opts.db);
  const receiver: AuditReceiver = await startAuditReceiver({
    tls: {
      host: opts.host,
      port: opts.tlsPort,
      key: opts.tls.keyPem,
      cert: opts.tls.certPem,
      ca: opts.tls.clientCaPem,
      requireClientCertificate: opts.tls.requireClientCert,
    },
    udp: { host: opts.host, port: opts.udpPort },
    store: async (record) => {
      await store.store({
        message: record.message,
        xml: record.xml,
        messageId: record.messageId,
        attributeStyle: record.attributeStyle,
        transport: record.peer.transport,
        peerAddress: record.peer.address,
        receivedAt: record.receivedAt,
      });
    },
    onRejected: (reason, peer) => {
      opts.log.warn({ code: reason.code, reason: reason.message.slice(0, 200), transport: peer.transport, peer: peer.address }, 'audit message rejected');
    },
  });
  await registerAuditEventSearch(opts.app, { store });
  await registerAuditRoutes(opts.app, { store });
  return {
    store,
    tlsPort: receiver.tlsAddress?.port ?? 0,
    udpPort: receiver.udpAddress?.port ?? 0,
    close: () => receiver.close(),
  };
}
