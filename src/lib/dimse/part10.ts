// Just enough of PS3.10 for sending a file with C-STORE: find the SOP class/instance UIDs, the
// transfer syntax and where the data set starts (after the File Meta group), reading only the
// head of the file. Files without meta information (a bare data set) are accepted too: the UIDs
// are then read from the data set's first elements and the transfer syntax is guessed (implicit
// or explicit VR little endian).

import { open } from 'node:fs/promises';
import { Part10Error } from './errors.ts';
import { TransferSyntax, transferSyntaxEncoding } from './uids.ts';

export interface Part10Info {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Byte offset of the data set (after preamble, "DICM" and group 0002). */
  dataSetOffset: number;
  /** Length of the data set in bytes. */
  dataSetLength: number;
  hasFileMeta: boolean;
}

const HEAD_BYTES = 64 * 1024;
const MAX_META_BYTES = 1024 * 1024;
const EXPLICIT_LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function text(buf: Buffer, start: number, length: number): string {
  return buf.toString('latin1', start, start + length).replace(/[\0 ]+$/, '');
}

interface ElementVisit {
  /** Offset of the element's tag. */
  start: number;
  tag: number;
  valueOffset: number;
  length: number;
}

/** Walks explicit or implicit VR LE elements from `offset`, calling `visit` until it returns false. */
function walk(buf: Buffer, offset: number, explicitVr: boolean, visit: (e: ElementVisit) => boolean): number {
  while (offset + 8 <= buf.length) {
    const tag = ((buf.readUInt16LE(offset) << 16) | buf.readUInt16LE(offset + 2)) >>> 0;
    let length: number;
    let valueOffset: number;
    if (explicitVr) {
      const vr = buf.toString('latin1', offset + 4, offset + 6);
      if (EXPLICIT_LONG_VRS.has(vr)) {
        if (offset + 12 > buf.length) break;
        length = buf.readUInt32LE(offset + 8);
        valueOffset = offset + 12;
      } else {
        length = buf.readUInt16LE(offset + 6);
        valueOffset = offset + 8;
      }
    } else {
      length = buf.readUInt32LE(offset + 4);
      valueOffset = offset + 8;
    }
    if (!visit({ start: offset, tag, valueOffset, length })) return offset;
    if (length === 0xffffffff) throw new Part10Error('undefined-length element before the SOP Instance UID; cannot locate UIDs');
    offset = valueOffset + length;
  }
  return offset;
}

function looksExplicit(buf: Buffer, offset: number): boolean {
  const a = buf[offset + 4] ?? 0;
  const b = buf[offset + 5] ?? 0;
  return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a;
}

/** SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) from the first elements of a data set. */
function findSopUids(dataSet: Buffer, explicitVr: boolean): Record<number, string> {
  const found: Record<number, string> = {};
  try {
    walk(dataSet, 0, explicitVr, (e) => {
      if (e.tag > 0x00080018) return false;
      if (e.tag === 0x00080016 || e.tag === 0x00080018) {
        if (e.valueOffset + e.length > dataSet.length) throw new Part10Error('data set head truncated');
        found[e.tag] = text(dataSet, e.valueOffset, e.length);
      }
      return true;
    });
  } catch (err) {
    if (!(err instanceof Part10Error)) throw err;
  }
  return found;
}

/** Reads the head of a Part 10 file (or bare data set) and returns what C-STORE needs. */
export async function readPart10Info(path: string): Promise<Part10Info> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);

    const hasPreamble = head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM';
    const metaStart = hasPreamble ? 132 : head.length >= 8 && head.readUInt16LE(0) === 0x0002 && looksExplicit(head, 0) ? 0 : -1;

    if (metaStart >= 0) {
      // Group 0002 is always Explicit VR LE. Its group length element says where it ends.
      let metaEnd = -1;
      if (head.readUInt32LE(metaStart) === 0x00000002 && head.toString('latin1', metaStart + 4, metaStart + 6) === 'UL') {
        metaEnd = metaStart + 12 + head.readUInt32LE(metaStart + 8);
      }
      if (metaEnd > head.length && metaEnd <= MAX_META_BYTES && metaEnd <= size) {
        head = Buffer.alloc(metaEnd);
        await handle.read(head, 0, metaEnd, 0);
      }
      const meta: Record<number, string> = {};
      const stop = walk(head, metaStart, true, (e) => {
        if (e.tag >>> 16 !== 0x0002) return false;
        if (metaEnd >= 0 && e.start >= metaEnd) return false;
        if (e.valueOffset + e.length > head.length) throw new Part10Error('file meta information truncated');
        if (e.tag === 0x00020002 || e.tag === 0x00020003 || e.tag === 0x00020010) meta[e.tag] = text(head, e.valueOffset, e.length);
        return true;
      });
      const dataSetOffset = metaEnd >= 0 ? metaEnd : stop;
      const transferSyntaxUid = meta[0x00020010];
      if (!transferSyntaxUid) throw new Part10Error('file meta information lacks the transfer syntax UID');
      // The data set's own UIDs win over the meta copies (C-STORE must name the instance it
      // carries); they cannot be read cheaply from deflated or big endian data, so then the meta's.
      const encoding = transferSyntaxEncoding(transferSyntaxUid);
      let fromDataSet: Record<number, string> = {};
      if (!encoding.deflated && encoding.littleEndian) {
        if (dataSetOffset + HEAD_BYTES > head.length && dataSetOffset < size) {
          head = Buffer.alloc(Math.min(size, dataSetOffset + HEAD_BYTES));
          await handle.read(head, 0, head.length, 0);
        }
        fromDataSet = findSopUids(head.subarray(dataSetOffset), encoding.explicitVr);
      }
      const sopClassUid = fromDataSet[0x00080016] || meta[0x00020002];
      const sopInstanceUid = fromDataSet[0x00080018] || meta[0x00020003];
      if (!sopClassUid || !sopInstanceUid) throw new Part10Error('neither the file meta information nor the data set head has SOP class and instance UIDs');
      return { sopClassUid, sopInstanceUid, transferSyntaxUid, dataSetOffset, dataSetLength: size - dataSetOffset, hasFileMeta: true };
    }

    // A bare data set: find (0008,0016) and (0008,0018) among the first elements.
    if (head.length < 8) throw new Part10Error('file too short to be a DICOM data set');
    const explicitVr = looksExplicit(head, 0);
    const found = findSopUids(head, explicitVr);
    const sopClassUid = found[0x00080016];
    const sopInstanceUid = found[0x00080018];
    if (!sopClassUid || !sopInstanceUid) throw new Part10Error('data set lacks SOP Class UID or SOP Instance UID');
    return {
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: explicitVr ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian,
      dataSetOffset: 0,
      dataSetLength: size,
      hasFileMeta: false,
    };
  } finally {
    await handle.close();
  }
}
