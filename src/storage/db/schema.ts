// Table types of the metadata database, shared by SQLite (embedded) and PostgreSQL (scale-out).
// Timestamps are ISO 8601 UTC strings and booleans are 0/1 integers so one query layer fits both.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ClearinghouseImageTables } from './tables/clearinghouse-images.ts';
import type { XdsTables } from './tables/xds.ts';
import type { EdgeSubmissionTables } from './tables/edge-submission.ts';

export interface StaffUserTable {
  id: string;
  username: string;
  password_hash: string;
  role: 'user' | 'supervisor' | 'admin';
  created_at: string;
  failed_logins: Generated<number>;
  locked_until: string | null;
  disabled: Generated<number>;
}

export interface StaffSessionTable {
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface EdgeStudyTable {
  study_uid: string;
  patient_id: string | null;
  issuer_of_patient_id: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  accession_number: string | null;
  study_date: string | null;
  study_time: string | null;
  study_description: string | null;
  referring_physician: string | null;
  study_id: string | null;
  specific_character_set: string | null;
  /** Modalities of the study's series, backslash-separated, sorted. */
  modalities: string;
  num_series: number;
  num_instances: number;
  first_received_at: string;
  last_received_at: string;
}

export interface EdgeSeriesTable {
  series_uid: string;
  study_uid: string;
  modality: string | null;
  series_number: number | null;
  series_description: string | null;
  body_part: string | null;
  num_instances: number;
}

export interface EdgeInstanceTable {
  sop_instance_uid: string;
  series_uid: string;
  study_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  instance_number: number | null;
  number_of_frames: number | null;
  /** Content address of the dataset bytes as transmitted (no File Meta group) in the blob store. */
  blob_key: string;
  size_bytes: number;
  calling_aet: string | null;
  received_at: string;
}

export interface AuditRecordTable {
  /** The sender's stable message id, or a hash of the XML when it sent none: duplicates are dropped. */
  id: string;
  received_at: string;
  event_time: string;
  event_id_code: string;
  event_id_system: string | null;
  event_id_display: string | null;
  event_action: string | null;
  outcome: number;
  /** "system|code|display" per line. */
  event_types: string;
  source_id: string;
  /** The requestor's user id (or the first participant's). */
  user_id: string | null;
  user_name: string | null;
  /** Network access point of the requestor. */
  user_host: string | null;
  attribute_style: string;
  transport: string;
  peer_address: string | null;
  xml: string;
}

/** One row per identifier a record names (patient IDs, study UIDs, document ids, users): the search keys. */
export interface AuditEntityTable {
  record_id: string;
  /** 'patient' | 'study' | 'document' | 'object' | 'user' */
  kind: string;
  value: string;
}

/** Each feature keeps its tables (and migrations) in its own file under ./tables. */
export interface Database extends ClearinghouseImageTables, XdsTables, EdgeSubmissionTables {
  audit_record: AuditRecordTable;
  audit_entity: AuditEntityTable;
  staff_user: StaffUserTable;
  staff_session: StaffSessionTable;
  edge_study: EdgeStudyTable;
  edge_series: EdgeSeriesTable;
  edge_instance: EdgeInstanceTable;
}

export type StaffUser = Selectable<StaffUserTable>;
export type NewStaffUser = Insertable<StaffUserTable>;
export type StaffUserUpdate = Updateable<StaffUserTable>;
export type EdgeStudy = Selectable<EdgeStudyTable>;
export type EdgeInstance = Selectable<EdgeInstanceTable>;
