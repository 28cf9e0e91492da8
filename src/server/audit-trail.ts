// The product's own audit trail: every role builds its events with the audit library's builders
// (bound to this node as audit source) and hands them here; each is spooled to disk at once and
// delivered over TLS (RFC 5425) to the Audit Record Repository — this process's own audit role by
// default — so none is lost while the repository is down.
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  auditObjects,
  createAuditEvents,
  DurableAuditSender,
  ObjectIdTypes,
  type AuditEventBuilders,
  type AuditMessage,
  type NodeRef,
} from '../lib/audit/index.ts';
import type { Logger } from '../util/log.ts';

export interface AuditTrail {
  readonly events: AuditEventBuilders;
  /** Participant-object builders and ID type codes, for events that carry extra objects. */
  readonly objects: typeof auditObjects;
  readonly codes: typeof ObjectIdTypes;
  /** This application as a participant (AE title and host). */
  readonly node: NodeRef;
  /** Spools the message (never throws: a failure to audit is logged loudly). */
  emit(build: () => AuditMessage): void;
  /** Waits until everything spooled so far is delivered (tests, shutdown). */
  flush(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface AuditTrailOptions {
  dataDir: string;
  log: Logger;
  sourceId: string;
  enterpriseSiteId?: string;
  aet: string;
  repository: { host: string; port: number; caPem: string; certPem: string; keyPem: string };
}

export async function openAuditTrail(opts: AuditTrailOptions): Promise<AuditTrail> {
  const events = createAuditEvents({ auditSource: { sourceId: opts.sourceId, ...(opts.enterpriseSiteId ? { enterpriseSiteId: opts.enterpriseSiteId } : {}), typeCode: '4' } });
  const sender = await DurableAuditSender.open({
    directory: join(opts.dataDir, 'audit-spool'),
    appName: 'imageshare',
    tls: {
      host: opts.repository.host,
      port: opts.repository.port,
      ca: opts.repository.caPem,
      cert: opts.repository.certPem,
      key: opts.repository.keyPem,
    },
    logger: opts.log,
  });
  let closed = false;
  const node: NodeRef = { userId: opts.aet, alternativeUserId: String(process.pid), userName: 'ImageShare', host: hostname() };
  return {
    events,
    objects: auditObjects,
    codes: ObjectIdTypes,
    node,
    emit(build) {
      if (closed) {
        opts.log.warn('audit event after shutdown not recorded');
        return;
      }
      let message: AuditMessage;
      try {
        message = build();
      } catch (err) {
        opts.log.error({ err: (err as Error).message }, 'cannot build an audit message');
        return;
      }
      sender.send(message).catch((err: Error) => opts.log.error({ err: err.message }, 'cannot spool an audit message'));
    },
    flush: (timeoutMs) => sender.flush(timeoutMs),
    close: () => {
      closed = true;
      return sender.close({ flush: true, timeoutMs: 5000 });
    },
  };
}
