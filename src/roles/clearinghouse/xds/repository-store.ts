// The XDS.b repository's storage: documents stream from the MTOM reader straight into the blob store
// (size and SHA-1 measured on the way, never the whole document in memory); one xds_document row per
// document uniqueId points at the content-addressed blob. Blobs are shared (content addressing, and
// the image store uses the same store), so one is deleted only when nothing references it.
import { pipeline } from 'node:stream/promises';
import type { Kysely, Transaction } from 'kysely';
import { digestStream, type AttachmentSink } from '../../../lib/soap/index.ts';
import type { BlobStore } from '../../../storage/blob/blob-store.ts';
import type { Database } from '../../../storage/db/schema.ts';
import type { XdsDocumentTable } from '../../../storage/db/tables/xds.ts';

/** What the sink returns for each attachment of a request. */
export interface StoredAttachment {
  readonly key: string;
  readonly size: number;
  /** Lower-case hex SHA-1. */
  readonly sha1: string;
  readonly contentType: string;
  /** The blob existed before this request (so this request must never delete it). */
  readonly alreadyStored: boolean;
}

/** Another owner of blobs (the image store): true when it still references the key. */
export type BlobReferenceCheck = (key: string) => Promise<boolean>;

export interface DocumentToStore {
  readonly uniqueId: string;
  readonly mimeType: string;
  readonly blob: StoredAttachment;
}

export class RepositoryStore {
  private readonly referenceChecks: BlobReferenceCheck[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly blobs: BlobStore,
    readonly repositoryUniqueId: string,
  ) {}

  /** Lets another feature (the image store) protect the blobs it references from deletion. */
  addBlobReferenceCheck(check: BlobReferenceCheck): void {
    this.referenceChecks.push(check);
  }

  /** The MTOM attachment sink: blob writer fed through a SHA-1/size counter. */
  sink(): AttachmentSink<StoredAttachment> {
    return async (attachment) => {
      const writer = this.blobs.createWriter();
      const { stream, digest } = digestStream(attachment.stream);
      try {
        await pipeline(stream, writer);
        const { durable, ...ref } = await writer.commit();
        await durable; // registered (and acknowledged) only once it survives a power loss
        const d = await digest;
        return { key: ref.key, size: d.size, sha1: d.sha1, contentType: attachment.contentType, alreadyStored: ref.alreadyStored };
      } catch (err) {
        await writer.abort();
        throw err;
      }
    };
  }

  /** Inserts the document rows in the registration's transaction (a known uniqueId keeps its row). */
  async insertDocuments(trx: Transaction<Database>, documents: readonly DocumentToStore[], now: Date): Promise<void> {
    for (const d of documents) {
      await trx
        .insertInto('xds_document')
        .values({
          unique_id: d.uniqueId,
          repository_unique_id: this.repositoryUniqueId,
          blob_key: d.blob.key,
          size: d.blob.size,
          sha1: d.blob.sha1,
          mime_type: d.mimeType,
          created_at: now.toISOString(),
        })
        .onConflict((oc) => oc.column('unique_id').doNothing())
        .execute();
    }
  }

  async findDocument(uniqueId: string): Promise<XdsDocumentTable | undefined> {
    return this.db.selectFrom('xds_document').selectAll().where('unique_id', '=', uniqueId).executeTakeFirst();
  }

  openDocument(row: Pick<XdsDocumentTable, 'blob_key'>): ReturnType<BlobStore['openRead']> {
    return this.blobs.openRead(row.blob_key);
  }

  async isBlobReferenced(key: string): Promise<boolean> {
    const row = await this.db.selectFrom('xds_document').select('unique_id').where('blob_key', '=', key).executeTakeFirst();
    if (row) return true;
    for (const check of this.referenceChecks) if (await check(key)) return true;
    return false;
  }

  /** Deletes blobs nothing references (after a failed request, or after retention). */
  async deleteUnreferenced(keys: Iterable<string>): Promise<number> {
    let deleted = 0;
    for (const key of new Set(keys)) {
      if (await this.isBlobReferenced(key)) continue;
      await this.blobs.delete(key);
      deleted++;
    }
    return deleted;
  }

  /** A failed request: drop what it stored, unless it existed before or is referenced now. */
  async release(stored: readonly StoredAttachment[]): Promise<void> {
    await this.deleteUnreferenced(stored.filter((s) => !s.alreadyStored).map((s) => s.key));
  }
}
