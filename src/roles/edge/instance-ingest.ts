// Receives one DICOM instance (the dataset bytes exactly as transmitted, no File Meta group), stores
// it durably in the blob store, indexes it, and says which DIMSE status to answer. The C-STORE SCP
// uses it now; STOW-RS and imports will use it too. Success is answered only after both the bytes and
// the index row are durable; a half-received object is never indexed.
import type { Readable } from 'node:stream';
import type { BlobStore, BlobWriter } from '../../storage/blob/blob-store.ts';
import type { Logger } from '../../util/log.ts';
import { Status } from '../../lib/dimse/status.ts';
import type { IndexAttributes } from '../../lib/dicom/header.ts';
import { headerFromHead, readStoredDatasetHeader } from '../shared/stored-dataset-header.ts';
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
    let head: Buffer[];
    try {
      head = await receive(data, writer);
    } catch (err) {
      await writer.abort();
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, err: (err as Error).message }, 'instance not received completely; nothing stored');
      return { status: Status.OutOfResources, errorComment: 'transfer interrupted' };
    }

    // The thread pool makes the bytes durable while this thread hashes them (in commit), parses the
    // header and writes the index row: the sender waits for the response, so these overlap instead
    // of adding up. Success is answered only once the blob is durable too.
    const committing = writer.commit();
    committing.catch(() => undefined); // awaited below; a failure must not surface as unhandled first
    let attrs: IndexAttributes | null = null;
    let parseError: unknown = null;
    try {
      attrs = headerFromHead(head.length === 1 ? head[0]! : Buffer.concat(head), writer.bytesWritten, req.transferSyntaxUid);
    } catch (err) {
      parseError = err;
    }

    let blob;
    try {
      blob = await committing;
    } catch (err) {
      await writer.abort();
      this.log.error({ sopInstanceUid: req.sopInstanceUid, err: (err as Error).message }, 'cannot store instance');
      return { status: Status.OutOfResources, errorComment: 'storage failure' };
    }
    const durable = blob.durable.then(
      () => null,
      (err: Error) => err,
    );
    const dropBlob = async () => {
      await durable;
      if (!blob.alreadyStored) await this.blobs.delete(blob.key).catch(() => undefined);
    };

    try {
      if (parseError) throw parseError;
      // Rare: a header longer than the head kept in memory (a large private value early on).
      attrs ??= await readStoredDatasetHeader(this.blobs, blob, Buffer.concat(head), req.transferSyntaxUid);
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
    const syncError = await durable;
    if (syncError) {
      // Indexed, but the blob may not survive a power loss: the sender is told to retry. The retry
      // finds the row; if its blob is gone by then, the retry's copy takes its place (below).
      this.log.error({ sopInstanceUid: req.sopInstanceUid, err: syncError.message }, 'cannot make the stored instance durable');
      return { status: Status.OutOfResources, errorComment: 'storage failure' };
    }
    const base = { status: Status.Success, studyInstanceUid: record.studyInstanceUid, seriesInstanceUid: record.seriesInstanceUid, patientId: record.patientId, sizeBytes: blob.size };
    if (outcome.kind === 'stored') return { ...base, outcome: 'stored' };
    if ((await this.blobs.size(outcome.keptBlobKey)) === null) {
      // The first copy's row is there but not its bytes (its flush failed, or a power loss came
      // between the row and the bytes): this copy takes its place.
      try {
        await this.index.replaceInstanceBlob(req.sopInstanceUid, { blobKey: blob.key, sizeBytes: blob.size, transferSyntaxUid: req.transferSyntaxUid });
      } catch (err) {
        this.log.error({ sopInstanceUid: req.sopInstanceUid, err: (err as Error).message }, 'cannot index instance');
        return { status: Status.OutOfResources, errorComment: 'index failure' };
      }
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source }, 'instance received again after its first copy was lost; this copy kept');
      return { ...base, outcome: 'stored' };
    }
    if (!outcome.sameBytes) {
      // The first copy is kept; the other one is dropped but logged so staff can look into it.
      if (outcome.keptBlobKey !== blob.key) await dropBlob();
      this.log.warn({ sopInstanceUid: req.sopInstanceUid, source: req.source, keptBlob: outcome.keptBlobKey, droppedBlob: blob.key }, 'same SOP Instance UID received again with different bytes; first copy kept');
      return { ...base, outcome: 'duplicate-different-bytes' };
    }
    return { ...base, outcome: 'duplicate' };
  }
}


/**
 * Streams the data set into the blob writer (pausing while it is behind) and ends it; resolves with
 * the first chunks, at least HEAD_BYTES of them, kept for indexing. Plain events rather than `for
 * await`: that costs a promise per chunk, on the path every received byte takes.
 */
function receive(data: Readable, writer: BlobWriter): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const head: Buffer[] = [];
    let headLength = 0;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      data.destroy();
      reject(err);
    };
    const resume = () => data.resume();
    data.on('data', (chunk: Buffer) => {
      if (headLength < HEAD_BYTES) {
        head.push(chunk);
        headLength += chunk.length;
      }
      if (!writer.write(chunk)) {
        data.pause();
        writer.once('drain', resume);
      }
    });
    data.once('error', fail);
    writer.once('error', fail);
    data.once('end', () => {
      writer.end((err?: Error | null) => {
        if (err) fail(err);
        else if (!failed) resolve(head);
      });
    });
  });
}

function truncate(s: string): string {
  // Error Comment (0000,0902) is LO: at most 64 characters.
  return s.length <= 64 ? s : s.slice(0, 61) + '...';
}
