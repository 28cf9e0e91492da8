// The edge's submission feature, started by the edge role: the release job service, its staff routes,
// and the resume of unfinished jobs. It stops when the HTTP application closes (before the database).
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../../config/schema.ts';
import type { Database } from '../../../storage/db/schema.ts';
import type { BlobStore } from '../../../storage/blob/blob-store.ts';
import type { Logger } from '../../../util/log.ts';
import type { AuditTrail } from '../../../server/audit-trail.ts';
import { loadOrCreateIdentity, type NetworkIdentity } from '../../../server/identity.ts';
import type { EdgeIndex } from '../edge-index.ts';
import { registerReleaseRoutes } from './release-routes.ts';
import { clearinghouseTargetFor, SubmissionService, type ReportSource, type RetryPolicy } from './submission-service.ts';

export { SubmissionService, clearinghouseTargetFor, type ReportSource, type ReleaseResult, type RetryPolicy } from './submission-service.ts';
export { ReleaseError, SubmissionStepError } from './errors.ts';
export type { ClearinghouseTarget } from './clearinghouse-target.ts';

export interface EdgeSubmissionOptions {
  config: Config;
  db: Kysely<Database>;
  blobs: BlobStore;
  app: FastifyInstance;
  audit: AuditTrail;
  log: Logger;
  index: EdgeIndex;
  /** The node's identity; read from the data folder when not given (created there at start). */
  identity?: NetworkIdentity;
  reportSource?: ReportSource;
  retry?: Partial<RetryPolicy>;
}

export async function startEdgeSubmission(opts: EdgeSubmissionOptions): Promise<SubmissionService> {
  const identity = opts.identity ?? (await loadOrCreateIdentity(opts.config));
  const log = opts.log.child({ component: 'edge-submission' });
  const service = new SubmissionService({
    config: opts.config,
    db: opts.db,
    blobs: opts.blobs,
    index: opts.index,
    audit: opts.audit,
    log,
    identity,
    target: clearinghouseTargetFor(opts.config, identity, opts.app),
    ...(opts.reportSource ? { reportSource: opts.reportSource } : {}),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  await registerReleaseRoutes(opts.app, service);
  opts.app.addHook('onClose', async () => service.close());
  // Resume once the server listens (the own clearinghouse is reached over its HTTP port).
  opts.app.addHook('onListen', async () => {
    const resumed = await service.resume();
    if (resumed > 0) log.info({ resumed }, 'resumed unfinished release jobs');
  });
  return service;
}
