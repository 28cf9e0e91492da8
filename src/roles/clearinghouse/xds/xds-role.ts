// The clearinghouse's XDS.b Document Registry + Document Repository and XDS-I.b Imaging Document
// Source, on the shared HTTP(S) ports (client certificates are enforced by the HTTPS server):
//   POST /xds/repository  ITI-41 Provide and Register (also RAD-68), ITI-43 Retrieve Document Set
//   POST /xds/registry    ITI-42 Register Document Set, ITI-18 Registry Stored Query
//   POST /xds/imaging     RAD-69 Retrieve Imaging Document Set
// The routes live in an encapsulated plugin whose content-type parsers hand the raw request stream
// to the SOAP reader, so they do not clash with the parsers of other routes (STOW-RS).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { memoryAttachmentSink, type BufferedAttachment } from '../../../lib/soap/index.ts';
import { REGISTRY_STORED_QUERY_ACTION, RETRIEVE_DOCUMENT_SET_ACTION, XDSB_DOCUMENT } from '../../../lib/xds/index.ts';
import type { ClearinghouseOptions } from '../clearinghouse-role.ts';
import type { ImageStoreRole } from '../images/image-store-role.ts';
import { startMllpServer, type MllpServer } from '../../../lib/hl7/index.ts';
import { handlePatientIdentityFeed } from './iti8-patient-identity-feed.ts';
import { handleProvideAndRegister, provideAndRegisterErrorAnswer } from './iti41-provide-and-register-route.ts';
import { handleRegister, registerErrorAnswer } from './iti42-register-route.ts';
import { handleStoredQuery, storedQueryErrorAnswer } from './iti18-stored-query-route.ts';
import { handleRetrieveDocumentSet, retrieveErrorAnswer } from './iti43-retrieve-document-set-route.ts';
import { handleRetrieveImagingDocumentSet, imagingRetrieveErrorAnswer } from './rad69-retrieve-imaging-route.ts';
import { RegistryStore } from './registry-store.ts';
import { RepositoryStore, type BlobReferenceCheck, type StoredAttachment } from './repository-store.ts';
import { purgeExpired, type PurgeResult } from './retention.ts';
import { runSoapExchange, type SoapAnswer } from './soap-endpoint.ts';
import type { XdsContext } from './xds-context.ts';

export interface XdsRole {
  readonly registry: RegistryStore;
  readonly repository: RepositoryStore;
  /** Deletes content older than clearinghouse.retentionDays (also run hourly). */
  purgeExpired(now?: Date): Promise<PurgeResult>;
  /** Port of the ITI-8 Patient Identity Feed listener (MLLP); null when disabled or not bound. */
  readonly patientFeedPort: number | null;
  /** The image store registers here the check that keeps its blobs from being purged. */
  addBlobReferenceCheck(check: BlobReferenceCheck): void;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
/** Registry / imaging requests carry no documents: whatever MTOM parts they have stay small. */
const SMALL_SINK_BYTES = 1024 * 1024;

type Route = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

function routes(ctx: XdsContext): { repository: Route; registry: Route; imaging: Route } {
  const small = memoryAttachmentSink(SMALL_SINK_BYTES);
  return {
    repository: (request, reply) =>
      runSoapExchange<StoredAttachment>(
        request,
        reply,
        {
          log: ctx.log,
          read: { sink: ctx.repository.sink(), inlineBinaryElements: [XDSB_DOCUMENT], ...(ctx.limits ? { limits: ctx.limits } : {}) },
          errorAnswer: (errors, envelope) =>
            envelope?.addressing.action === RETRIEVE_DOCUMENT_SET_ACTION ? retrieveErrorAnswer(errors, { envelope }) : provideAndRegisterErrorAnswer(errors),
          onFailure: (stored) => ctx.repository.release(stored),
        },
        async (ex): Promise<SoapAnswer> =>
          ex.envelope.addressing.action === RETRIEVE_DOCUMENT_SET_ACTION
            ? handleRetrieveDocumentSet(ctx, ex)
            : handleProvideAndRegister(ctx, ex), // refuses other actions (wsa:ActionNotSupported)
      ),
    registry: (request, reply) =>
      runSoapExchange<BufferedAttachment>(
        request,
        reply,
        {
          log: ctx.log,
          read: { sink: small, ...(ctx.limits ? { limits: ctx.limits } : {}) },
          errorAnswer: (errors, envelope) => (envelope?.addressing.action === REGISTRY_STORED_QUERY_ACTION ? storedQueryErrorAnswer(errors) : registerErrorAnswer(errors)),
        },
        async (ex) => (ex.envelope.addressing.action === REGISTRY_STORED_QUERY_ACTION ? handleStoredQuery(ctx, ex) : handleRegister(ctx, ex)),
      ),
    imaging: (request, reply) =>
      runSoapExchange<BufferedAttachment>(
        request,
        reply,
        {
          log: ctx.log,
          read: { sink: small, ...(ctx.limits ? { limits: ctx.limits } : {}) },
          errorAnswer: (errors, envelope) => imagingRetrieveErrorAnswer(errors, envelope ? { envelope } : undefined),
        },
        (ex) => handleRetrieveImagingDocumentSet(ctx, ex),
      ),
  };
}

export async function startXdsServices(opts: ClearinghouseOptions & { images: ImageStoreRole }): Promise<XdsRole> {
  const { config, identity, db, blobs, app, audit, log } = opts;
  const registry = new RegistryStore(db, {
    homeCommunityId: identity.oids.homeCommunityId,
    patientIdAuthority: identity.oids.patientIdAuthority,
    openPatientIds: config.clearinghouse.openPatientIds,
  });
  const repository = new RepositoryStore(db, blobs, identity.oids.repositoryUniqueId);
  // The image store shares the blob store: never purge bytes one of its instances still uses.
  repository.addBlobReferenceCheck(async (key) => (await db.selectFrom('clearinghouse_instance').select('sop_instance_uid').where('blob_key', '=', key).executeTakeFirst()) !== undefined);
  const ctx: XdsContext = { db, registry, repository, audit, log, images: opts.images, now: () => new Date() };
  const handlers = routes(ctx);

  await app.register(
    async (scope: FastifyInstance) => {
      // Raw streams for every media type: the SOAP reader decides (415 / VersionMismatch faults).
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      scope.post('/repository', handlers.repository);
      scope.post('/registry', handlers.registry);
      scope.post('/imaging', handlers.imaging);
    },
    { prefix: '/xds' },
  );
  // ITI-8: a feed that cannot bind (port taken by another process) leaves the registry working
  // without it; derived and conformance-mode patient IDs need no feed.
  let feed: MllpServer | null = null;
  if (config.hl7.enabled) {
    try {
      let boundPort = config.hl7.port;
      feed = await startMllpServer({
        host: config.hl7.host,
        port: config.hl7.port,
        handle: (message, peer) => handlePatientIdentityFeed(ctx, message, peer, boundPort),
        onError: (err) => log.warn({ err: err.message }, 'ITI-8 patient identity feed connection error'),
      });
      boundPort = feed.port;
    } catch (err) {
      log.warn({ err: (err as Error).message, port: config.hl7.port }, 'ITI-8 patient identity feed not started');
    }
  }
  log.info({ repositoryUniqueId: identity.oids.repositoryUniqueId, openPatientIds: config.clearinghouse.openPatientIds }, 'XDS registry, repository and imaging source ready');

  const retentionDays = config.clearinghouse.retentionDays;
  let running: Promise<PurgeResult> | null = null;
  const purge = (now: Date = new Date()): Promise<PurgeResult> => {
    running ??= purgeExpired(db, repository, retentionDays, now).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    purge().then(
      (r) => {
        if (r.objects + r.documents > 0) log.info(r, 'XDS retention purge');
      },
      (err: unknown) => log.error({ err: (err as Error).message }, 'XDS retention purge failed'),
    );
  }, HOUR_MS);
  timer.unref();

  return {
    registry,
    repository,
    patientFeedPort: feed?.port ?? null,
    purgeExpired: purge,
    addBlobReferenceCheck: (check) => repository.addBlobReferenceCheck(check),
    async close() {
      clearInterval(timer);
      await feed?.close();
      await running?.catch(() => undefined);
    },
  };
}
