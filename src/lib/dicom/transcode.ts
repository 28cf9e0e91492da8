// Transfer syntax conversion of a dataset between the uncompressed encodings: Implicit VR Little
// Endian, Explicit VR Little Endian and Explicit VR Big Endian (Deflated Explicit VR Little Endian as a
// source too). Used when a requester cannot accept the syntax an instance was stored in.
//
// Works on the element structure, not on decoded values: every value's bytes are copied as they are
// (byte-swapped per VR when the byte order changes), so text in any character set, odd lengths and
// unusual formats (ACR-NEMA dates, private data) survive exactly. Only element headers and the lengths
// of defined-length sequences and items change. Implicit VR data gets its VRs from the dcmjs data
// dictionary (unknown and private elements become UN). Whole dataset in memory: single instances only.
import { createRequire } from 'node:module';
import { inflateRawSync } from 'node:zlib';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from './transfer-syntax.ts';
import { formatTag } from './tags.ts';
import { hasLongExplicitHeader, vrAt } from './vr.ts';

/** Syntaxes a dataset can be written in here. */
export const TRANSCODE_TARGET_SYNTAXES: readonly string[] = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN];
/** Syntaxes a dataset can be read from for conversion. */
export const TRANSCODE_SOURCE_SYNTAXES: readonly string[] = [...TRANSCODE_TARGET_SYNTAXES, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN];

export type TranscodeErrorCode = 'unsupported-conversion' | 'unreadable-dataset';

export class TranscodeError extends Error {
  override readonly name = 'TranscodeError';
  constructor(
    readonly code: TranscodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `transcodeDataset(…, from, to)` can convert (the same syntax counts). */
export function canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean {
  if (fromTransferSyntaxUid === toTransferSyntaxUid) return true;
  return TRANSCODE_SOURCE_SYNTAXES.includes(fromTransferSyntaxUid) && TRANSCODE_TARGET_SYNTAXES.includes(toTransferSyntaxUid);
}

interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

const ENCODINGS: Readonly<Record<string, Encoding>> = {
  [IMPLICIT_VR_LITTLE_ENDIAN]: { explicitVr: false, littleEndian: true },
  [EXPLICIT_VR_LITTLE_ENDIAN]: { explicitVr: true, littleEndian: true },
  [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]: { explicitVr: true, littleEndian: true },
  [EXPLICIT_VR_BIG_ENDIAN]: { explicitVr: true, littleEndian: false },
};

/**
 * Re-encodes a dataset (the bytes after the File Meta group) from one transfer syntax to another and
 * returns the new dataset bytes. Throws TranscodeError.
 */
export function transcodeDataset(dataset: Uint8Array, fromTransferSyntaxUid: string, toTransferSyntaxUid: string): Buffer {
  if (fromTransferSyntaxUid === toTransferSyntaxUid) return Buffer.from(dataset.buffer, dataset.byteOffset, dataset.byteLength);
  const from = ENCODINGS[fromTransferSyntaxUid];
  const to = ENCODINGS[toTransferSyntaxUid];
  if (!canTranscode(fromTransferSyntaxUid, toTransferSyntaxUid) || from === undefined || to === undefined) {
    throw new TranscodeError('unsupported-conversion', `cannot convert ${fromTransferSyntaxUid} to ${toTransferSyntaxUid}`);
  }
  let source = dataset;
  if (fromTransferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
    try {
      source = inflateRawSync(dataset);
    } catch (err) {
      throw new TranscodeError('unreadable-dataset', 'the deflated dataset does not inflate', { cause: err });
    }
  }
  const converter = new ElementConverter(source, to);
  const out = converter.convertRange(0, source.length, from, 0);
  return Buffer.concat(out.chunks, out.length);
}

// ---------------------------------------------------------------------------------------------

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const BITS_ALLOCATED = 0x00280100;
const PIXEL_REPRESENTATION = 0x00280103;

/** Size of the numbers a VR's value is made of, for byte swapping; 1 = bytes or text (no swap). */
function swapUnit(vr: string): number {
  switch (vr) {
    case 'US': case 'SS': case 'OW': case 'AT': return 2;
    case 'UL': case 'SL': case 'FL': case 'OF': case 'OL': return 4;
    case 'FD': case 'OD': case 'SV': case 'UV': case 'OV': return 8;
    default: return 1;
  }
}

function swapped(value: Uint8Array, unit: number): Buffer {
  const copy = Buffer.from(value);
  if (unit === 2 && copy.length % 2 === 0) copy.swap16();
  else if (unit === 4 && copy.length % 4 === 0) copy.swap32();
  else if (unit === 8 && copy.length % 8 === 0) copy.swap64();
  return copy;
}

interface DictionaryEntry {
  readonly vr: string;
}
interface DcmjsDictionary {
  data: { DicomMetaDictionary: { dictionary: Readonly<Record<string, DictionaryEntry | undefined>> } };
}
let dictionary: Readonly<Record<string, DictionaryEntry | undefined>> | null = null;

function dictionaryVr(tag: number): string | undefined {
  dictionary ??= (createRequire(import.meta.url)('dcmjs') as DcmjsDictionary).data.DicomMetaDictionary.dictionary;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const group = tag >>> 16;
  const element = tag & 0xffff;
  const entry = dictionary[`(${hex(group)},${hex(element)})`]
    // Repeating groups (curves 50xx, overlays 60xx) are listed under their first group.
    ?? ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000 ? dictionary[`(${hex(group & 0xff00)},${hex(element)})`] : undefined);
  return entry?.vr;
}

/** The VR of an element read without one (Implicit VR Little Endian source). */
function implicitVr(tag: number, bitsAllocated: number | null, signedPixels: boolean): string {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (element === 0x0000) return 'UL';
  if (group % 2 === 1) return element >= 0x0010 && element <= 0x00ff ? 'LO' : 'UN';
  const vr = dictionaryVr(tag);
  if (vr === undefined) return 'UN';
  if (vr.length === 2 && vr === vr.toUpperCase()) return vr;
  // Multi-VR entries ("ox" OB or OW, "xs" US or SS, ...).
  if (tag === PIXEL_DATA) return bitsAllocated !== null && bitsAllocated <= 8 ? 'OB' : 'OW';
  if (vr.includes('o')) return 'OW';
  return signedPixels ? 'SS' : 'US';
}

interface Converted {
  chunks: Buffer[];
  length: number;
}

class ElementConverter {
  private bitsAllocated: number | null = null;
  private signedPixels = false;

  constructor(
    private readonly src: Uint8Array,
    private readonly to: Encoding,
  ) {}

  private fail(message: string, offset: number): never {
    throw new TranscodeError('unreadable-dataset', `${message} (at byte ${offset})`);
  }

  private u16(at: number, little: boolean): number {
    if (at + 2 > this.src.length) this.fail('the dataset ends inside an element header', at);
    return little ? this.src[at]! | (this.src[at + 1]! << 8) : (this.src[at]! << 8) | this.src[at + 1]!;
  }

  private u32(at: number, little: boolean): number {
    if (at + 4 > this.src.length) this.fail('the dataset ends inside an element header', at);
    const b = this.src;
    return little
      ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000
      : b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }

  private header(tag: number, vr: string | null, length: number): Buffer {
    const little = this.to.littleEndian;
    const group = tag >>> 16;
    const element = tag & 0xffff;
    const write16 = (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
    const write32 = (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
    if (vr === null || !this.to.explicitVr) {
      const h = Buffer.alloc(8);
      write16(h, group, 0);
      write16(h, element, 2);
      write32(h, length, 4);
      return h;
    }
    if (hasLongExplicitHeader(vr)) {
      const h = Buffer.alloc(12);
      write16(h, group, 0);
      write16(h, element, 2);
      h.write(vr, 4, 'latin1');
      write32(h, length, 8);
      return h;
    }
    const h = Buffer.alloc(8);
    write16(h, group, 0);
    write16(h, element, 2);
    h.write(vr, 4, 'latin1');
    write16(h, length, 6);
    return h;
  }

  /**
   * Converts the elements in [start, end) (or up to a delimiter when `end` is unknown: undefined
   * length), returning the output and the offset after what was consumed.
   */
  convertRange(start: number, end: number, from: Encoding, depth: number): Converted & { next: number } {
    const out: Converted & { next: number } = { chunks: [], length: 0, next: start };
    let pos = start;
    while (pos < end) {
      const group = this.u16(pos, from.littleEndian);
      const element = this.u16(pos + 2, from.littleEndian);
      const tag = (group * 0x10000 + element) >>> 0;
      if (tag === ITEM_DELIMITATION || tag === SEQUENCE_DELIMITATION) {
        out.next = pos;
        return out;
      }
      pos = this.convertElement(pos, tag, from, depth, out);
    }
    out.next = pos;
    return out;
  }

  private push(out: Converted, ...chunks: Buffer[]): void {
    for (const c of chunks) {
      out.chunks.push(c);
      out.length += c.length;
    }
  }

  private convertElement(pos: number, tag: number, from: Encoding, depth: number, out: Converted): number {
    let vr: string | null;
    let length: number;
    let valueStart: number;
    if (from.explicitVr) {
      vr = vrAt(this.src, pos + 4);
      if (vr === null) this.fail(`element ${formatTag(tag)} has no valid VR`, pos);
      if (hasLongExplicitHeader(vr)) {
        length = this.u32(pos + 8, from.littleEndian);
        valueStart = pos + 12;
      } else {
        length = this.u16(pos + 6, from.littleEndian);
        valueStart = pos + 8;
      }
    } else {
      length = this.u32(pos + 4, true);
      valueStart = pos + 8;
      vr = implicitVr(tag, this.bitsAllocated, this.signedPixels);
    }

    const isSequence = vr === 'SQ' || (length === UNDEFINED_LENGTH && vr === 'UN');
    if (isSequence) {
      // An undefined-length UN is a sequence encoded in Implicit VR Little Endian (PS3.5 6.2.2).
      const itemEncoding = vr === 'UN' ? { explicitVr: false, littleEndian: true } : from;
      const { converted, next } = this.convertSequence(valueStart, length, itemEncoding, depth + 1);
      const outLength = length === UNDEFINED_LENGTH ? UNDEFINED_LENGTH : converted.length;
      this.push(out, this.header(tag, 'SQ', outLength), ...converted.chunks);
      if (length === UNDEFINED_LENGTH) this.push(out, this.header(SEQUENCE_DELIMITATION, null, 0));
      return next;
    }
    if (length === UNDEFINED_LENGTH) this.fail(`element ${formatTag(tag)} has an undefined length (encapsulated data is not uncompressed)`, pos);
    const valueEnd = valueStart + length;
    if (valueEnd > this.src.length) this.fail(`element ${formatTag(tag)} runs past the end of the dataset`, pos);
    const value = this.src.subarray(valueStart, valueEnd);
    if (depth === 0 && tag === BITS_ALLOCATED && length === 2) this.bitsAllocated = this.u16(valueStart, from.littleEndian);
    if (depth === 0 && tag === PIXEL_REPRESENTATION && length === 2) this.signedPixels = this.u16(valueStart, from.littleEndian) === 1;

    let outVr = vr;
    // A short-header VR cannot carry a value of 64 KiB or more in explicit VR: such values go as UN.
    if (this.to.explicitVr && !hasLongExplicitHeader(outVr) && length > 0xffff) outVr = 'UN';
    const unit = swapUnit(vr);
    const valueOut = from.littleEndian !== this.to.littleEndian && unit > 1 ? swapped(value, unit) : Buffer.from(value);
    this.push(out, this.header(tag, outVr, length), valueOut);
    return valueEnd;
  }

  private convertSequence(start: number, length: number, from: Encoding, depth: number): { converted: Converted; next: number } {
    const converted: Converted = { chunks: [], length: 0 };
    const end = length === UNDEFINED_LENGTH ? this.src.length : start + length;
    if (end > this.src.length) this.fail('a sequence runs past the end of the dataset', start);
    let pos = start;
    while (pos < end) {
      const tag = (this.u16(pos, from.littleEndian) * 0x10000 + this.u16(pos + 2, from.littleEndian)) >>> 0;
      const itemLength = this.u32(pos + 4, from.littleEndian);
      if (tag === SEQUENCE_DELIMITATION) {
        if (length !== UNDEFINED_LENGTH) this.fail('sequence delimiter inside a defined-length sequence', pos);
        return { converted, next: pos + 8 };
      }
      if (tag !== ITEM) this.fail(`expected an item in a sequence, found ${formatTag(tag)}`, pos);
      const itemStart = pos + 8;
      if (itemLength === UNDEFINED_LENGTH) {
        const inner = this.convertRange(itemStart, this.src.length, from, depth);
        const delimiter = (this.u16(inner.next, from.littleEndian) * 0x10000 + this.u16(inner.next + 2, from.littleEndian)) >>> 0;
        if (delimiter !== ITEM_DELIMITATION) this.fail('an undefined-length item has no item delimiter', inner.next);
        this.push(converted, this.header(ITEM, null, UNDEFINED_LENGTH), ...inner.chunks, this.header(ITEM_DELIMITATION, null, 0));
        pos = inner.next + 8;
      } else {
        const itemEnd = itemStart + itemLength;
        if (itemEnd > end) this.fail('an item runs past the end of its sequence', pos);
        const inner = this.convertRange(itemStart, itemEnd, from, depth);
        if (inner.next !== itemEnd) this.fail('a delimiter inside a defined-length item', inner.next);
        this.push(converted, this.header(ITEM, null, inner.length), ...inner.chunks);
        pos = itemEnd;
      }
    }
    if (length === UNDEFINED_LENGTH) this.fail('an undefined-length sequence has no sequence delimiter', pos);
    return { converted, next: pos };
  }
}
