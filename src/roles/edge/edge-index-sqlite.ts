// The edge index's per-instance write on SQLite, as prepared statements in one synchronous
// better-sqlite3 transaction. Measured on the C-STORE path: 0.05 ms per instance against 0.1-0.4 ms
// through kysely (query building and compiling for every statement), where the sender waits for each
// response. Same statements and outcome as `EdgeIndex.recordWithKysely`, which PostgreSQL uses; the
// edge index tests run both.
import type SqliteDatabase from 'better-sqlite3';
import type { IndexOutcome, InstanceIndexRecord, StoredObject } from './edge-index.ts';
import { mergeModalities } from './edge-index.ts';

interface StudyFillable {
  modalities: string;
}

export class SqliteInstanceRecorder {
  private readonly insertInstance: SqliteDatabase.Statement;
  private readonly keptBlob: SqliteDatabase.Statement;
  private readonly upsertSeries: SqliteDatabase.Statement;
  private readonly studyModalities: SqliteDatabase.Statement;
  private readonly insertStudy: SqliteDatabase.Statement;
  private readonly countInStudy: SqliteDatabase.Statement;
  private readonly addSeriesToStudy: SqliteDatabase.Statement;
  private readonly fillStudy: SqliteDatabase.Statement;
  private readonly run: (rec: InstanceIndexRecord, obj: StoredObject, now: string) => IndexOutcome;

  constructor(db: SqliteDatabase.Database) {
    this.insertInstance = db.prepare(
      `insert into edge_instance (sop_instance_uid, series_uid, study_uid, sop_class_uid, transfer_syntax_uid, instance_number,
         number_of_frames, blob_key, size_bytes, calling_aet, received_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (sop_instance_uid) do nothing`,
    );
    this.keptBlob = db.prepare('select blob_key from edge_instance where sop_instance_uid = ?').pluck();
    this.upsertSeries = db
      .prepare(
        `insert into edge_series (series_uid, study_uid, modality, series_number, series_description, body_part, num_instances)
         values (?, ?, ?, ?, ?, ?, 1)
         on conflict (series_uid) do update set num_instances = edge_series.num_instances + 1
         returning num_instances`,
      )
      .pluck();
    this.studyModalities = db.prepare('select modalities from edge_study where study_uid = ?');
    this.insertStudy = db.prepare(
      `insert into edge_study (study_uid, patient_id, issuer_of_patient_id, patient_name, patient_birth_date, patient_sex,
         accession_number, study_date, study_time, study_description, referring_physician, study_id, specific_character_set,
         modalities, num_series, num_instances, first_received_at, last_received_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)`,
    );
    this.countInStudy = db.prepare('update edge_study set num_instances = num_instances + 1, last_received_at = ? where study_uid = ?');
    this.addSeriesToStudy = db.prepare(
      'update edge_study set num_instances = num_instances + 1, num_series = num_series + 1, modalities = ?, last_received_at = ? where study_uid = ?',
    );
    // Fills attributes the first instances lacked, never overwriting; writes only when there is a gap to fill.
    this.fillStudy = db.prepare(
      `update edge_study set
         patient_id = coalesce(patient_id, :patientId), patient_name = coalesce(patient_name, :patientName),
         patient_birth_date = coalesce(patient_birth_date, :patientBirthDate), accession_number = coalesce(accession_number, :accessionNumber),
         study_description = coalesce(study_description, :studyDescription), study_date = coalesce(study_date, :studyDate)
       where study_uid = :studyUid and (
         (patient_id is null and :patientId is not null) or (patient_name is null and :patientName is not null)
         or (patient_birth_date is null and :patientBirthDate is not null) or (accession_number is null and :accessionNumber is not null)
         or (study_description is null and :studyDescription is not null) or (study_date is null and :studyDate is not null))`,
    );
    this.run = db.transaction((rec: InstanceIndexRecord, obj: StoredObject, now: string) => this.write(rec, obj, now));
  }

  record(rec: InstanceIndexRecord, obj: StoredObject, now: string): IndexOutcome {
    return this.run(rec, obj, now);
  }

  private write(rec: InstanceIndexRecord, obj: StoredObject, now: string): IndexOutcome {
    const inserted = this.insertInstance.run(
      rec.sopInstanceUid,
      rec.seriesInstanceUid,
      rec.studyInstanceUid,
      rec.sopClassUid,
      obj.transferSyntaxUid,
      rec.instanceNumber,
      rec.numberOfFrames,
      obj.blobKey,
      obj.sizeBytes,
      obj.callingAet,
      now,
    );
    if (inserted.changes === 0) {
      const kept = this.keptBlob.get(rec.sopInstanceUid) as string;
      return { kind: 'duplicate', sameBytes: kept === obj.blobKey, keptBlobKey: kept };
    }
    const seriesCount = this.upsertSeries.get(
      rec.seriesInstanceUid,
      rec.studyInstanceUid,
      rec.modality,
      rec.seriesNumber,
      rec.seriesDescription,
      rec.bodyPartExamined,
    ) as number;
    if (seriesCount !== 1) {
      this.countInStudy.run(now, rec.studyInstanceUid);
    } else {
      const study = this.studyModalities.get(rec.studyInstanceUid) as StudyFillable | undefined;
      if (!study) {
        this.insertStudy.run(
          rec.studyInstanceUid,
          rec.patientId,
          rec.issuerOfPatientId,
          rec.patientName,
          rec.patientBirthDate,
          rec.patientSex,
          rec.accessionNumber,
          rec.studyDate,
          rec.studyTime,
          rec.studyDescription,
          rec.referringPhysicianName,
          rec.studyId,
          rec.specificCharacterSet,
          mergeModalities('', rec.modality),
          now,
          now,
        );
        return { kind: 'stored' };
      }
      this.addSeriesToStudy.run(mergeModalities(study.modalities, rec.modality), now, rec.studyInstanceUid);
    }
    this.fillStudy.run({
      studyUid: rec.studyInstanceUid,
      patientId: rec.patientId,
      patientName: rec.patientName,
      patientBirthDate: rec.patientBirthDate,
      accessionNumber: rec.accessionNumber,
      studyDescription: rec.studyDescription,
      studyDate: rec.studyDate,
    });
    return { kind: 'stored' };
  }
}
