// The edge's index of received studies: patient/study/series/instance rows kept with counters, written
// in one transaction per instance, after the instance's bytes are durable in the blob store.
import { sql, type Kysely } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Database, EdgeStudy } from '../../storage/db/schema.ts';
import { SqliteInstanceRecorder } from './edge-index-sqlite.ts';

/** What the edge indexes of one received instance (decoded text, no File Meta). */
export interface InstanceIndexRecord {
  patientId: string | null;
  issuerOfPatientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  studyInstanceUid: string;
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  studyId: string | null;
  specificCharacterSet: string | null;
  seriesInstanceUid: string;
  modality: string | null;
  seriesNumber: number | null;
  seriesDescription: string | null;
  bodyPartExamined: string | null;
  sopClassUid: string;
  sopInstanceUid: string;
  instanceNumber: number | null;
  numberOfFrames: number | null;
}

export interface StoredObject {
  blobKey: string;
  sizeBytes: number;
  transferSyntaxUid: string;
  callingAet: string | null;
}

export type IndexOutcome =
  | { kind: 'stored' }
  /** Same SOP Instance UID seen before; `sameBytes` false means a different copy (first one kept). */
  | { kind: 'duplicate'; sameBytes: boolean; keptBlobKey: string };

export interface StudySummary {
  studyInstanceUid: string;
  patientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  issuerOfPatientId: string | null;
  accessionNumber: string | null;
  studyDate: string | null;
  studyTime: string | null;
  studyDescription: string | null;
  referringPhysicianName: string | null;
  modalities: string[];
  numberOfSeries: number;
  numberOfInstances: number;
  lastReceivedAt: string;
}

export interface StudyQuery {
  patientId?: string;
  accession?: string;
  limit?: number;
  offset?: number;
}

export function mergeModalities(existing: string, add: string | null): string {
  const set = new Set(existing ? existing.split('\\') : []);
  if (add) set.add(add);
  return [...set].sort().join('\\');
}

function toSummary(s: EdgeStudy): StudySummary {
  return {
    studyInstanceUid: s.study_uid,
    patientId: s.patient_id,
    patientName: s.patient_name,
    patientBirthDate: s.patient_birth_date,
    patientSex: s.patient_sex,
    issuerOfPatientId: s.issuer_of_patient_id,
    accessionNumber: s.accession_number,
    studyDate: s.study_date,
    studyTime: s.study_time,
    studyDescription: s.study_description,
    referringPhysicianName: s.referring_physician,
    modalities: s.modalities ? s.modalities.split('\\') : [],
    numberOfSeries: s.num_series,
    numberOfInstances: s.num_instances,
    lastReceivedAt: s.last_received_at,
  };
}

export class EdgeIndex {
  private readonly sqliteRecorder: SqliteInstanceRecorder | null;

  /**
   * `sqlite`: the handle under `db` when it is SQLite, for the fast per-instance write. That write is
   * one synchronous transaction, so no other code runs during it; it must only not land inside a
   * kysely transaction, which holds the connection across awaits: then it waits for the connection.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite?: SqliteDatabase.Database,
  ) {
    this.sqliteRecorder = sqlite ? new SqliteInstanceRecorder(sqlite) : null;
  }

  /** Records a durable instance. Idempotent per SOP Instance UID: the first copy is kept. */
  async recordInstance(rec: InstanceIndexRecord, obj: StoredObject): Promise<IndexOutcome> {
    const now = new Date().toISOString();
    const recorder = this.sqliteRecorder;
    if (recorder) {
      if (!this.sqlite!.inTransaction) return recorder.record(rec, obj, now);
      return this.db.connection().execute(async () => recorder.record(rec, obj, now));
    }
    return this.recordWithKysely(rec, obj, now);
  }

  /** Points an indexed instance at another stored copy of it (its first copy was lost). */
  async replaceInstanceBlob(sopInstanceUid: string, obj: Omit<StoredObject, 'callingAet'>): Promise<void> {
    await this.db
      .updateTable('edge_instance')
      .set({ blob_key: obj.blobKey, size_bytes: obj.sizeBytes, transfer_syntax_uid: obj.transferSyntaxUid })
      .where('sop_instance_uid', '=', sopInstanceUid)
      .execute();
  }

  /** The portable form of `recordInstance` (PostgreSQL); the SQLite recorder mirrors it statement by statement. */
  async recordWithKysely(rec: InstanceIndexRecord, obj: StoredObject, now = new Date().toISOString()): Promise<IndexOutcome> {
    return this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('edge_instance')
        .values({
          sop_instance_uid: rec.sopInstanceUid,
          series_uid: rec.seriesInstanceUid,
          study_uid: rec.studyInstanceUid,
          sop_class_uid: rec.sopClassUid,
          transfer_syntax_uid: obj.transferSyntaxUid,
          instance_number: rec.instanceNumber,
          number_of_frames: rec.numberOfFrames,
          blob_key: obj.blobKey,
          size_bytes: obj.sizeBytes,
          calling_aet: obj.callingAet,
          received_at: now,
        })
        .onConflict((oc) => oc.column('sop_instance_uid').doNothing())
        .returning('sop_instance_uid')
        .executeTakeFirst();
      if (!inserted) {
        const existing = await tx
          .selectFrom('edge_instance')
          .select('blob_key')
          .where('sop_instance_uid', '=', rec.sopInstanceUid)
          .executeTakeFirstOrThrow();
        return { kind: 'duplicate', sameBytes: existing.blob_key === obj.blobKey, keptBlobKey: existing.blob_key };
      }

      const series = await tx
        .insertInto('edge_series')
        .values({
          series_uid: rec.seriesInstanceUid,
          study_uid: rec.studyInstanceUid,
          modality: rec.modality,
          series_number: rec.seriesNumber,
          series_description: rec.seriesDescription,
          body_part: rec.bodyPartExamined,
          num_instances: 1,
        })
        .onConflict((oc) => oc.column('series_uid').doUpdateSet({ num_instances: sql`edge_series.num_instances + 1` }))
        .returning('num_instances')
        .executeTakeFirstOrThrow();
      const newSeries = series.num_instances === 1;

      // The common case (another instance of a known series) is one UPDATE; a new series also merges
      // its modality into the study's list.
      const study = newSeries
        ? await tx.selectFrom('edge_study').select(['modalities']).where('study_uid', '=', rec.studyInstanceUid).executeTakeFirst()
        : { modalities: null };
      if (!study) {
        await tx
          .insertInto('edge_study')
          .values({
            study_uid: rec.studyInstanceUid,
            patient_id: rec.patientId,
            issuer_of_patient_id: rec.issuerOfPatientId,
            patient_name: rec.patientName,
            patient_birth_date: rec.patientBirthDate,
            patient_sex: rec.patientSex,
            accession_number: rec.accessionNumber,
            study_date: rec.studyDate,
            study_time: rec.studyTime,
            study_description: rec.studyDescription,
            referring_physician: rec.referringPhysicianName,
            study_id: rec.studyId,
            specific_character_set: rec.specificCharacterSet,
            modalities: mergeModalities('', rec.modality),
            num_series: 1,
            num_instances: 1,
            first_received_at: now,
            last_received_at: now,
          })
          .execute();
        return { kind: 'stored' };
      }
      await tx
        .updateTable('edge_study')
        .set({
          num_instances: sql`num_instances + 1`,
          ...(study.modalities !== null ? { num_series: sql`num_series + 1`, modalities: mergeModalities(study.modalities, rec.modality) } : {}),
          last_received_at: now,
        })
        .where('study_uid', '=', rec.studyInstanceUid)
        .execute();
      // Fill attributes the first instances lacked; never overwrite what is there, and write only
      // when there is a gap to fill.
      const fills = [
        ['patient_id', rec.patientId],
        ['patient_name', rec.patientName],
        ['patient_birth_date', rec.patientBirthDate],
        ['accession_number', rec.accessionNumber],
        ['study_description', rec.studyDescription],
        ['study_date', rec.studyDate],
      ] as const;
      const present = fills.filter(([, v]) => v !== null);
      if (present.length > 0) {
        await tx
          .updateTable('edge_study')
          .set(Object.fromEntries(present.map(([col, v]) => [col, sql`coalesce(${sql.ref(col)}, ${v})`])))
          .where('study_uid', '=', rec.studyInstanceUid)
          .where((eb) => eb.or(present.map(([col]) => eb(col, 'is', null))))
          .execute();
      }
      return { kind: 'stored' };
    });
  }

  async listStudies(q: StudyQuery = {}): Promise<StudySummary[]> {
    let query = this.db.selectFrom('edge_study').selectAll();
    if (q.patientId !== undefined) query = query.where('patient_id', '=', q.patientId);
    if (q.accession !== undefined) query = query.where('accession_number', '=', q.accession);
    const rows = await query
      .orderBy('last_received_at', 'desc')
      .orderBy('study_uid')
      .limit(q.limit ?? 1000)
      .offset(q.offset ?? 0)
      .execute();
    return rows.map(toSummary);
  }

  async getStudy(studyUid: string): Promise<StudySummary | null> {
    const row = await this.db.selectFrom('edge_study').selectAll().where('study_uid', '=', studyUid).executeTakeFirst();
    return row ? toSummary(row) : null;
  }

  async listInstances(studyUid: string) {
    return this.db
      .selectFrom('edge_instance')
      .selectAll()
      .where('study_uid', '=', studyUid)
      .orderBy('series_uid')
      .orderBy('instance_number')
      .execute();
  }

  async countInstances(): Promise<number> {
    const r = await this.db.selectFrom('edge_instance').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
