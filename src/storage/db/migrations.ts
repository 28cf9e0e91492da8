// Schema migrations, in order. Each runs once, in a transaction, on SQLite and PostgreSQL alike:
// only portable column types (text, integer, bigint) are used.
import type { Kysely, Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_staff': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('staff_user')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('staff_session')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('staff_user.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_edge_index': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('edge_study')
        .addColumn('study_uid', 'text', (c) => c.primaryKey())
        .addColumn('patient_id', 'text')
        .addColumn('issuer_of_patient_id', 'text')
        .addColumn('patient_name', 'text')
        .addColumn('patient_birth_date', 'text')
        .addColumn('patient_sex', 'text')
        .addColumn('accession_number', 'text')
        .addColumn('study_date', 'text')
        .addColumn('study_time', 'text')
        .addColumn('study_description', 'text')
        .addColumn('referring_physician', 'text')
        .addColumn('study_id', 'text')
        .addColumn('specific_character_set', 'text')
        .addColumn('modalities', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('num_series', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('num_instances', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('first_received_at', 'text', (c) => c.notNull())
        .addColumn('last_received_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('edge_study_patient_id').on('edge_study').column('patient_id').execute();
      await db.schema.createIndex('edge_study_accession').on('edge_study').column('accession_number').execute();
      await db.schema
        .createTable('edge_series')
        .addColumn('series_uid', 'text', (c) => c.primaryKey())
        .addColumn('study_uid', 'text', (c) => c.notNull())
        .addColumn('modality', 'text')
        .addColumn('series_number', 'integer')
        .addColumn('series_description', 'text')
        .addColumn('body_part', 'text')
        .addColumn('num_instances', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('edge_series_study').on('edge_series').column('study_uid').execute();
      await db.schema
        .createTable('edge_instance')
        .addColumn('sop_instance_uid', 'text', (c) => c.primaryKey())
        .addColumn('series_uid', 'text', (c) => c.notNull())
        .addColumn('study_uid', 'text', (c) => c.notNull())
        .addColumn('sop_class_uid', 'text', (c) => c.notNull())
        .addColumn('transfer_syntax_uid', 'text', (c) => c.notNull())
        .addColumn('instance_number', 'integer')
        .addColumn('number_of_frames', 'integer')
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('calling_aet', 'text')
        .addColumn('received_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('edge_instance_series').on('edge_instance').column('series_uid').execute();
      await db.schema.createIndex('edge_instance_study').on('edge_instance').column('study_uid').execute();
    },
  },
  '0003_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_record')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('event_time', 'text', (c) => c.notNull())
        .addColumn('event_id_code', 'text', (c) => c.notNull())
        .addColumn('event_id_system', 'text')
        .addColumn('event_id_display', 'text')
        .addColumn('event_action', 'text')
        .addColumn('outcome', 'integer', (c) => c.notNull())
        .addColumn('event_types', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('user_name', 'text')
        .addColumn('user_host', 'text')
        .addColumn('attribute_style', 'text', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('peer_address', 'text')
        .addColumn('xml', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_record_time').on('audit_record').column('event_time').execute();
      await db.schema.createIndex('audit_record_user').on('audit_record').column('user_id').execute();
      await db.schema
        .createTable('audit_entity')
        .addColumn('record_id', 'text', (c) => c.notNull().references('audit_record.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entity_value').on('audit_entity').columns(['value', 'kind']).execute();
      await db.schema.createIndex('audit_entity_record').on('audit_entity').column('record_id').execute();
    },
  },
};
