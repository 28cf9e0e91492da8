// Transfer syntax conversion of a dataset between the uncompressed encodings (Implicit VR Little
// Endian, Explicit VR Little Endian, Explicit VR Big Endian; Deflated Explicit VR Little Endian as a
// source). Used when a requester cannot accept the syntax an instance was stored in. Element values
// are kept; only the encoding changes (dcmjs reads and rewrites the whole dataset in memory, so this is
// for single instances, not for streaming a study).
import { createRequire } from 'node:module';
import { detectFileLayout } from './part10.ts';
import { buildFileMetaInformation } from './part10.ts';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax.ts';

/** Syntaxes a dataset can be written in here. */
export const TRANSCODE_TARGET_SYNTAXES: readonly string[] = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN];
/** Syntaxes a dataset can be read from for conversion. */
export const TRANSCODE_SOURCE_SYNTAXES: readonly string[] = [...TRANSCODE_TARGET_SYNTAXES, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN];

export type TranscodeErrorCode = 'unsupported-conversion' | 'unreadable-dataset';

export class TranscodeError extends Error {
  constructor(
    readonly code: TranscodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TranscodeError';
  }
}

/** True when `transcodeDataset(…, from, to)` can convert (same syntax counts). */
export function canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean {
  if (fromTransferSyntaxUid === toTransferSyntaxUid) return true;
  return TRANSCODE_SOURCE_SYNTAXES.includes(fromTransferSyntaxUid) && TRANSCODE_TARGET_SYNTAXES.includes(toTransferSyntaxUid);
}

// The part of dcmjs used here (it ships no type declarations).
interface DcmjsDicomDict {
  meta: Record<string, { vr: string; Value: unknown[] }>;
  dict: Record<string, unknown>;
  write(options?: { fragmentMultiframe?: boolean }): ArrayBuffer;
}
interface DcmjsLibrary {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; noCopy?: boolean; forceStoreRaw?: boolean }): DcmjsDicomDict };
    DicomDict: new (meta: DcmjsDicomDict['meta']) => DcmjsDicomDict;
  };
}
const dcmjs = createRequire(import.meta.url)('dcmjs') as DcmjsLibrary;

// dcmjs wants a Part 10 file; these stand in for the SOP UIDs of the throw-away meta group.
const PLACEHOLDER_UID = '1.2.3';
const PLACEHOLDER_IMPLEMENTATION_UID = '1.2.3.4';

/**
 * Re-encodes a dataset (the bytes after the File Meta group) from one transfer syntax to another and
 * returns the new dataset bytes. Throws TranscodeError.
 */
export function transcodeDataset(dataset: Uint8Array, fromTransferSyntaxUid: string, toTransferSyntaxUid: string): Buffer {
  if (fromTransferSyntaxUid === toTransferSyntaxUid) return Buffer.from(dataset.buffer, dataset.byteOffset, dataset.byteLength);
  if (!canTranscode(fromTransferSyntaxUid, toTransferSyntaxUid)) {
    throw new TranscodeError('unsupported-conversion', `cannot convert ${fromTransferSyntaxUid} to ${toTransferSyntaxUid}`);
  }
  const meta = buildFileMetaInformation({
    mediaStorageSopClassUid: PLACEHOLDER_UID,
    mediaStorageSopInstanceUid: PLACEHOLDER_UID,
    transferSyntaxUid: fromTransferSyntaxUid,
    implementationClassUid: PLACEHOLDER_IMPLEMENTATION_UID,
  });
  const file = new Uint8Array(meta.length + dataset.length);
  file.set(meta, 0);
  file.set(dataset, meta.length);
  let parsed: DcmjsDicomDict;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(file.buffer, { ignoreErrors: false, noCopy: false, forceStoreRaw: false });
  } catch (err) {
    throw new TranscodeError('unreadable-dataset', `the dataset cannot be read for conversion: ${(err as Error).message}`, { cause: err });
  }
  const out = new dcmjs.data.DicomDict({ ...parsed.meta, '00020010': { vr: 'UI', Value: [toTransferSyntaxUid] } });
  out.dict = parsed.dict;
  let written: Buffer;
  try {
    written = Buffer.from(out.write());
  } catch (err) {
    throw new TranscodeError('unreadable-dataset', `the dataset cannot be written in ${toTransferSyntaxUid}: ${(err as Error).message}`, { cause: err });
  }
  const layout = detectFileLayout(written);
  return written.subarray(layout.datasetOffset);
}
