// A tiny data set encoder/decoder for DIMSE identifiers (C-FIND/C-MOVE/C-GET keys and C-FIND
// matches), Implicit and Explicit VR Little Endian only.
//
// Why hand-written instead of dcmjs: identifiers are a few dozen short elements; the encoder is
// ~100 lines, has no dependency on a naturalised-dataset model, keeps lib/dimse free of a heavy
// library on its hot path, and lets us control exactly what goes on the wire (empty values for
// universal matching, tag order, padding). Whole-object parsing (pixel data, charsets) is not its job.
//
// Character sets are kept simple on purpose: text is written and read as UTF-8 when Specific
// Character Set (0008,0005) says ISO_IR 192, otherwise as Latin-1. ISO 2022 escapes, GB18030 etc.
// are not interpreted (callers needing them should decode the raw identifier themselves).

import { type Vr, ALL_VRS, lookupTag, parseTag, tagToHex } from './dictionary.ts';
import { DataSetCodecError } from './errors.ts';

export type { Vr } from './dictionary.ts';

export type DataElementValue =
  | string
  | number
  | bigint
  | Buffer
  | readonly string[]
  | readonly number[]
  | readonly DataElementInput[][]
  | null
  | undefined;

export interface DataElementInput {
  /** Numeric tag (0x00100020), hex string ("00100020" / "0010,0020") or dictionary keyword. */
  tag: number | string;
  /** Required for tags not in the small dictionary. */
  vr?: Vr;
  /** Absent, null or '' encodes a zero-length value (universal matching in a query). */
  value?: DataElementValue;
}

export interface DataSetCodecOptions {
  /** Explicit VR Little Endian (default) or Implicit VR Little Endian. */
  explicitVr?: boolean;
}

/** A decoded value: text as string, binary numbers as number(s), sequences as records. */
export type DataSetValue = string | number | number[] | bigint | bigint[] | Buffer | DataSetRecord[] | null;

/** Decoded data set keyed by dictionary keyword, or by 8-hex-digit tag when unknown. */
export interface DataSetRecord {
  [keywordOrTag: string]: DataSetValue;
}

const TEXT_VRS: ReadonlySet<string> = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2). */
const LONG_LENGTH_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const NUMERIC_SIZES: Readonly<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, SV: 8, UV: 8 };
const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const MAX_DEPTH = 16;

// ---------------------------------------------------------------------------------------------
// Encoding

function resolveElement(input: DataElementInput): { tag: number; vr: Vr } {
  const tag = parseTag(input.tag);
  if (tag === undefined) throw new DataSetCodecError(`unknown attribute ${String(input.tag)}`);
  const vr = input.vr ?? lookupTag(tag)?.vr;
  if (vr === undefined) throw new DataSetCodecError(`attribute ${tagToHex(tag)} needs an explicit VR`);
  if (!ALL_VRS.has(vr)) throw new DataSetCodecError(`invalid VR ${vr}`);
  return { tag, vr };
}

function encodeText(vr: Vr, value: DataElementValue, utf8: boolean): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  const text = Array.isArray(value) ? value.map(String).join('\\') : String(value);
  const bytes = Buffer.from(text, utf8 ? 'utf8' : 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0x00 : 0x20])]);
}

function encodeNumbers(vr: Vr, value: DataElementValue): Buffer {
  if (value === null || value === undefined || value === '') return Buffer.alloc(0);
  const list = (Array.isArray(value) ? value : [value]) as ReadonlyArray<number | bigint | string>;
  const size = NUMERIC_SIZES[vr]!;
  const out = Buffer.alloc(list.length * size);
  list.forEach((raw, i) => {
    const at = i * size;
    switch (vr) {
      case 'US': out.writeUInt16LE(Number(raw), at); break;
      case 'SS': out.writeInt16LE(Number(raw), at); break;
      case 'UL': out.writeUInt32LE(Number(raw), at); break;
      case 'SL': out.writeInt32LE(Number(raw), at); break;
      case 'FL': out.writeFloatLE(Number(raw), at); break;
      case 'FD': out.writeDoubleLE(Number(raw), at); break;
      case 'SV': out.writeBigInt64LE(BigInt(raw), at); break;
      case 'UV': out.writeBigUInt64LE(BigInt(raw), at); break;
      case 'AT': {
        const tag = Number(raw) >>> 0;
        out.writeUInt16LE(tag >>> 16, at);
        out.writeUInt16LE(tag & 0xffff, at + 2);
        break;
      }
    }
  });
  return out;
}

function encodeElementHeader(tag: number, vr: Vr, length: number, explicitVr: boolean): Buffer {
  if (!explicitVr) {
    const h = Buffer.allocUnsafe(8);
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    h.writeUInt32LE(length, 4);
    return h;
  }
  if (LONG_LENGTH_VRS.has(vr)) {
    const h = Buffer.allocUnsafe(12);
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    h.write(vr, 4, 'latin1');
    h.writeUInt16LE(0, 6);
    h.writeUInt32LE(length, 8);
    return h;
  }
  if (length > 0xffff) throw new DataSetCodecError(`value of ${tagToHex(tag)} (${vr}) exceeds 65535 bytes`);
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16LE(tag >>> 16, 0);
  h.writeUInt16LE(tag & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(length, 6);
  return h;
}

function encodeElements(elements: readonly DataElementInput[], explicitVr: boolean, utf8: boolean, depth: number): Buffer {
  if (depth > MAX_DEPTH) throw new DataSetCodecError('sequences nested too deeply');
  const resolved = elements.map((e) => ({ ...resolveElement(e), value: e.value }));
  resolved.sort((a, b) => a.tag - b.tag);
  const parts: Buffer[] = [];
  for (let i = 0; i < resolved.length; i++) {
    const { tag, vr, value } = resolved[i]!;
    if (i > 0 && resolved[i - 1]!.tag === tag) throw new DataSetCodecError(`attribute ${tagToHex(tag)} given twice`);
    let body: Buffer;
    if (vr === 'SQ') {
      const items = (value ?? []) as readonly DataElementInput[][];
      if (!Array.isArray(items)) throw new DataSetCodecError(`value of sequence ${tagToHex(tag)} must be an array of items`);
      body = Buffer.concat(
        items.map((itemElements) => {
          const itemBody = encodeElements(itemElements, explicitVr, utf8, depth + 1);
          const h = Buffer.allocUnsafe(8);
          h.writeUInt16LE(0xfffe, 0);
          h.writeUInt16LE(0xe000, 2);
          h.writeUInt32LE(itemBody.length, 4);
          return Buffer.concat([h, itemBody]);
        }),
      );
    } else if (TEXT_VRS.has(vr)) {
      body = encodeText(vr, value, utf8);
    } else if (vr in NUMERIC_SIZES) {
      body = encodeNumbers(vr, value);
    } else {
      if (value !== null && value !== undefined && !Buffer.isBuffer(value)) throw new DataSetCodecError(`value of ${tagToHex(tag)} (${vr}) must be a Buffer`);
      body = value ?? Buffer.alloc(0);
      if (body.length % 2 !== 0) body = Buffer.concat([body, Buffer.alloc(1)]);
    }
    parts.push(encodeElementHeader(tag, vr, body.length, explicitVr), body);
  }
  return Buffer.concat(parts);
}

function usesUtf8(elements: readonly DataElementInput[]): boolean {
  const charset = elements.find((e) => parseTag(e.tag) === 0x00080005)?.value;
  const text = Array.isArray(charset) ? charset.join('\\') : String(charset ?? '');
  return text.includes('ISO_IR 192');
}

/** Encodes elements (any order; sorted here) as a Little Endian data set. */
export function encodeDataSet(elements: readonly DataElementInput[], options: DataSetCodecOptions = {}): Buffer {
  return encodeElements(elements, options.explicitVr ?? true, usesUtf8(elements), 0);
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  offset = 0;
  utf8 = false;
  constructor(
    readonly buf: Buffer,
    readonly explicitVr: boolean,
  ) {}
  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new DataSetCodecError('data set truncated');
  }
}

function readTag(r: Reader): number {
  r.need(4);
  const tag = ((r.buf.readUInt16LE(r.offset) << 16) | r.buf.readUInt16LE(r.offset + 2)) >>> 0;
  r.offset += 4;
  return tag;
}

function decodeValue(vr: string, value: Buffer, utf8: boolean): DataSetValue {
  if (TEXT_VRS.has(vr)) {
    const text = value.toString(utf8 && vr !== 'UI' ? 'utf8' : 'latin1');
    return text.replace(/[\0 ]+$/, '');
  }
  const size = NUMERIC_SIZES[vr];
  if (size !== undefined) {
    if (value.length === 0) return null;
    if (value.length % size !== 0) return Buffer.from(value);
    const count = value.length / size;
    if (vr === 'SV' || vr === 'UV') {
      const list: bigint[] = [];
      for (let i = 0; i < count; i++) list.push(vr === 'SV' ? value.readBigInt64LE(i * size) : value.readBigUInt64LE(i * size));
      return count === 1 ? list[0]! : list;
    }
    const list: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * size;
      switch (vr) {
        case 'US': list.push(value.readUInt16LE(at)); break;
        case 'SS': list.push(value.readInt16LE(at)); break;
        case 'UL': list.push(value.readUInt32LE(at)); break;
        case 'SL': list.push(value.readInt32LE(at)); break;
        case 'FL': list.push(value.readFloatLE(at)); break;
        case 'FD': list.push(value.readDoubleLE(at)); break;
        case 'AT': list.push(((value.readUInt16LE(at) << 16) | value.readUInt16LE(at + 2)) >>> 0); break;
      }
    }
    return count === 1 ? list[0]! : list;
  }
  return Buffer.from(value);
}

function decodeItems(r: Reader, length: number, depth: number): DataSetRecord[] {
  const items: DataSetRecord[] = [];
  const end = length === UNDEFINED_LENGTH ? r.buf.length : r.offset + length;
  if (end > r.buf.length) throw new DataSetCodecError('sequence overruns the data set');
  while (r.offset < end) {
    const tag = readTag(r);
    r.need(4);
    const itemLength = r.buf.readUInt32LE(r.offset);
    r.offset += 4;
    if (tag === SEQUENCE_DELIMITER) return items;
    if (tag !== ITEM) throw new DataSetCodecError(`expected an item in a sequence, found ${tagToHex(tag)}`);
    if (itemLength === UNDEFINED_LENGTH) {
      items.push(decodeElements(r, r.buf.length, depth + 1, true));
    } else {
      if (r.offset + itemLength > end) throw new DataSetCodecError('item overruns its sequence');
      items.push(decodeElements(r, r.offset + itemLength, depth + 1, false));
    }
  }
  if (length === UNDEFINED_LENGTH) throw new DataSetCodecError('sequence without delimiter');
  return items;
}

/** Skips encapsulated (undefined-length) pixel data fragments up to the sequence delimiter. */
function skipFragments(r: Reader): Buffer {
  const start = r.offset;
  for (;;) {
    const tag = readTag(r);
    r.need(4);
    const length = r.buf.readUInt32LE(r.offset);
    r.offset += 4;
    if (tag === SEQUENCE_DELIMITER) return Buffer.from(r.buf.subarray(start, r.offset - 8));
    if (tag !== ITEM || length === UNDEFINED_LENGTH) throw new DataSetCodecError('malformed encapsulated value');
    r.need(length);
    r.offset += length;
  }
}

function decodeElements(r: Reader, end: number, depth: number, untilItemDelimiter: boolean): DataSetRecord {
  if (depth > MAX_DEPTH) throw new DataSetCodecError('sequences nested too deeply');
  const out: DataSetRecord = {};
  const outerUtf8 = r.utf8;
  while (r.offset < end) {
    const tag = readTag(r);
    if (tag === ITEM_DELIMITER) {
      r.need(4);
      r.offset += 4;
      if (untilItemDelimiter) {
        r.utf8 = outerUtf8;
        return out;
      }
      throw new DataSetCodecError('item delimiter outside an item');
    }
    const entry = lookupTag(tag);
    let vr: string;
    let length: number;
    if (r.explicitVr) {
      r.need(4);
      vr = r.buf.toString('latin1', r.offset, r.offset + 2);
      if (!ALL_VRS.has(vr)) throw new DataSetCodecError(`invalid VR at ${tagToHex(tag)}`);
      if (LONG_LENGTH_VRS.has(vr)) {
        r.need(8);
        length = r.buf.readUInt32LE(r.offset + 4);
        r.offset += 8;
      } else {
        length = r.buf.readUInt16LE(r.offset + 2);
        r.offset += 4;
      }
    } else {
      r.need(4);
      length = r.buf.readUInt32LE(r.offset);
      r.offset += 4;
      vr = entry?.vr ?? (length === UNDEFINED_LENGTH ? 'SQ' : 'UN');
    }
    const key = entry?.keyword ?? tagToHex(tag);
    if (vr === 'SQ' || (vr === 'UN' && length === UNDEFINED_LENGTH && !r.explicitVr)) {
      out[key] = decodeItems(r, length, depth);
      continue;
    }
    if (length === UNDEFINED_LENGTH) {
      if (vr === 'UN' && r.explicitVr) {
        // UN of undefined length holds an Implicit VR LE sequence (PS3.5 6.2.2).
        const inner = new Reader(r.buf, false);
        inner.offset = r.offset;
        inner.utf8 = r.utf8;
        out[key] = decodeItems(inner, UNDEFINED_LENGTH, depth);
        r.offset = inner.offset;
      } else {
        out[key] = skipFragments(r);
      }
      continue;
    }
    r.need(length);
    const value = r.buf.subarray(r.offset, r.offset + length);
    r.offset += length;
    const decoded = decodeValue(vr, value, r.utf8);
    if (tag === 0x00080005 && typeof decoded === 'string') r.utf8 = decoded.includes('ISO_IR 192');
    out[key] = decoded;
  }
  if (untilItemDelimiter) throw new DataSetCodecError('item without delimiter');
  r.utf8 = outerUtf8;
  return out;
}

/** Decodes a Little Endian data set into a plain object. */
export function decodeDataSet(buf: Buffer, options: DataSetCodecOptions = {}): DataSetRecord {
  const reader = new Reader(buf, options.explicitVr ?? true);
  return decodeElements(reader, buf.length, 0, false);
}
