// Tables of the edge's release and submission jobs (owned by src/roles/edge/submission).
import type { Kysely, Migration } from 'kysely';

/** One release of a study to its patient: the identifiers it was submitted under (fixed at creation). */
export interface EdgeReleaseTable {
  release_id: string;
  study_uid: string;
  /** The site's patient ID (and issuer) the images carry: the XDS sourcePatientId. */
  site_patient_id: string;
  site_issuer: string | null;
  /** Canonical access code (12 symbols, no dashes). */
  access_code: string;
  /** YYYYMMDD */
  birth_date: string;
  /** CX `<hex>^^^&<authority>&ISO`. */
  registry_patient_id: string;
  /** Deterministic ids, so a retry never mints a second manifest or submission set. */
  kos_series_uid: string;
  kos_sop_instance_uid: string;
  submission_set_uid: string;
  created_at: string;
  created_by: string;
}

/** Append-only job history: the latest row is the job's state. */
export interface EdgeReleaseStatusTable {
  release_id: string;
  seq: number;
  /** 'queued' | 'sending-images' | 'images-sent' | 'manifest-registered' | 'failed' | 'given-up' */
  status: string;
  attempts: number;
  error: string | null;
  detail: string | null;
  at: string;
}

/** Instances the clearinghouse confirmed stored (STOW-RS ReferencedSOPSequence): never sent again. */
export interface EdgeSubmittedInstanceTable {
  destination: string;
  sop_instance_uid: string;
  release_id: string;
  confirmed_at: string;
}

/** The access code a site patient was given, reused for their later releases. */
export interface EdgePatientCodeTable {
  /** issuer + '|' + patient ID */
  site_patient_key: string;
  access_code: string;
  created_at: string;
}

export interface EdgeSubmissionTables {
  edge_release: EdgeReleaseTable;
  edge_release_status: EdgeReleaseStatusTable;
  edge_submitted_instance: EdgeSubmittedInstanceTable;
  edge_patient_code: EdgePatientCodeTable;
}

/** Migration names start with 0300_. */
export const edgeSubmissionMigrations: Record<string, Migration> = {
  '0300_edge_release': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('edge_release')
        .addColumn('release_id', 'text', (c) => c.primaryKey())
        .addColumn('study_uid', 'text', (c) => c.notNull().unique())
        .addColumn('site_patient_id', 'text', (c) => c.notNull())
        .addColumn('site_issuer', 'text')
        .addColumn('access_code', 'text', (c) => c.notNull())
        .addColumn('birth_date', 'text', (c) => c.notNull())
        .addColumn('registry_patient_id', 'text', (c) => c.notNull())
        .addColumn('kos_series_uid', 'text', (c) => c.notNull())
        .addColumn('kos_sop_instance_uid', 'text', (c) => c.notNull())
        .addColumn('submission_set_uid', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('edge_release_status')
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('detail', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('edge_release_status_pk', ['release_id', 'seq'])
        .execute();
      await db.schema
        .createTable('edge_submitted_instance')
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('sop_instance_uid', 'text', (c) => c.notNull())
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('edge_submitted_instance_pk', ['destination', 'sop_instance_uid'])
        .execute();
      await db.schema
        .createTable('edge_patient_code')
        .addColumn('site_patient_key', 'text', (c) => c.primaryKey())
        .addColumn('access_code', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
