// Registering a submission: the one code path of ITI-42 (Register Document Set-b) and of the
// repository's ITI-41 / RAD-68, which in this process registers directly (no SOAP hop). Message
// rules first, then replay detection, then the registry-state rules, then one transaction for the
// registry objects and the repository's document rows: all or nothing (NIST 12084).
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import {
  completeDocumentEntriesForRegistry,
  registryError,
  validateAgainstRegistry,
  validateSubmissionMetadata,
  XdsError,
  type MetadataProblem,
  type ReceivedDocument,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';
import type { RegistryStore } from './registry-store.ts';
import type { RepositoryStore, StoredAttachment } from './repository-store.ts';

export interface SubmissionInput {
  readonly transaction: 'ITI-41' | 'ITI-42';
  /** As received (symbolic ids, no repository completion yet). */
  readonly metadata: XdsMetadata;
  readonly problems: readonly MetadataProblem[];
  /** ITI-41: stored attachments by xdsb:Document id (= the DocumentEntry id in the message). */
  readonly documents?: ReadonlyMap<string, StoredAttachment>;
}

export interface SubmissionOutcome {
  /** True when this exact submission was registered before: nothing new was registered. */
  readonly replay: boolean;
  /** The metadata as registered (repository-completed; ids as in the message). */
  readonly metadata: XdsMetadata;
}

export interface SubmissionContext {
  readonly db: Kysely<Database>;
  readonly registry: RegistryStore;
  /** Required for ITI-41. */
  readonly repository?: RepositoryStore;
  readonly now?: () => Date;
}

/** A stable digest of what was submitted: metadata as received plus the documents' bytes. */
export function submissionFingerprint(metadata: XdsMetadata, documents: ReadonlyMap<string, ReceivedDocument> | undefined): string {
  const docs = [...(documents ?? new Map<string, ReceivedDocument>()).entries()].map(([id, d]) => [id, d.sha1.toLowerCase(), d.size]).sort();
  return createHash('sha256').update(JSON.stringify({ metadata, docs })).digest('hex');
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === '23505' || (typeof e.message === 'string' && /UNIQUE constraint/.test(e.message));
}

/** Validates and registers; throws XdsError with every RegistryError when the submission fails. */
export async function registerSubmission(ctx: SubmissionContext, input: SubmissionInput): Promise<SubmissionOutcome> {
  const received = input.documents ? new Map<string, ReceivedDocument>([...input.documents].map(([id, d]) => [id, { size: d.size, sha1: d.sha1 }])) : undefined;
  const messageErrors = validateSubmissionMetadata({
    transaction: input.transaction,
    metadata: input.metadata,
    problems: input.problems,
    ...(received ? { documents: received } : {}),
  });
  if (messageErrors.some((e) => e.severity === 'Error')) throw new XdsError(messageErrors);

  let metadata = input.metadata;
  if (input.transaction === 'ITI-41') {
    if (!ctx.repository || !received) throw new Error('ITI-41 registration needs the repository and the documents');
    metadata = completeDocumentEntriesForRegistry(metadata, received, ctx.repository.repositoryUniqueId);
  }
  const fingerprint = submissionFingerprint(input.metadata, received);
  const ss = metadata.submissionSets[0];
  if (ss && (await ctx.registry.replayState(ss.uniqueId, fingerprint)) === 'replay') return { replay: true, metadata };

  const registryErrors = await validateAgainstRegistry(metadata, ctx.registry.lookups());
  if (registryErrors.some((e) => e.severity === 'Error')) throw new XdsError(registryErrors);

  const now = ctx.now?.() ?? new Date();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await ctx.registry.register(trx, metadata, fingerprint, now);
      if (input.transaction === 'ITI-41' && ctx.repository && input.documents) {
        const rows = metadata.documentEntries.flatMap((de) => {
          const blob = input.documents?.get(de.entryUUID);
          return blob ? [{ uniqueId: de.uniqueId, mimeType: de.mimeType, blob }] : [];
        });
        await ctx.repository.insertDocuments(trx, rows, now);
      }
    });
  } catch (err) {
    // Two identical submissions racing: the loser sees the unique index.
    if (isUniqueViolation(err)) throw new XdsError(registryError('XDSDuplicateUniqueIdInRegistry', 'an object of this submission was registered concurrently'));
    throw err;
  }
  return { replay: false, metadata };
}
