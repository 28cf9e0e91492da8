// DICOM Part 10 files (PS3.10 7.1): building the File Meta Information group, and finding where the
// dataset starts in the first bytes of a file that may or may not follow Part 10.
import { open } from 'node:fs/promises';
import { encodeElement, encodeUint32Element, EXPLICIT_LITTLE } from './element-writer.ts';
import { DicomParseError, DicomValueError } from './errors.ts';
import {
  datasetEncodingOf,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax.ts';
import { formatTag } from './tags.ts';
import { uidSyntaxProblem } from './uid.ts';
import { hasLongExplicitHeader, vrAt } from './vr.ts';

export const PREAMBLE_LENGTH = 128;
/** Preamble plus the 'DICM' prefix. */
export const PART10_PREFIX_LENGTH = 132;
/** What a caller should read from the start of a file to find the dataset (meta groups are small). */
export const DEFAULT_HEAD_BYTES = 64 * 1024;

const DICM = [0x44, 0x49, 0x43, 0x4d];
const UNDEFINED_LENGTH = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Building.

export interface FileMetaInput {
  /** (0002,0002): the SOP Class UID of the dataset. */
  readonly mediaStorageSopClassUid: string;
  /** (0002,0003): the SOP Instance UID of the dataset. */
  readonly mediaStorageSopInstanceUid: string;
  /** (0002,0010): how the dataset that follows is encoded. */
  readonly transferSyntaxUid: string;
  /** (0002,0012): identifies the writing implementation; product-specific, so the caller supplies it. */
  readonly implementationClassUid: string;
  /** (0002,0013): at most 16 characters of the default repertoire. */
  readonly implementationVersionName?: string;
  /** (0002,0016): the AE that sent or wrote the dataset. */
  readonly sourceApplicationEntityTitle?: string;
}

export interface BuildFileMetaOptions {
  /** 128 bytes to use as the preamble (e.g. a TIFF header for dual-format files); zeros by default. */
  readonly preamble?: Uint8Array;
  /** Leave out the preamble and 'DICM' (for contexts that want the group alone). Default false. */
  readonly omitPreamble?: boolean;
}

function checkUid(field: string, uid: string): void {
  const problem = uidSyntaxProblem(uid);
  if (problem !== null) throw new DicomValueError(field, `${JSON.stringify(uid)} is not a valid UID: ${problem}`);
}

/** SH / AE: at most 16 characters, printable default repertoire, no backslash. */
function checkShortText(field: string, value: string, allowEmpty: boolean): void {
  if (value.length > 16) throw new DicomValueError(field, `${JSON.stringify(value)} is longer than 16 characters`);
  if (!/^[\x20-\x7e]*$/.test(value) || value.includes('\\')) {
    throw new DicomValueError(field, `${JSON.stringify(value)} must be printable ASCII without backslash`);
  }
  if (!allowEmpty && value.trim() === '') throw new DicomValueError(field, 'must not be empty or all spaces');
}

/**
 * The File Meta Information group (group 0002, Explicit VR Little Endian) preceded by the 128-byte
 * preamble and 'DICM', as one Buffer ready to be followed by the dataset bytes.
 */
export function buildFileMetaInformation(input: FileMetaInput, options: BuildFileMetaOptions = {}): Buffer {
  checkUid('mediaStorageSopClassUid', input.mediaStorageSopClassUid);
  checkUid('mediaStorageSopInstanceUid', input.mediaStorageSopInstanceUid);
  checkUid('transferSyntaxUid', input.transferSyntaxUid);
  checkUid('implementationClassUid', input.implementationClassUid);
  if (input.implementationVersionName !== undefined) checkShortText('implementationVersionName', input.implementationVersionName, false);
  if (input.sourceApplicationEntityTitle !== undefined) checkShortText('sourceApplicationEntityTitle', input.sourceApplicationEntityTitle, false);
  if (options.preamble !== undefined && options.preamble.length !== PREAMBLE_LENGTH) {
    throw new DicomValueError('preamble', `must be ${PREAMBLE_LENGTH} bytes, got ${options.preamble.length}`);
  }

  const elements: Buffer[] = [
    encodeElement(0x00020001, 'OB', Uint8Array.of(0x00, 0x01), EXPLICIT_LITTLE),
    encodeElement(0x00020002, 'UI', input.mediaStorageSopClassUid, EXPLICIT_LITTLE),
    encodeElement(0x00020003, 'UI', input.mediaStorageSopInstanceUid, EXPLICIT_LITTLE),
    encodeElement(0x00020010, 'UI', input.transferSyntaxUid, EXPLICIT_LITTLE),
    encodeElement(0x00020012, 'UI', input.implementationClassUid, EXPLICIT_LITTLE),
  ];
  if (input.implementationVersionName !== undefined) {
    elements.push(encodeElement(0x00020013, 'SH', input.implementationVersionName, EXPLICIT_LITTLE));
  }
  if (input.sourceApplicationEntityTitle !== undefined) {
    elements.push(encodeElement(0x00020016, 'AE', input.sourceApplicationEntityTitle, EXPLICIT_LITTLE));
  }
  const groupBody = Buffer.concat(elements);
  const groupLength = encodeUint32Element(0x00020000, [groupBody.length], EXPLICIT_LITTLE);
  if (options.omitPreamble === true) return Buffer.concat([groupLength, groupBody]);
  const prefix = Buffer.alloc(PART10_PREFIX_LENGTH);
  if (options.preamble !== undefined) prefix.set(options.preamble, 0);
  prefix.set(DICM, PREAMBLE_LENGTH);
  return Buffer.concat([prefix, groupLength, groupBody]);
}

// ---------------------------------------------------------------------------------------------
// Reading.

export interface FileMetaInformation {
  /** (0002,0000) as written; may disagree with the real group size (see `problems`). */
  readonly groupLength: number | null;
  /** (0002,0001) bytes, normally 00 01. */
  readonly version: Uint8Array | null;
  readonly mediaStorageSopClassUid: string | null;
  readonly mediaStorageSopInstanceUid: string | null;
  /** (0002,0010) as written (trimmed). The effective one is DicomFileLayout.transferSyntaxUid. */
  readonly transferSyntaxUid: string | null;
  readonly implementationClassUid: string | null;
  readonly implementationVersionName: string | null;
  readonly sourceApplicationEntityTitle: string | null;
  readonly sendingApplicationEntityTitle: string | null;
  readonly receivingApplicationEntityTitle: string | null;
  readonly privateInformationCreatorUid: string | null;
}

export type DicomFileKind =
  /** 128-byte preamble, 'DICM', File Meta group, dataset. */
  | 'part10'
  /** File Meta group at offset 0 without preamble (non-conformant but common from some writers). */
  | 'meta-without-preamble'
  /** A bare dataset (e.g. ACR-NEMA style or a dump of a received C-STORE): no meta at all. */
  | 'raw-dataset';

export interface DicomFileLayout {
  readonly kind: DicomFileKind;
  /** Offset of the File Meta group (132 or 0), or null when there is none. */
  readonly metaOffset: number | null;
  /** Offset of the first dataset byte: everything from here on is the dataset. */
  readonly datasetOffset: number;
  /** The transfer syntax to read the dataset with. */
  readonly transferSyntaxUid: string;
  /** 'file-meta' when taken from (0002,0010); 'detected' when inferred from the dataset bytes. */
  readonly transferSyntaxSource: 'file-meta' | 'detected';
  readonly meta: FileMetaInformation | null;
  /** Non-fatal oddities (wrong group length, meta in implicit VR, transfer syntax contradicted by data). */
  readonly problems: readonly string[];
}

interface RawElement {
  readonly vr: string | null;
  readonly valueOffset: number;
  readonly length: number;
}

function u16le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}
function u16be(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
function u32be(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function hasDicmPrefix(head: Uint8Array): boolean {
  if (head.length < PART10_PREFIX_LENGTH) return false;
  for (let i = 0; i < 4; i++) if (head[PREAMBLE_LENGTH + i] !== DICM[i]) return false;
  return true;
}

/** Walks group 0002 (always Explicit VR Little Endian; tolerates implicit-VR meta from old writers). */
function walkMetaGroup(head: Uint8Array, start: number, problems: string[]): { elements: Map<number, RawElement>; end: number } {
  const elements = new Map<number, RawElement>();
  let pos = start;
  let warnedImplicit = false;
  while (pos + 8 <= head.length && u16le(head, pos) === 0x0002) {
    const tag = ((0x0002 << 16) | u16le(head, pos + 2)) >>> 0;
    const vr = vrAt(head, pos + 4);
    let length: number;
    let valueOffset: number;
    if (vr === null) {
      if (!warnedImplicit) problems.push('File Meta group is not in Explicit VR (read as Implicit VR Little Endian)');
      warnedImplicit = true;
      length = u32le(head, pos + 4);
      valueOffset = pos + 8;
    } else if (hasLongExplicitHeader(vr)) {
      if (pos + 12 > head.length) break;
      length = u32le(head, pos + 8);
      valueOffset = pos + 12;
    } else {
      length = u16le(head, pos + 6);
      valueOffset = pos + 8;
    }
    if (length === UNDEFINED_LENGTH) {
      throw new DicomParseError('malformed', `undefined length in File Meta element (${formatTag(tag)})`, { offset: pos });
    }
    if (valueOffset + length > head.length) {
      throw new DicomParseError('truncated', `File Meta element (${formatTag(tag)}) ends after the ${head.length} bytes given`, {
        offset: pos,
        bytesNeeded: valueOffset + length,
      });
    }
    elements.set(tag, { vr, valueOffset, length });
    pos = valueOffset + length;
  }
  if (pos + 8 > head.length && pos < head.length) {
    throw new DicomParseError('truncated', 'the bytes end inside the File Meta group', { offset: pos, bytesNeeded: pos + 8 });
  }
  return { elements, end: pos };
}

function textValue(head: Uint8Array, e: RawElement | undefined): string | null {
  if (e === undefined) return null;
  let s = '';
  for (let i = e.valueOffset; i < e.valueOffset + e.length; i++) s += String.fromCharCode(head[i]!);
  s = s.replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return s === '' ? null : s;
}

function readMeta(head: Uint8Array, elements: Map<number, RawElement>): FileMetaInformation {
  const groupLengthElement = elements.get(0x00020000);
  const versionElement = elements.get(0x00020001);
  return {
    groupLength: groupLengthElement !== undefined && groupLengthElement.length === 4 ? u32le(head, groupLengthElement.valueOffset) : null,
    version: versionElement === undefined ? null : head.slice(versionElement.valueOffset, versionElement.valueOffset + versionElement.length),
    mediaStorageSopClassUid: textValue(head, elements.get(0x00020002)),
    mediaStorageSopInstanceUid: textValue(head, elements.get(0x00020003)),
    transferSyntaxUid: textValue(head, elements.get(0x00020010)),
    implementationClassUid: textValue(head, elements.get(0x00020012)),
    implementationVersionName: textValue(head, elements.get(0x00020013)),
    sourceApplicationEntityTitle: textValue(head, elements.get(0x00020016)),
    sendingApplicationEntityTitle: textValue(head, elements.get(0x00020017)),
    receivingApplicationEntityTitle: textValue(head, elements.get(0x00020018)),
    privateInformationCreatorUid: textValue(head, elements.get(0x00020100)),
  };
}

export type DetectedDatasetEncoding = 'implicit-little' | 'explicit-little' | 'explicit-big';

const ENCODING_TS: Record<DetectedDatasetEncoding, string> = {
  'implicit-little': IMPLICIT_VR_LITTLE_ENDIAN,
  'explicit-little': EXPLICIT_VR_LITTLE_ENDIAN,
  'explicit-big': EXPLICIT_VR_BIG_ENDIAN,
};

/** Below this many bytes a failed detection may just mean "not enough bytes yet". */
export const MIN_BYTES_TO_RECOGNISE = 256;

/** How many leading elements must read consistently before an encoding is believed. */
const ELEMENTS_TO_CHECK = 16;

/**
 * True when the first top-level elements at `start` read consistently in `encoding` (up to 16 of them):
 * the first is a complete element of an even group, tags ascend, explicit VRs are real VRs. Stops
 * (successfully) at an undefined length or at a later value running past the buffer, where there is
 * nothing left to contradict the encoding.
 */
export function datasetStartsConsistently(b: Uint8Array, start: number, encoding: DetectedDatasetEncoding): boolean {
  const little = encoding !== 'explicit-big';
  const explicit = encoding !== 'implicit-little';
  let pos = start;
  let previousTag = -1;
  let count = 0;
  while (count < ELEMENTS_TO_CHECK && pos + 8 <= b.length) {
    const group = little ? u16le(b, pos) : u16be(b, pos);
    const element = little ? u16le(b, pos + 2) : u16be(b, pos + 2);
    const tag = group * 0x10000 + element;
    if (group < 0x0004 || group === 0xfffe || tag <= previousTag) return false;
    let length: number;
    let headerLength: number;
    if (explicit) {
      const vr = vrAt(b, pos + 4);
      if (vr === null) return false;
      if (hasLongExplicitHeader(vr)) {
        if (pos + 12 > b.length) return true;
        if (b[pos + 6] !== 0 || b[pos + 7] !== 0) return false; // reserved bytes
        length = little ? u32le(b, pos + 8) : u32be(b, pos + 8);
        headerLength = 12;
      } else {
        length = little ? u16le(b, pos + 6) : u16be(b, pos + 6);
        headerLength = 8;
      }
    } else {
      length = u32le(b, pos + 4);
      headerLength = 8;
    }
    if (count === 0) {
      // A dataset opens with a small element of a standard (even) group that fits in any sensible head.
      if (group % 2 === 1 || (length !== UNDEFINED_LENGTH && pos + headerLength + length > b.length)) return false;
    }
    count++;
    if (length === UNDEFINED_LENGTH) return true;
    previousTag = tag;
    pos += headerLength + length;
  }
  return count > 0;
}

/**
 * Guesses how a dataset without (trustworthy) meta is encoded, from its first elements.
 * Explicit VR is tried first: implicit-VR reading of explicit data can look consistent by accident
 * (the VR bytes become a huge length that runs past the buffer), the reverse essentially cannot.
 */
export function detectDatasetEncoding(bytes: Uint8Array, offset = 0): DetectedDatasetEncoding | null {
  if (offset + 8 > bytes.length) return null;
  if (vrAt(bytes, offset + 4) !== null) {
    // A big-endian group number starts with its high byte, which is 00 for every standard group.
    const looksBig = bytes[offset] === 0 && bytes[offset + 1] !== 0;
    const order: DetectedDatasetEncoding[] = looksBig ? ['explicit-big', 'explicit-little'] : ['explicit-little', 'explicit-big'];
    for (const encoding of order) if (datasetStartsConsistently(bytes, offset, encoding)) return encoding;
  }
  return datasetStartsConsistently(bytes, offset, 'implicit-little') ? 'implicit-little' : null;
}

function encodingOfTransferSyntax(uid: string): DetectedDatasetEncoding {
  const enc = datasetEncodingOf(uid);
  if (!enc.explicitVr) return 'implicit-little';
  return enc.littleEndian ? 'explicit-little' : 'explicit-big';
}

const NATIVE_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN]);

/**
 * Splits the first bytes of a file (up to DEFAULT_HEAD_BYTES is plenty) into File Meta and dataset.
 * Throws DicomParseError 'truncated' when the meta group does not fit in `head`, 'not-dicom' when
 * neither a meta group nor a recognisable dataset is there.
 */
export function detectFileLayout(head: Uint8Array): DicomFileLayout {
  const problems: string[] = [];
  let kind: DicomFileKind;
  let metaOffset: number | null;
  if (hasDicmPrefix(head)) {
    kind = 'part10';
    metaOffset = PART10_PREFIX_LENGTH;
  } else if (head.length >= 8 && u16le(head, 0) === 0x0002 && (vrAt(head, 4) !== null || u32le(head, 4) < 0x10000)) {
    kind = 'meta-without-preamble';
    metaOffset = 0;
  } else {
    kind = 'raw-dataset';
    metaOffset = null;
  }

  if (metaOffset === null) {
    const detected = detectDatasetEncoding(head, 0);
    if (detected === null) {
      if (head.length < MIN_BYTES_TO_RECOGNISE) {
        throw new DicomParseError('truncated', `only ${head.length} bytes: too few to recognise DICOM`, { bytesNeeded: MIN_BYTES_TO_RECOGNISE });
      }
      throw new DicomParseError('not-dicom', 'no DICM prefix, no File Meta group and no recognisable dataset at the start');
    }
    return { kind, metaOffset, datasetOffset: 0, transferSyntaxUid: ENCODING_TS[detected], transferSyntaxSource: 'detected', meta: null, problems };
  }

  const { elements, end } = walkMetaGroup(head, metaOffset, problems);
  const meta = readMeta(head, elements);
  const declaredEnd = meta.groupLength === null ? null : metaOffset + 12 + meta.groupLength;
  if (end >= head.length && declaredEnd !== end) {
    // The bytes stop at an element boundary: more meta elements may follow in the file.
    throw new DicomParseError('truncated', 'the bytes end inside or right after the File Meta group', {
      offset: end,
      bytesNeeded: Math.max(end + 8, declaredEnd ?? 0),
    });
  }
  if (elements.size === 0) problems.push('the File Meta group is empty');
  if (meta.groupLength !== null && metaOffset + 12 + meta.groupLength !== end) {
    problems.push(`(0002,0000) says ${meta.groupLength} bytes but the group has ${end - metaOffset - 12}`);
  }

  const datasetStartsHere = end < head.length;
  const detected = datasetStartsHere ? detectDatasetEncoding(head, end) : null;
  if (meta.transferSyntaxUid === null) {
    problems.push('(0002,0010) Transfer Syntax UID is missing');
    if (detected === null) {
      if (!datasetStartsHere) {
        throw new DicomParseError('truncated', 'no transfer syntax in the meta group and no dataset bytes to detect one', { bytesNeeded: end + 8 });
      }
      throw new DicomParseError('malformed', 'no transfer syntax in the meta group and the dataset encoding is not recognisable', { offset: end });
    }
    return { kind, metaOffset, datasetOffset: end, transferSyntaxUid: ENCODING_TS[detected], transferSyntaxSource: 'detected', meta, problems };
  }

  const declared = meta.transferSyntaxUid;
  const encoding = datasetEncodingOf(declared);
  if (detected !== null && !encoding.deflated && detected !== encodingOfTransferSyntax(declared)) {
    problems.push(`(0002,0010) says ${declared} but the dataset reads as ${detected}`);
    // Only the uncompressed syntaxes can be swapped safely; elsewhere the pixel encoding depends on the UID.
    if (NATIVE_TRANSFER_SYNTAXES.has(declared)) {
      return { kind, metaOffset, datasetOffset: end, transferSyntaxUid: ENCODING_TS[detected], transferSyntaxSource: 'detected', meta, problems };
    }
  }
  return { kind, metaOffset, datasetOffset: end, transferSyntaxUid: declared, transferSyntaxSource: 'file-meta', meta, problems };
}

/** Reads up to `maxBytes` from the start of a file. */
export async function readFileHead(path: string, maxBytes = DEFAULT_HEAD_BYTES): Promise<{ head: Buffer; fileSize: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const head = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(head, filled, length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { head: filled === length ? head : head.subarray(0, filled), fileSize: size };
  } finally {
    await handle.close();
  }
}

/** detectFileLayout on the first bytes of a file; also returns those bytes for further parsing. */
export async function readFileLayout(path: string, maxBytes = DEFAULT_HEAD_BYTES): Promise<{ layout: DicomFileLayout; head: Buffer; fileSize: number }> {
  const { head, fileSize } = await readFileHead(path, maxBytes);
  return { layout: detectFileLayout(head), head, fileSize };
}
