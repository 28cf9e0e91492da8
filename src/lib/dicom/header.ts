// Extraction of the attributes an archive indexes, from the first bytes of a raw dataset (the bytes after
// the File Meta group, or a C-STORE data set), without reading Pixel Data. Runs once per received
// instance, so it only locates top-level elements (dataset-scanner.ts) and decodes the few values needed.
//
// Completeness: every indexed attribute has a tag <= (0028,0011) Columns, and top-level elements are in
// ascending tag order. So the result is complete as soon as an element beyond (0028,0011) was reached,
// even if the buffer ends inside it: a 107 KB Siemens CSA header in group 0029 needs no retry, while
// a 185 KB private UT in group 0009 (before the Patient module) does.
import { constants as zlibConstants, inflateRawSync, inflateSync } from 'node:zlib';
import { decodeLatin1, getSpecificCharacterSet, type CharsetTextVr, type SpecificCharacterSet } from './charset.ts';
import { PIXEL_DATA_TAG, scanDataset, type ScannedElement } from './dataset-scanner.ts';
import { DicomParseError } from './errors.ts';
import { datasetStartsConsistently, MIN_BYTES_TO_RECOGNISE, type DetectedDatasetEncoding } from './part10.ts';
import { datasetEncodingOf } from './transfer-syntax.ts';
import { formatTag } from './tags.ts';
import { uidSyntaxProblem } from './uid.ts';

export interface PatientAttributes {
  /** (0010,0010) decoded with the Specific Character Set. */
  readonly name: string | null;
  /** (0010,0010) bytes as ISO 8859-1 (one char per byte): converts back to the exact bytes. */
  readonly nameRaw: string | null;
  readonly id: string | null;
  readonly issuerOfPatientId: string | null;
  /** YYYYMMDD (the ACR-NEMA form YYYY.MM.DD is normalised, with a warning). */
  readonly birthDate: string | null;
  readonly sex: string | null;
}

export interface StudyAttributes {
  readonly instanceUid: string | null;
  readonly date: string | null;
  /** HHMMSS.FFFFFF or a prefix of it (the ACR-NEMA form HH:MM:SS is normalised, with a warning). */
  readonly time: string | null;
  readonly accessionNumber: string | null;
  readonly description: string | null;
  readonly referringPhysicianName: string | null;
  readonly studyId: string | null;
}

export interface SeriesAttributes {
  readonly instanceUid: string | null;
  readonly number: number | null;
  readonly modality: string | null;
  readonly description: string | null;
  readonly bodyPartExamined: string | null;
}

export interface InstanceAttributes {
  readonly sopClassUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly instanceNumber: number | null;
  readonly numberOfFrames: number | null;
  readonly rows: number | null;
  readonly columns: number | null;
  /** (0008,0005) values, trimmed; null when absent (default repertoire). */
  readonly specificCharacterSet: readonly string[] | null;
}

export interface IndexAttributes {
  readonly patient: PatientAttributes;
  readonly study: StudyAttributes;
  readonly series: SeriesAttributes;
  readonly instance: InstanceAttributes;
}

export type HeaderProblemCode =
  | 'missing-attribute'
  | 'empty-attribute'
  | 'invalid-uid'
  | 'invalid-value'
  | 'non-standard-format'
  | 'unknown-character-set'
  | 'unknown-transfer-syntax'
  | 'out-of-order-element'
  | 'unreadable-after-index-attributes';

export interface HeaderProblem {
  /** 'error': the instance cannot be indexed correctly as is (e.g. no Study Instance UID). */
  readonly severity: 'error' | 'warning';
  readonly code: HeaderProblemCode;
  /** 'GGGG,EEEE' of the attribute concerned, when there is one. */
  readonly tag?: string;
  readonly message: string;
}

export interface CompleteHeader {
  readonly complete: true;
  readonly attributes: IndexAttributes;
  readonly problems: readonly HeaderProblem[];
  /**
   * Offset of the Pixel Data (7FE0,0010) element's tag in the dataset bytes (in the inflated bytes for
   * a deflated dataset); null when Pixel Data was not reached or is absent.
   */
  readonly pixelDataOffset: number | null;
}

export interface IncompleteHeader {
  readonly complete: false;
  /** Dataset bytes needed at least, when known (never for deflated data): retry with more. */
  readonly bytesNeeded: number | null;
  readonly reason: string;
}

export type HeaderExtraction = CompleteHeader | IncompleteHeader;

export interface ExtractOptions {
  /** The buffer holds the whole dataset: reaching its end is the end of the data, not truncation. */
  readonly wholeDataset?: boolean;
  /** Upper bound for inflating a deflated head (default 16 MiB); bounds memory on hostile input. */
  readonly maxInflatedBytes?: number;
}

/** Columns (0028,0011): the largest tag this module reads. */
const LAST_INDEXED_TAG = 0x00280011;
const DEFAULT_MAX_INFLATED = 16 * 1024 * 1024;

const TAG = {
  specificCharacterSet: 0x00080005,
  sopClassUid: 0x00080016,
  sopInstanceUid: 0x00080018,
  studyDate: 0x00080020,
  studyTime: 0x00080030,
  accessionNumber: 0x00080050,
  modality: 0x00080060,
  referringPhysicianName: 0x00080090,
  studyDescription: 0x00081030,
  seriesDescription: 0x0008103e,
  patientName: 0x00100010,
  patientId: 0x00100020,
  issuerOfPatientId: 0x00100021,
  patientBirthDate: 0x00100030,
  patientSex: 0x00100040,
  bodyPartExamined: 0x00180015,
  studyInstanceUid: 0x0020000d,
  seriesInstanceUid: 0x0020000e,
  studyId: 0x00200010,
  seriesNumber: 0x00200011,
  instanceNumber: 0x00200013,
  numberOfFrames: 0x00280008,
  rows: 0x00280010,
  columns: 0x00280011,
} as const;

const INDEXED_TAGS: ReadonlySet<number> = new Set(Object.values(TAG));

// ---------------------------------------------------------------------------------------------
// Deflate.

function isBufferTooLarge(e: unknown): boolean {
  return e instanceof RangeError || (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE');
}

/** Deflated input tried first: a header rarely needs more, and inflating pixel data is the slow part. */
const FIRST_INFLATE_INPUT = 16 * 1024;

/**
 * Inflates the head of a deflated dataset. A partial stream is fine: Z_SYNC_FLUSH returns what the
 * given bytes decode to. If the output would exceed the bound (pixel data compresses very well), less
 * input is inflated; the header comes first, so this only costs a retry in absurd cases.
 */
function inflateHead(deflated: Uint8Array, inputLength: number, maxOutput: number): { bytes: Buffer; usedAllInput: boolean } {
  for (;;) {
    const input = deflated.subarray(0, inputLength);
    const options = { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: maxOutput };
    try {
      return { bytes: inflateRawSync(input, options), usedAllInput: inputLength === deflated.length };
    } catch (rawError) {
      if (isBufferTooLarge(rawError) && inputLength > 1024) {
        inputLength = Math.floor(inputLength / 2);
        continue;
      }
      try {
        // Some writers wrap the deflate stream in a zlib header (non-conformant): accept it.
        return { bytes: inflateSync(input, options), usedAllInput: inputLength === deflated.length };
      } catch {
        throw new DicomParseError('malformed', 'the deflated dataset does not inflate', { cause: rawError });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Value readers. The scanner only records elements that lie wholly inside the buffer.

class ValueReader {
  private charset: SpecificCharacterSet = getSpecificCharacterSet(null);

  constructor(
    private readonly found: ReadonlyMap<number, ScannedElement>,
    private readonly bytes: Uint8Array,
    private readonly littleEndian: boolean,
    private readonly problems: HeaderProblem[],
  ) {}

  setCharset(charset: SpecificCharacterSet): void {
    this.charset = charset;
  }

  has(tag: number): boolean {
    return this.found.has(tag);
  }

  rawBytes(tag: number): Uint8Array | undefined {
    const e = this.found.get(tag);
    return e === undefined ? undefined : this.bytes.subarray(e.valueOffset, e.valueOffset + e.length);
  }

  /** Default-repertoire string (CS, DA, TM, IS, UI): trailing NUL/space and leading space removed. */
  ascii(tag: number): string | null {
    const raw = this.rawBytes(tag);
    if (raw === undefined) return null;
    const s = trimValue(decodeLatin1(raw));
    return s === '' ? null : s;
  }

  /** Character-set-dependent string (PN, LO, SH, ...). */
  text(tag: number, vr: CharsetTextVr): string | null {
    const raw = this.rawBytes(tag);
    if (raw === undefined) return null;
    const s = trimValue(this.charset.decode(raw, vr));
    return s === '' ? null : s;
  }

  uid(tag: number, required: boolean): string | null {
    const value = this.ascii(tag);
    if (value === null) {
      if (required) this.missing(tag, 'error');
      return null;
    }
    const problem = uidSyntaxProblem(value);
    if (problem !== null) this.problem('warning', 'invalid-uid', tag, `${JSON.stringify(value)} ${problem}`);
    return value;
  }

  missing(tag: number, severity: 'error' | 'warning'): void {
    const present = this.has(tag);
    this.problem(severity, present ? 'empty-attribute' : 'missing-attribute', tag, present ? 'is empty' : 'is missing');
  }

  /** IS: the first value as an integer. */
  integerString(tag: number): number | null {
    const value = this.ascii(tag);
    if (value === null) return null;
    const first = value.split('\\')[0]!.trim();
    if (/^[+-]?\d{1,12}$/.test(first)) return Number(first);
    this.problem('warning', 'invalid-value', tag, `${JSON.stringify(value)} is not an integer string`);
    return null;
  }

  uint16(tag: number): number | null {
    const e = this.found.get(tag);
    if (e === undefined || e.length === 0) return null;
    if (e.length < 2) {
      this.problem('warning', 'invalid-value', tag, `has ${e.length} bytes, expected 2`);
      return null;
    }
    const b = this.bytes;
    const at = e.valueOffset;
    return this.littleEndian ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
  }

  /** DA: YYYYMMDD; the ACR-NEMA form YYYY.MM.DD is converted. */
  date(tag: number): string | null {
    const value = this.ascii(tag);
    if (value === null || /^\d{8}$/.test(value)) return value;
    const acrNema = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(value);
    if (acrNema) {
      this.problem('warning', 'non-standard-format', tag, `${JSON.stringify(value)} uses the ACR-NEMA date form`);
      return `${acrNema[1]}${acrNema[2]}${acrNema[3]}`;
    }
    this.problem('warning', 'invalid-value', tag, `${JSON.stringify(value)} is not a DA value`);
    return value;
  }

  /** TM: HHMMSS.FFFFFF (or a prefix); the ACR-NEMA form HH:MM:SS is converted. */
  time(tag: number): string | null {
    const value = this.ascii(tag);
    if (value === null || /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/.test(value)) return value;
    const acrNema = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$/.exec(value);
    if (acrNema) {
      this.problem('warning', 'non-standard-format', tag, `${JSON.stringify(value)} uses the ACR-NEMA time form`);
      return `${acrNema[1]}${acrNema[2]}${acrNema[3] ?? ''}${acrNema[4] ?? ''}`;
    }
    this.problem('warning', 'invalid-value', tag, `${JSON.stringify(value)} is not a TM value`);
    return value;
  }

  private problem(severity: 'error' | 'warning', code: HeaderProblemCode, tag: number, what: string): void {
    this.problems.push({ severity, code, tag: formatTag(tag), message: `(${formatTag(tag)}) ${what}` });
  }
}

/** Trailing spaces and NULs are padding in every string VR; leading spaces are insignificant in these. */
function trimValue(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x00)) end--;
  let start = 0;
  while (start < end && s.charCodeAt(start) === 0x20) start++;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// Extraction.

function encodingName(explicitVr: boolean, littleEndian: boolean): DetectedDatasetEncoding {
  if (!explicitVr) return 'implicit-little';
  return littleEndian ? 'explicit-little' : 'explicit-big';
}

/**
 * Parses the start of a raw dataset (NOT Part 10: the bytes after the File Meta group) up to Pixel Data
 * and returns the attributes an archive indexes. Returns `{complete:false}` when the buffer ends before
 * all indexed attributes were read (retry with more bytes); throws DicomParseError when the bytes are
 * not a dataset in that transfer syntax at all. Missing or odd attributes are reported as problems.
 */
export function extractIndexAttributes(datasetHead: Uint8Array, transferSyntaxUid: string, options: ExtractOptions = {}): HeaderExtraction {
  const encoding = datasetEncodingOf(transferSyntaxUid);
  if (!encoding.deflated) return extractFromDataset(datasetHead, transferSyntaxUid, options.wholeDataset === true, false);
  if (datasetHead.length === 0) return incompleteOrFail(options.wholeDataset === true, null, 'no deflated bytes');
  const maxOutput = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED;
  if (datasetHead.length > FIRST_INFLATE_INPUT) {
    const first = inflateHead(datasetHead, FIRST_INFLATE_INPUT, maxOutput);
    const result = extractFromDataset(first.bytes, transferSyntaxUid, false, true);
    if (result.complete) return result;
  }
  const inflated = inflateHead(datasetHead, datasetHead.length, maxOutput);
  return extractFromDataset(inflated.bytes, transferSyntaxUid, options.wholeDataset === true && inflated.usedAllInput, true);
}

function extractFromDataset(bytes: Uint8Array, transferSyntaxUid: string, wholeDataset: boolean, inflated: boolean): HeaderExtraction {
  const problems: HeaderProblem[] = [];
  const encoding = datasetEncodingOf(transferSyntaxUid);
  if (!encoding.known) {
    problems.push({ severity: 'warning', code: 'unknown-transfer-syntax', message: `transfer syntax ${transferSyntaxUid} is unknown; read as Explicit VR Little Endian` });
  }
  if (bytes.length < 8) return incompleteOrFail(wholeDataset, inflated ? null : 8, `only ${bytes.length} dataset bytes`);

  const { explicitVr, littleEndian } = encoding;
  if (!datasetStartsConsistently(bytes, 0, encodingName(explicitVr, littleEndian))) {
    if (!wholeDataset && bytes.length < MIN_BYTES_TO_RECOGNISE) {
      return { complete: false, bytesNeeded: inflated ? null : MIN_BYTES_TO_RECOGNISE, reason: `only ${bytes.length} bytes: too few to recognise the dataset` };
    }
    const group = littleEndian ? bytes[0]! | (bytes[1]! << 8) : (bytes[0]! << 8) | bytes[1]!;
    const hint = group === 0x0002 ? ' (it starts with the File Meta group: pass the bytes after it)' : '';
    throw new DicomParseError('not-dicom', `the bytes do not start like a dataset in ${transferSyntaxUid}${hint}`, { offset: 0 });
  }

  const scan = scanDataset(bytes, { explicitVr, littleEndian }, { stopAtTag: PIXEL_DATA_TAG });
  const { elements, stop } = scan;
  const last = elements[elements.length - 1];
  let pixelDataOffset: number | null = null;

  if (stop.kind === 'stop-tag') {
    pixelDataOffset = last!.headerOffset;
  } else {
    // Every indexed attribute precedes `boundary` (tags ascend), so it has been read if the trouble
    // (or the end of the buffer) lies beyond Columns (0028,0011).
    const boundary = stop.kind === 'end-of-buffer' ? (last === undefined ? 0 : last.tag + 1) : (stop.tag ?? (last === undefined ? 0 : last.tag + 1));
    const indexedAttributesRead = boundary > LAST_INDEXED_TAG;
    if (stop.kind === 'malformed') {
      if (!indexedAttributesRead) {
        throw new DicomParseError('malformed', `at offset ${stop.offset}${stop.tag === null ? '' : ` in (${formatTag(stop.tag)})`}: ${stop.reason}`, { offset: stop.offset });
      }
      problems.push({ severity: 'warning', code: 'unreadable-after-index-attributes', message: `the dataset is broken after the indexed attributes: ${stop.reason} at offset ${stop.offset}` });
    } else if (stop.kind === 'truncated') {
      if (wholeDataset && !indexedAttributesRead) {
        throw new DicomParseError('malformed', `the dataset is truncated: it ends inside (${formatTag(stop.tag ?? 0)}) at offset ${stop.headerOffset}`, { offset: stop.headerOffset });
      }
      if (wholeDataset) {
        problems.push({ severity: 'warning', code: 'unreadable-after-index-attributes', message: `the dataset is truncated after the indexed attributes, at offset ${stop.headerOffset}` });
      }
    }
    if (!indexedAttributesRead && !wholeDataset) {
      const bytesNeeded = stop.kind === 'truncated' && !inflated ? stop.bytesNeeded : null;
      return {
        complete: false,
        bytesNeeded,
        reason: `the buffer (${bytes.length} bytes) ends before all indexed attributes were read (${stop.kind === 'truncated' && stop.tag !== null ? `inside (${formatTag(stop.tag)})` : 'at an element boundary'})`,
      };
    }
  }

  for (const at of scan.outOfOrderAt) {
    problems.push({ severity: 'warning', code: 'out-of-order-element', message: `the element at offset ${at} is out of ascending tag order` });
  }

  const found = new Map<number, ScannedElement>();
  for (const e of elements) {
    if (INDEXED_TAGS.has(e.tag) && !found.has(e.tag)) found.set(e.tag, e);
  }
  return { complete: true, attributes: readAttributes(new ValueReader(found, bytes, littleEndian, problems), problems), problems, pixelDataOffset };
}

function incompleteOrFail(wholeDataset: boolean, bytesNeeded: number | null, reason: string): IncompleteHeader {
  if (wholeDataset) throw new DicomParseError('not-dicom', `the dataset is too short: ${reason}`);
  return { complete: false, bytesNeeded, reason };
}

function readAttributes(reader: ValueReader, problems: HeaderProblem[]): IndexAttributes {
  const charsetValue = reader.ascii(TAG.specificCharacterSet);
  const charsetValues = charsetValue === null ? null : charsetValue.split('\\').map((v) => v.trim());
  const charset = getSpecificCharacterSet(charsetValues);
  reader.setCharset(charset);
  if (charset.unknownTerms.length > 0) {
    problems.push({
      severity: 'warning',
      code: 'unknown-character-set',
      tag: '0008,0005',
      message: `unknown Specific Character Set ${charset.unknownTerms.map((t) => JSON.stringify(t)).join(', ')}; decoded as ISO 8859-1`,
    });
  }

  const nameBytes = reader.rawBytes(TAG.patientName);
  const nameRaw = nameBytes === undefined ? '' : trimValue(decodeLatin1(nameBytes));

  const attributes: IndexAttributes = {
    patient: {
      name: reader.text(TAG.patientName, 'PN'),
      nameRaw: nameRaw === '' ? null : nameRaw,
      id: reader.text(TAG.patientId, 'LO'),
      issuerOfPatientId: reader.text(TAG.issuerOfPatientId, 'LO'),
      birthDate: reader.date(TAG.patientBirthDate),
      sex: reader.ascii(TAG.patientSex),
    },
    study: {
      instanceUid: reader.uid(TAG.studyInstanceUid, true),
      date: reader.date(TAG.studyDate),
      time: reader.time(TAG.studyTime),
      accessionNumber: reader.text(TAG.accessionNumber, 'SH'),
      description: reader.text(TAG.studyDescription, 'LO'),
      referringPhysicianName: reader.text(TAG.referringPhysicianName, 'PN'),
      studyId: reader.text(TAG.studyId, 'SH'),
    },
    series: {
      instanceUid: reader.uid(TAG.seriesInstanceUid, true),
      number: reader.integerString(TAG.seriesNumber),
      modality: reader.ascii(TAG.modality),
      description: reader.text(TAG.seriesDescription, 'LO'),
      bodyPartExamined: reader.ascii(TAG.bodyPartExamined),
    },
    instance: {
      sopClassUid: reader.uid(TAG.sopClassUid, true),
      sopInstanceUid: reader.uid(TAG.sopInstanceUid, true),
      instanceNumber: reader.integerString(TAG.instanceNumber),
      numberOfFrames: reader.integerString(TAG.numberOfFrames),
      rows: reader.uint16(TAG.rows),
      columns: reader.uint16(TAG.columns),
      specificCharacterSet: charsetValues,
    },
  };
  // Type 1 or 2 in nearly every IOD, and what the archive's patient and series lists are keyed on.
  if (attributes.patient.id === null) reader.missing(TAG.patientId, 'warning');
  if (attributes.series.modality === null) reader.missing(TAG.modality, 'warning');
  return attributes;
}
