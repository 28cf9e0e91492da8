// The image store's index: one row per stored instance (clearinghouse_instance), written after the
// instance's bytes are durable. A SOP Instance UID is stored once: a later copy is a duplicate and the
// first one is kept.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import type { ClearinghouseInstanceTable } from '../../../storage/db/tables/clearinghouse-images.ts';

export type StoredInstanceRow = Selectable<ClearinghouseInstanceTable>;

export type RecordOutcome =
  | { kind: 'stored' }
  /** Already indexed; `keptBlobKey` is the first copy's content address. */
  | { kind: 'duplicate'; keptBlobKey: string };

export class ImageIndex {
  constructor(private readonly db: Kysely<Database>) {}

  async findInstance(sopInstanceUid: string): Promise<StoredInstanceRow | undefined> {
    return this.db.selectFrom('clearinghouse_instance').selectAll().where('sop_instance_uid', '=', sopInstanceUid).executeTakeFirst();
  }

  async countInstancesOfStudy(studyUid: string): Promise<number> {
    const row = await this.db
      .selectFrom('clearinghouse_instance')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('study_uid', '=', studyUid)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** True when some indexed instance uses the blob (so it must not be deleted). */
  async isBlobReferenced(blobKey: string): Promise<boolean> {
    const row = await this.db.selectFrom('clearinghouse_instance').select('sop_instance_uid').where('blob_key', '=', blobKey).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Indexes a batch in one transaction; the outcome of each row, in order. */
  async recordInstances(rows: readonly ClearinghouseInstanceTable[]): Promise<RecordOutcome[]> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes: RecordOutcome[] = [];
      for (const row of rows) {
        const inserted = await trx
          .insertInto('clearinghouse_instance')
          .values(row)
          .onConflict((oc) => oc.column('sop_instance_uid').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
          outcomes.push({ kind: 'stored' });
          continue;
        }
        const existing = await trx.selectFrom('clearinghouse_instance').select('blob_key').where('sop_instance_uid', '=', row.sop_instance_uid).executeTakeFirstOrThrow();
        outcomes.push({ kind: 'duplicate', keptBlobKey: existing.blob_key });
      }
      return outcomes;
    });
  }
}
