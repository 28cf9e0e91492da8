// Reading index attributes straight from a stored file (Part 10 or not): what STOW/import paths and test
// harnesses use. Reads only the head of the file and grows it when the header is longer.
import { DicomParseError } from './errors.ts';
import { extractIndexAttributes, type CompleteHeader } from './header.ts';
import { DEFAULT_HEAD_BYTES, detectFileLayout, readFileHead, type DicomFileLayout } from './part10.ts';

export interface FileIndexAttributes {
  readonly layout: DicomFileLayout;
  readonly header: CompleteHeader;
  /** How many bytes of the file had to be read. */
  readonly bytesRead: number;
}

export interface FileIndexOptions {
  /** First read size (default 64 KiB). */
  readonly initialBytes?: number;
  /** Never read more than this (default 16 MiB): a header longer than that is refused. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

export async function extractIndexAttributesFromFile(path: string, options: FileIndexOptions = {}): Promise<FileIndexAttributes> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let want = Math.min(options.initialBytes ?? DEFAULT_HEAD_BYTES, maxBytes);
  for (;;) {
    const { head, fileSize } = await readFileHead(path, want);
    const wholeFile = head.length >= fileSize;
    let layout: DicomFileLayout;
    try {
      layout = detectFileLayout(head);
    } catch (e) {
      if (e instanceof DicomParseError && e.code === 'truncated' && !wholeFile && want < maxBytes) {
        want = Math.min(maxBytes, Math.max(want * 2, e.bytesNeeded ?? 0));
        continue;
      }
      throw e;
    }
    const result = extractIndexAttributes(head.subarray(layout.datasetOffset), layout.transferSyntaxUid, { wholeDataset: wholeFile });
    if (result.complete) return { layout, header: result, bytesRead: head.length };
    if (want >= maxBytes) {
      throw new DicomParseError('unsupported', `the header is longer than ${maxBytes} bytes: ${result.reason}`);
    }
    const needed = result.bytesNeeded === null ? 0 : layout.datasetOffset + result.bytesNeeded + DEFAULT_HEAD_BYTES;
    want = Math.min(maxBytes, Math.max(want * 2, needed));
  }
}
