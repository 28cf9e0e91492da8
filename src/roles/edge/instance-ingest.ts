// Receives one DICOM instance (the dataset bytes exactly as transmitted, no File Meta group), stores
// it durably in the blob store, indexes it, and says which DIMSE status to answer. The C-STORE SCP
// uses it now; STOW-RS and imports will use it too. Success is answered only after both the bytes and
// the index row are durable; a half-received object is never indexed.
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import type { Logger } from '../../util/log.ts';
import { once } from 'node:events';
import { Status } from '../../lib/dimse/status.ts';
import type { IndexAttributes } from '../../lib/dicom/header.ts';
import { readStoredDatasetHeader } from '../shared/stored-dataset-header.ts';
import { DicomParseError } from '../../lib/dicom/errors.ts';
import type { EdgeIndex, IndexOutcome, InstanceIndexRecord } from './edge-index.ts';

/** Bytes kept in memory from the start of each object for indexing; the rest streams to disk. */
const HEAD_BYTES = 64 * 1024;


export interface IngestRequest {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAet: string | null;
  /** For logs: where it came from. */
  source: string;
}

export interface IngestResult {
  status: number;
  errorComment?: string;
  outcome?: 'stored' | 'duplicate' | 'duplicate-different-bytes';
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientId?: string | null;
  sizeBytes?: number;
}

export class InstanceIngest {
  constructor(
    private readonly blobs: BlobStore,
    private readonly index: EdgeIndex,
    private readonly log: Logger,
  ) {}

  async ingest(req: IngestRequest, data: Readable): Promise<IngestResult> {
    const writer = this.blobs.createWriter();
    const head: Buffer[] = [];
    let headLength = 0;
    try {
      for await (const chunk of data as AsyncIterable<Buffer>) {
        if (headLength < HEAD_BYTES) {
          head.push(chunk);
          headLength += chunk.length;
        }
        if (!writer.write(chunk)) await once(writer, 'drain');
      }
      await new Promise<void>((resolve, reject) => writer.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      await writer.abort();
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, err: (err as Error).message }, 'instance not received completely; nothing stored');
      return { status: Status.OutOfResources, errorComment: 'transfer interrupted' };
    }

    let blob;
    try {
      blob = await writer.commit();
    } catch (err) {
      await writer.abort();
      this.log.error({ sopInstanceUid: req.sopInstanceUid, err: (err as Error).message }, 'cannot store instance');
      return { status: Status.OutOfResources, errorComment: 'storage failure' };
    }
    // The folder fsync of the blob's name runs while the header is parsed and the index written.
    const nameDurable = blob.nameDurable.then(
      () => null,
      (err: Error) => err,
    );
    const dropBlob = async () => {
      await nameDurable;
      if (!blob.alreadyStored) await this.blobs.delete(blob.key).catch(() => undefined);
    };

    let attrs: IndexAttributes;
    try {
      attrs = await readStoredDatasetHeader(this.blobs, blob, Buffer.concat(head), req.transferSyntaxUid);
    } catch (err) {
      await dropBlob();
      const reason = err instanceof DicomParseError ? err.message : `cannot parse the dataset: ${(err as Error).message}`;
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, reason }, 'instance refused');
      return { status: Status.UnableToProcess, errorComment: truncate(reason) };
    }

    const missing = [
      ['StudyInstanceUID', attrs.study.instanceUid],
      ['SeriesInstanceUID', attrs.series.instanceUid],
      ['SOPInstanceUID', attrs.instance.sopInstanceUid],
    ].filter(([, v]) => !v).map(([k]) => k);
    if (missing.length > 0) {
      await dropBlob();
      const reason = `dataset lacks ${missing.join(', ')}`;
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, reason }, 'instance refused');
      return { status: Status.UnableToProcess, errorComment: truncate(reason) };
    }
    if (attrs.instance.sopInstanceUid !== req.sopInstanceUid) {
      await dropBlob();
      const reason = 'SOP Instance UID of the dataset differs from the C-STORE request';
      this.log.warn({ requested: req.sopInstanceUid, inDataset: attrs.instance.sopInstanceUid, source: req.source }, reason);
      return { status: Status.DataSetDoesNotMatchSopClass, errorComment: reason };
    }

    const { patient, study, series, instance } = attrs;
    const record: InstanceIndexRecord = {
      patientId: patient.id,
      issuerOfPatientId: patient.issuerOfPatientId,
      patientName: patient.name,
      patientBirthDate: patient.birthDate,
      patientSex: patient.sex,
      studyInstanceUid: study.instanceUid!,
      studyDate: study.date,
      studyTime: study.time,
      accessionNumber: study.accessionNumber,
      studyDescription: study.description,
      referringPhysicianName: study.referringPhysicianName,
      studyId: study.studyId,
      specificCharacterSet: instance.specificCharacterSet?.join('\\') ?? null,
      seriesInstanceUid: series.instanceUid!,
      modality: series.modality,
      seriesNumber: series.number,
      seriesDescription: series.description,
      bodyPartExamined: series.bodyPartExamined,
      sopClassUid: req.sopClassUid,
      sopInstanceUid: req.sopInstanceUid,
      instanceNumber: instance.instanceNumber,
      numberOfFrames: instance.numberOfFrames,
    };
    let outcome: IndexOutcome;
    try {
      const indexed = this.index.recordInstance(record, {
        blobKey: blob.key,
        sizeBytes: blob.size,
        transferSyntaxUid: req.transferSyntaxUid,
        callingAet: req.callingAet,
      });
      outcome = await indexed;
    } catch (err) {
      await dropBlob();
      this.log.error({ sopInstanceUid: req.sopInstanceUid, err: (err as Error).message }, 'cannot index instance');
      return { status: Status.OutOfResources, errorComment: 'index failure' };
    }
    const folderSyncError = await nameDurable;
    if (folderSyncError) {
      // Indexed, but the name may not survive a power loss: the sender is told to retry (a retry is
      // answered as a duplicate), and the bytes are kept because the index points at them.
      this.log.error({ sopInstanceUid: req.sopInstanceUid, err: folderSyncError.message }, 'cannot make the stored name durable');
      return { status: Status.OutOfResources, errorComment: 'storage failure' };
    }
    const base = { status: Status.Success, studyInstanceUid: record.studyInstanceUid, seriesInstanceUid: record.seriesInstanceUid, patientId: record.patientId, sizeBytes: blob.size };
    if (outcome.kind === 'stored') return { ...base, outcome: 'stored' };
    if (!outcome.sameBytes) {
      // The first copy is kept; the other one is dropped but logged so staff can look into it.
      if (outcome.keptBlobKey !== blob.key) await dropBlob();
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, keptBlob: outcome.keptBlobKey, droppedBlob: blob.key }, 'same SOP Instance UID received again with different bytes; first copy kept');
      return { ...base, outcome: 'duplicate-different-bytes' };
    }
    return { ...base, outcome: 'duplicate' };
  }
}


function truncate(s: string): string {
  // Error Comment (0000,0902) is LO: at most 64 characters.
  return s.length <= 64 ? s : s.slice(0, 61) + '...';
}
