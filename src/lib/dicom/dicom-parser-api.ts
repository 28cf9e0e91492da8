// dicom-parser on a raw dataset (no preamble, no File Meta), typed. Today the test suite uses it as an
// independent oracle for dataset-scanner.ts; it is also the way to get a full lazy parse (nested items)
// when a later feature needs one.
//
// Why the lower-level pieces rather than parseDicom({ TransferSyntaxUID }): parseDicom() still looks for
// 'DICM' at offset 128 of a raw dataset (a value containing those bytes there would derail it), and its
// deflate path needs the meta header's position. Its index.d.ts does not declare the DataSet and
// ByteStream constructors, so the single cast below is the only untyped boundary. Known limitation: it
// reads OV/SV/UV with a 2-byte length, so everything after such an element is misparsed.
import dicomParser from 'dicom-parser';
import type { ByteArrayParser, ByteStream, DataSet, Element } from 'dicom-parser';

export type { ByteArrayParser, DataSet, Element };

interface DicomParserLowLevel {
  readonly ByteStream: new (parser: ByteArrayParser, bytes: Uint8Array, position?: number) => ByteStream;
  readonly DataSet: new (parser: ByteArrayParser, bytes: Uint8Array, elements: Record<string, Element>) => DataSet;
  parseDicomDataSetExplicit(dataSet: DataSet, stream: ByteStream, maxPosition?: number, options?: { untilTag?: string }): void;
  parseDicomDataSetImplicit(dataSet: DataSet, stream: ByteStream, maxPosition?: number, options?: { untilTag?: string }): void;
  readonly littleEndianByteArrayParser: ByteArrayParser;
  readonly bigEndianByteArrayParser: ByteArrayParser;
}

const lib = dicomParser as unknown as DicomParserLowLevel;

export interface TopLevelParse {
  readonly dataSet: DataSet;
  readonly parser: ByteArrayParser;
  /** What dicom-parser threw, if anything (it throws strings). Elements read before it are kept. */
  readonly failure: string | null;
  /** Position of the byte stream when parsing ended (beyond the buffer after an overrun). */
  readonly endPosition: number;
  readonly warnings: readonly string[];
}

/**
 * Parses the top level of a raw dataset (no preamble, no meta) until `untilTag` ('xggggeeee') or the
 * end of the buffer. Sequences are parsed; other values are only located (dicom-parser is lazy).
 */
export function parseRawDataset(bytes: Uint8Array, explicitVr: boolean, littleEndian: boolean, untilTag: string): TopLevelParse {
  const parser = littleEndian ? lib.littleEndianByteArrayParser : lib.bigEndianByteArrayParser;
  const stream = new lib.ByteStream(parser, bytes, 0);
  const dataSet = new lib.DataSet(parser, bytes, {});
  const warnings: string[] = [];
  dataSet.warnings = warnings;
  let failure: string | null = null;
  try {
    if (explicitVr) lib.parseDicomDataSetExplicit(dataSet, stream, bytes.length, { untilTag });
    else lib.parseDicomDataSetImplicit(dataSet, stream, bytes.length, { untilTag });
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  return { dataSet, parser, failure, endPosition: stream.position, warnings: [...warnings, ...stream.warnings] };
}
