// Receives one application/dicom part (a Part 10 file) of a STOW-RS request: finds where the dataset
// starts in the first bytes, streams the dataset exactly as sent into the blob store (constant memory;
// only the first 64 KiB are kept for indexing) and reads the attributes the index needs.
import type { Readable } from 'node:stream';
import type { BlobRef, BlobStore, BlobWriter } from '../../../storage/blob/blob-store.ts';
import { DicomParseError } from '../../../lib/dicom/errors.ts';
import { once } from 'node:events';
import type { IndexAttributes } from '../../../lib/dicom/header.ts';
import { readStoredDatasetHeader } from '../../shared/stored-dataset-header.ts';
import { detectFileLayout, type DicomFileLayout } from '../../../lib/dicom/part10.ts';
import { StowFailureReason } from '../../../lib/dicomweb/stow-response.ts';

/** Dataset bytes kept in memory for indexing; the rest only streams through. */
const DATASET_HEAD_BYTES = 64 * 1024;
/** A File Meta group longer than this is refused (real ones are a few hundred bytes). */
const MAX_META_BYTES = 1024 * 1024;
/** Largest header (everything before Pixel Data) read back from the blob for indexing. */

export interface ReceivedInstance {
  kind: 'received';
  layout: DicomFileLayout;
  blob: BlobRef & { alreadyStored: boolean };
  attributes: IndexAttributes;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

export interface RefusedPart {
  kind: 'refused';
  failureReason: number;
  /** Why, for the log (not sent to the client). */
  reason: string;
  sopClassUid: string | null;
  sopInstanceUid: string | null;
}

/** The part's stream failed (the body is truncated or the client went away): nothing was kept. */
export interface InterruptedPart {
  kind: 'interrupted';
  error: Error;
}

export type PartIntake = ReceivedInstance | RefusedPart | InterruptedPart;

/** A part whose bytes all arrived and were written, not yet durable nor indexed. */
export interface StreamedPart {
  kind: 'streamed';
  writer: BlobWriter;
  layout: DicomFileLayout;
  datasetHead: Buffer;
}

/** Receives and stores a part: streamDicomPart then finishDicomPart. */
export async function receiveDicomPart(blobs: BlobStore, body: Readable): Promise<PartIntake> {
  const streamed = await streamDicomPart(blobs, body);
  return streamed.kind === 'streamed' ? finishDicomPart(blobs, streamed) : streamed;
}

type Detection =
  | { kind: 'found'; layout: DicomFileLayout; datasetStart: Buffer }
  | { kind: 'need-more'; retryAt: number }
  | RefusedPart;

/** Looks for the File Meta group and the dataset in the first bytes; `atEnd` when no more will come. */
function detectDataset(head: Buffer, atEnd: boolean): Detection {
  try {
    const layout = detectFileLayout(head);
    return { kind: 'found', layout, datasetStart: head.subarray(layout.datasetOffset) };
  } catch (err) {
    if (err instanceof DicomParseError && err.code === 'truncated' && !atEnd && head.length < MAX_META_BYTES) {
      return { kind: 'need-more', retryAt: Math.min(MAX_META_BYTES, Math.max(head.length * 2, err.bytesNeeded ?? 0)) };
    }
    const reason = err instanceof DicomParseError ? err.message : String(err);
    return { kind: 'refused', failureReason: StowFailureReason.CannotUnderstand, reason: `not a DICOM file: ${reason}`, sopClassUid: null, sopInstanceUid: null };
  }
}

/**
 * Reads a part to its end, writing the dataset into a blob writer. The commit (fsync) is left to
 * finishDicomPart so that it can overlap with receiving the next part.
 */
export async function streamDicomPart(blobs: BlobStore, body: Readable): Promise<StreamedPart | RefusedPart | InterruptedPart> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let retryAt = 4096;
  let layout: DicomFileLayout | null = null;
  let refusal: RefusedPart | null = null;
  let writer: BlobWriter | null = null;
  const datasetHead: Buffer[] = [];
  let datasetHeadLength = 0;

  const write = async (target: BlobWriter, chunk: Buffer) => {
    if (datasetHeadLength < DATASET_HEAD_BYTES && chunk.length > 0) {
      const piece = chunk.subarray(0, DATASET_HEAD_BYTES - datasetHeadLength);
      datasetHead.push(piece);
      datasetHeadLength += piece.length;
    }
    if (!target.write(chunk)) await once(target, 'drain');
  };
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (refusal !== null) continue; // drain the rest of a refused part
      if (writer !== null) {
        await write(writer, chunk);
        continue;
      }
      pending.push(chunk);
      pendingLength += chunk.length;
      if (pendingLength < retryAt) continue;
      const detection = detectDataset(Buffer.concat(pending, pendingLength), false);
      if (detection.kind === 'need-more') {
        retryAt = detection.retryAt;
        continue;
      }
      pending = [];
      pendingLength = 0;
      if (detection.kind === 'refused') {
        refusal = detection;
        continue;
      }
      layout = detection.layout;
      writer = blobs.createWriter();
      await write(writer, detection.datasetStart);
    }
    if (writer === null && refusal === null) {
      const detection = detectDataset(Buffer.concat(pending, pendingLength), true);
      if (detection.kind === 'refused') refusal = detection;
      else if (detection.kind === 'found') {
        layout = detection.layout;
        writer = blobs.createWriter();
        await write(writer, detection.datasetStart);
      }
    }
  } catch (err) {
    if (writer !== null) await writer.abort();
    return { kind: 'interrupted', error: err as Error };
  }
  if (refusal !== null) return refusal;
  const w = writer as BlobWriter | null;
  const found = layout as DicomFileLayout | null;
  if (w === null || found === null) {
    return { kind: 'refused', failureReason: StowFailureReason.CannotUnderstand, reason: 'empty part', sopClassUid: null, sopInstanceUid: null };
  }
  return { kind: 'streamed', writer: w, layout: found, datasetHead: Buffer.concat(datasetHead, datasetHeadLength) };
}

/** Makes a streamed part durable and reads its index attributes; refuses it when they are lacking. */
export async function finishDicomPart(blobs: BlobStore, streamed: StreamedPart): Promise<ReceivedInstance | RefusedPart> {
  const { writer: w, layout: found } = streamed;
  let blob: BlobRef & { alreadyStored: boolean };
  try {
    await new Promise<void>((resolve, reject) => w.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const { durable, ...ref } = await w.commit();
    await durable; // indexed (and acknowledged) only once it survives a power loss
    blob = ref;
  } catch (err) {
    await w.abort();
    return { kind: 'refused', failureReason: StowFailureReason.OutOfResources, reason: `cannot store: ${(err as Error).message}`, sopClassUid: null, sopInstanceUid: null };
  }
  const dropBlob = async () => {
    if (!blob.alreadyStored) await blobs.delete(blob.key).catch(() => undefined);
  };

  let attributes: IndexAttributes;
  try {
    attributes = await readStoredDatasetHeader(blobs, blob, streamed.datasetHead, found.transferSyntaxUid);
  } catch (err) {
    await dropBlob();
    const reason = err instanceof DicomParseError ? err.message : `cannot parse the dataset: ${(err as Error).message}`;
    return { kind: 'refused', failureReason: StowFailureReason.CannotUnderstand, reason, sopClassUid: found.meta?.mediaStorageSopClassUid ?? null, sopInstanceUid: found.meta?.mediaStorageSopInstanceUid ?? null };
  }
  const { study, series, instance } = attributes;
  const sopClassUid = instance.sopClassUid ?? found.meta?.mediaStorageSopClassUid ?? null;
  const sopInstanceUid = instance.sopInstanceUid ?? null;
  const missing = [
    ['StudyInstanceUID', study.instanceUid],
    ['SeriesInstanceUID', series.instanceUid],
    ['SOPInstanceUID', sopInstanceUid],
    ['SOPClassUID', sopClassUid],
  ].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) {
    await dropBlob();
    return {
      kind: 'refused',
      failureReason: StowFailureReason.CannotUnderstand,
      reason: `dataset lacks ${missing.join(', ')}`,
      sopClassUid,
      sopInstanceUid: sopInstanceUid ?? found.meta?.mediaStorageSopInstanceUid ?? null,
    };
  }
  return {
    kind: 'received',
    layout: found,
    blob,
    attributes,
    studyInstanceUid: study.instanceUid!,
    seriesInstanceUid: series.instanceUid!,
    sopInstanceUid: sopInstanceUid!,
    sopClassUid: sopClassUid!,
  };
}

/** Parses the header from the kept head; reads more from the blob when the header is longer. */

