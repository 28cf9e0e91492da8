// Tables of the XDS.b registry and repository (owned by src/roles/clearinghouse/xds).
//
// The registry keeps each object (DocumentEntry, SubmissionSet, Folder) as one row: the attributes
// stored queries filter on are columns (codes as `code^^scheme`, times widened to 14 digits so ranges
// compare as text), the whole object is JSON for LeafClass answers. Multi-valued query attributes
// live in xds_object_code. The repository keeps one row per document (bytes in the blob store).
import type { Kysely, Migration } from 'kysely';

export interface XdsObjectTable {
  entry_uuid: string;
  /** 'DocumentEntry' | 'SubmissionSet' | 'Folder' */
  object_type: string;
  unique_id: string;
  lid: string;
  version: string;
  patient_id: string;
  /** Availability status URN. */
  status: string;
  /** Home community OID of the registry that holds it (urn:oid: form). */
  home_community_id: string | null;
  /** DocumentEntry objectType URN (stable / on-demand); null for other objects. */
  entry_type: string | null;
  class_code: string | null;
  type_code: string | null;
  practice_setting_code: string | null;
  hcft_code: string | null;
  format_code: string | null;
  content_type_code: string | null;
  source_id: string | null;
  /** 14-digit widened times (start of the period). */
  creation_time: string | null;
  service_start_time: string | null;
  service_stop_time: string | null;
  submission_time: string | null;
  last_update_time: string | null;
  mime_type: string | null;
  hash: string | null;
  size: number | null;
  repository_unique_id: string | null;
  /** SubmissionSets: SHA-256 of the submission as received, to recognise a replay. */
  fingerprint: string | null;
  /** The object as JSON (lib/xds model). */
  json: string;
  /** ISO 8601 UTC: retention. */
  created_at: string;
}

export interface XdsObjectCodeTable {
  entry_uuid: string;
  /** 'eventCode' | 'confidentialityCode' | 'authorPerson' | 'referenceId' | 'folderCode' */
  kind: string;
  value: string;
}

export interface XdsAssociationTable {
  entry_uuid: string;
  type: string;
  source_uuid: string;
  target_uuid: string;
  status: string;
  json: string;
  created_at: string;
}

export interface XdsDocumentTable {
  unique_id: string;
  repository_unique_id: string;
  blob_key: string;
  size: number;
  /** Lower-case hex SHA-1. */
  sha1: string;
  mime_type: string;
  created_at: string;
}

export interface XdsPatientTable {
  /** CX `id^^^&oid&ISO`. */
  patient_id: string;
  /** 'iti8' | 'admin' */
  source: string;
  created_at: string;
}

export interface XdsTables {
  xds_object: XdsObjectTable;
  xds_object_code: XdsObjectCodeTable;
  xds_association: XdsAssociationTable;
  xds_document: XdsDocumentTable;
  xds_patient: XdsPatientTable;
}

/** Migration names start with 0200_ so they sort after the image store's. */
export const xdsMigrations: Record<string, Migration> = {
  '0200_xds_registry_repository': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('xds_object')
        .addColumn('entry_uuid', 'text', (c) => c.primaryKey())
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('lid', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('home_community_id', 'text')
        .addColumn('entry_type', 'text')
        .addColumn('class_code', 'text')
        .addColumn('type_code', 'text')
        .addColumn('practice_setting_code', 'text')
        .addColumn('hcft_code', 'text')
        .addColumn('format_code', 'text')
        .addColumn('content_type_code', 'text')
        .addColumn('source_id', 'text')
        .addColumn('creation_time', 'text')
        .addColumn('service_start_time', 'text')
        .addColumn('service_stop_time', 'text')
        .addColumn('submission_time', 'text')
        .addColumn('last_update_time', 'text')
        .addColumn('mime_type', 'text')
        .addColumn('hash', 'text')
        .addColumn('size', 'bigint')
        .addColumn('repository_unique_id', 'text')
        .addColumn('fingerprint', 'text')
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // One object per uniqueId: a resubmitted DocumentEntry reuses the registered one.
      await db.schema.createIndex('xds_object_unique_id').on('xds_object').column('unique_id').unique().execute();
      await db.schema.createIndex('xds_object_patient').on('xds_object').columns(['patient_id', 'object_type', 'status']).execute();
      await db.schema.createIndex('xds_object_lid').on('xds_object').column('lid').execute();
      await db.schema.createIndex('xds_object_created').on('xds_object').column('created_at').execute();
      await db.schema
        .createTable('xds_object_code')
        .addColumn('entry_uuid', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('xds_object_code_entry').on('xds_object_code').columns(['entry_uuid', 'kind']).execute();
      await db.schema.createIndex('xds_object_code_value').on('xds_object_code').columns(['kind', 'value']).execute();
      await db.schema
        .createTable('xds_association')
        .addColumn('entry_uuid', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('source_uuid', 'text', (c) => c.notNull())
        .addColumn('target_uuid', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('xds_association_source').on('xds_association').column('source_uuid').execute();
      await db.schema.createIndex('xds_association_target').on('xds_association').column('target_uuid').execute();
      await db.schema
        .createTable('xds_document')
        .addColumn('unique_id', 'text', (c) => c.primaryKey())
        .addColumn('repository_unique_id', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha1', 'text', (c) => c.notNull())
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('xds_document_blob').on('xds_document').column('blob_key').execute();
      await db.schema.createIndex('xds_document_created').on('xds_document').column('created_at').execute();
      await db.schema
        .createTable('xds_patient')
        .addColumn('patient_id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
