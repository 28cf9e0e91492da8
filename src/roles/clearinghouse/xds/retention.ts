// Retention: registry entries, repository documents and their bytes older than
// clearinghouse.retentionDays are deleted together (0 keeps everything). Rows go in one transaction
// per batch; a blob is deleted afterwards only when nothing references it any more (another
// document with the same bytes, or the image store through its reference check).
import type { Kysely } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import type { RepositoryStore } from './repository-store.ts';

export interface PurgeResult {
  readonly objects: number;
  readonly associations: number;
  readonly documents: number;
  readonly blobs: number;
}

const BATCH = 500;
const DAY_MS = 86_400_000;

export async function purgeExpired(db: Kysely<Database>, repository: RepositoryStore, retentionDays: number, now: Date): Promise<PurgeResult> {
  const total = { objects: 0, associations: 0, documents: 0, blobs: 0 };
  if (retentionDays <= 0) return total;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS).toISOString();
  for (;;) {
    const objects = await db.selectFrom('xds_object').select('entry_uuid').where('created_at', '<', cutoff).limit(BATCH).execute();
    const documents = await db.selectFrom('xds_document').select(['unique_id', 'blob_key']).where('created_at', '<', cutoff).limit(BATCH).execute();
    const oldAssociations = await db.selectFrom('xds_association').select('entry_uuid').where('created_at', '<', cutoff).limit(BATCH).execute();
    if (objects.length === 0 && documents.length === 0 && oldAssociations.length === 0) break;
    const ids = objects.map((o) => o.entry_uuid);
    await db.transaction().execute(async (trx) => {
      if (ids.length > 0) {
        await trx.deleteFrom('xds_object_code').where('entry_uuid', 'in', ids).execute();
        const a = await trx.deleteFrom('xds_association').where((eb) => eb.or([eb('source_uuid', 'in', ids), eb('target_uuid', 'in', ids)])).executeTakeFirst();
        total.associations += Number(a.numDeletedRows);
        await trx.deleteFrom('xds_object').where('entry_uuid', 'in', ids).execute();
        total.objects += ids.length;
      }
      if (oldAssociations.length > 0) {
        const a = await trx.deleteFrom('xds_association').where('entry_uuid', 'in', oldAssociations.map((o) => o.entry_uuid)).executeTakeFirst();
        total.associations += Number(a.numDeletedRows);
      }
      if (documents.length > 0) {
        await trx.deleteFrom('xds_document').where('unique_id', 'in', documents.map((d) => d.unique_id)).execute();
        total.documents += documents.length;
      }
    });
    total.blobs += await repository.deleteUnreferenced(documents.map((d) => d.blob_key));
  }
  return total;
}
