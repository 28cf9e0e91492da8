// Index attributes of a dataset just stored in the blob store: parsed from the head kept in memory
// while it streamed, reading more from disk only for the rare header longer than that head (e.g. a
// large private value before the Patient module). Shared by the edge's C-STORE ingest and the
// clearinghouse's STOW-RS intake.
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import { DicomParseError } from '../../lib/dicom/errors.ts';
import { extractIndexAttributes, type IndexAttributes } from '../../lib/dicom/header.ts';

/** Largest header (everything before Pixel Data) read back from disk. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * The attributes from the head alone, or null when the head ends before them (then read the stored
 * blob with `readStoredDatasetHeader`). Throws DicomParseError when the bytes are no dataset.
 */
export function headerFromHead(head: Buffer, totalSize: number, transferSyntaxUid: string): IndexAttributes | null {
  const result = extractIndexAttributes(head, transferSyntaxUid, { wholeDataset: head.length >= totalSize });
  return result.complete ? result.attributes : null;
}

export async function readStoredDatasetHeader(
  blobs: BlobStore,
  blob: { key: string; size: number },
  head: Buffer,
  transferSyntaxUid: string,
): Promise<IndexAttributes> {
  let bytes = head;
  for (;;) {
    const whole = bytes.length >= blob.size;
    const result = extractIndexAttributes(bytes, transferSyntaxUid, { wholeDataset: whole });
    if (result.complete) return result.attributes;
    if (whole || bytes.length >= MAX_HEADER_BYTES) throw new DicomParseError('truncated', `header not readable: ${result.reason}`);
    const want = Math.max(result.bytesNeeded ?? 0, bytes.length * 4, 1024 * 1024);
    bytes = await blobs.readHead(blob.key, Math.min(MAX_HEADER_BYTES, blob.size, want));
  }
}
