// Minimal binary encoder for data elements (PS3.5 Section 7). Enough for the File Meta group and for
// synthesising datasets in tests; full dataset building belongs to dcmjs.
import { DicomValueError } from './errors.ts';
import { formatTag } from './tags.ts';
import { hasLongExplicitHeader, paddingByteFor, type ValueRepresentation } from './vr.ts';

export interface ElementEncoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

export const EXPLICIT_LITTLE: ElementEncoding = { explicitVr: true, littleEndian: true };
export const IMPLICIT_LITTLE: ElementEncoding = { explicitVr: false, littleEndian: true };
export const EXPLICIT_BIG: ElementEncoding = { explicitVr: true, littleEndian: false };

const UNDEFINED_LENGTH = 0xffffffff;

function writeTag(out: Buffer, at: number, tag: number, littleEndian: boolean): void {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (littleEndian) {
    out.writeUInt16LE(group, at);
    out.writeUInt16LE(element, at + 2);
  } else {
    out.writeUInt16BE(group, at);
    out.writeUInt16BE(element, at + 2);
  }
}

function header(tag: number, vr: ValueRepresentation, length: number, enc: ElementEncoding): Buffer {
  if (!enc.explicitVr) {
    const h = Buffer.alloc(8);
    writeTag(h, 0, tag, enc.littleEndian);
    if (enc.littleEndian) h.writeUInt32LE(length, 4);
    else h.writeUInt32BE(length, 4);
    return h;
  }
  if (hasLongExplicitHeader(vr)) {
    const h = Buffer.alloc(12);
    writeTag(h, 0, tag, enc.littleEndian);
    h.write(vr, 4, 'latin1');
    if (enc.littleEndian) h.writeUInt32LE(length, 8);
    else h.writeUInt32BE(length, 8);
    return h;
  }
  if (length > 0xffff) throw new DicomValueError(`(${formatTag(tag)})`, `value of ${length} bytes is too long for VR ${vr}`);
  const h = Buffer.alloc(8);
  writeTag(h, 0, tag, enc.littleEndian);
  h.write(vr, 4, 'latin1');
  if (enc.littleEndian) h.writeUInt16LE(length, 6);
  else h.writeUInt16BE(length, 6);
  return h;
}

/**
 * One element. String values are written byte-per-char (latin1): encode other character sets to bytes
 * first. Odd lengths get the VR's padding byte (PS3.5 6.2).
 */
export function encodeElement(tag: number, vr: ValueRepresentation, value: string | Uint8Array, enc: ElementEncoding): Buffer {
  let bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes.length % 2 === 1) bytes = Buffer.concat([bytes, Buffer.of(paddingByteFor(vr))]);
  return Buffer.concat([header(tag, vr, bytes.length, enc), bytes]);
}

export function encodeUint16Element(tag: number, values: readonly number[], enc: ElementEncoding): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => (enc.littleEndian ? b.writeUInt16LE(v, i * 2) : b.writeUInt16BE(v, i * 2)));
  return encodeElement(tag, 'US', b, enc);
}

export function encodeUint32Element(tag: number, values: readonly number[], enc: ElementEncoding): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => (enc.littleEndian ? b.writeUInt32LE(v, i * 4) : b.writeUInt32BE(v, i * 4)));
  return encodeElement(tag, 'UL', b, enc);
}

function itemTag(tag: number, length: number, littleEndian: boolean): Buffer {
  const h = Buffer.alloc(8);
  writeTag(h, 0, tag, littleEndian);
  if (littleEndian) h.writeUInt32LE(length, 4);
  else h.writeUInt32BE(length, 4);
  return h;
}

/** A sequence of already-encoded item datasets, with defined or undefined lengths throughout. */
export function encodeSequence(tag: number, items: readonly Uint8Array[], enc: ElementEncoding, undefinedLength = false): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    parts.push(itemTag(0xfffee000, undefinedLength ? UNDEFINED_LENGTH : item.length, enc.littleEndian), Buffer.from(item));
    if (undefinedLength) parts.push(itemTag(0xfffee00d, 0, enc.littleEndian));
  }
  if (undefinedLength) parts.push(itemTag(0xfffee0dd, 0, enc.littleEndian));
  const body = Buffer.concat(parts);
  return Buffer.concat([header(tag, 'SQ', undefinedLength ? UNDEFINED_LENGTH : body.length, enc), body]);
}
