// Tables of the clearinghouse image store (owned by src/roles/clearinghouse/images).
import type { Kysely, Migration } from 'kysely';

/** One row per stored instance; the bytes are the dataset as sent (no File Meta group) in the blob store. */
export interface ClearinghouseInstanceTable {
  sop_instance_uid: string;
  study_uid: string;
  series_uid: string;
  sop_class_uid: string;
  /** Transfer syntax of the stored dataset bytes (from the sender's File Meta group). */
  transfer_syntax_uid: string;
  /** Patient ID (0010,0020) as in the dataset; null when absent. */
  patient_id: string | null;
  issuer_of_patient_id: string | null;
  /** Content address of the dataset bytes in the blob store. */
  blob_key: string;
  size_bytes: number;
  received_at: string;
  /** Who stored it: "node:<certificate subject CN>" or "staff:<username>". */
  stored_by: string;
}

export interface ClearinghouseImageTables {
  clearinghouse_instance: ClearinghouseInstanceTable;
}

/** Migration names start with 0100_ so they sort after the core ones. */
export const clearinghouseImageMigrations: Record<string, Migration> = {
  '0100_clearinghouse_instance': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('clearinghouse_instance')
        .addColumn('sop_instance_uid', 'text', (c) => c.primaryKey())
        .addColumn('study_uid', 'text', (c) => c.notNull())
        .addColumn('series_uid', 'text', (c) => c.notNull())
        .addColumn('sop_class_uid', 'text', (c) => c.notNull())
        .addColumn('transfer_syntax_uid', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'text')
        .addColumn('issuer_of_patient_id', 'text')
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('stored_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('clearinghouse_instance_study').on('clearinghouse_instance').column('study_uid').execute();
      await db.schema.createIndex('clearinghouse_instance_series').on('clearinghouse_instance').column('series_uid').execute();
      await db.schema.createIndex('clearinghouse_instance_blob').on('clearinghouse_instance').column('blob_key').execute();
    },
  },
};
