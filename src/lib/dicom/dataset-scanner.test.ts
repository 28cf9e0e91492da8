import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scanDataset } from './dataset-scanner.ts';
import { encodeElement, encodeSequence, EXPLICIT_BIG, EXPLICIT_LITTLE, IMPLICIT_LITTLE } from './element-writer.ts';

const EL = { explicitVr: true, littleEndian: true };
const IL = { explicitVr: false, littleEndian: true };

describe('scanDataset', () => {
  test('records top-level elements only, with value offsets and lengths', () => {
    const a = encodeElement(0x00080016, 'UI', '1.2.3', EXPLICIT_LITTLE);
    const sq = encodeSequence(0x00081140, [encodeElement(0x00081155, 'UI', '1.2', EXPLICIT_LITTLE)], EXPLICIT_LITTLE, true);
    const b = encodeElement(0x00100010, 'PN', 'A^B', EXPLICIT_LITTLE);
    const result = scanDataset(Buffer.concat([a, sq, b]), EL);
    assert.deepEqual(result.stop, { kind: 'end-of-buffer' });
    assert.deepEqual(result.elements.map((e) => [e.tag, e.vr, e.headerOffset, e.valueOffset, e.length, e.undefinedLength]), [
      [0x00080016, 'UI', 0, 8, 6, false],
      [0x00081140, 'SQ', a.length, a.length + 12, sq.length - 12, true],
      [0x00100010, 'PN', a.length + sq.length, a.length + sq.length + 8, 4, false],
    ]);
  });

  test('nested undefined-length items and sequences, defined-length items inside them', () => {
    const inner = encodeSequence(0x0040a730, [encodeElement(0x0040a040, 'CS', 'TEXT', IMPLICIT_LITTLE)], IMPLICIT_LITTLE, true);
    const outer = encodeSequence(0x0040a730, [Buffer.concat([encodeElement(0x0040a040, 'CS', 'CONTAINER', IMPLICIT_LITTLE), inner])], IMPLICIT_LITTLE, true);
    const definedItems = encodeSequence(0x00081115, [encodeElement(0x0020000e, 'UI', '1.2', IMPLICIT_LITTLE)], IMPLICIT_LITTLE, false);
    const bytes = Buffer.concat([definedItems, outer, encodeElement(0x7fe00010, 'OW', Buffer.alloc(8), IMPLICIT_LITTLE)]);
    const result = scanDataset(bytes, IL);
    assert.deepEqual(result.stop, { kind: 'stop-tag' });
    assert.deepEqual(result.elements.map((e) => e.tag), [0x00081115, 0x0040a730, 0x7fe00010]);
  });

  test('undefined-length UN holds implicit VR little endian items (CP-246), also in big endian data', () => {
    const implicitItem = encodeElement(0x00091001, 'LO', 'private', IMPLICIT_LITTLE);
    const item = Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]), implicitItem, Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]), Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
    const header = Buffer.from([0x00, 0x09, 0x10, 0x02, 0x55, 0x4e, 0, 0, 0xff, 0xff, 0xff, 0xff]); // (0009,1002) UN, big endian tag
    const after = encodeElement(0x00100010, 'PN', 'X', EXPLICIT_BIG);
    const result = scanDataset(Buffer.concat([header, item, after]), { explicitVr: true, littleEndian: false });
    assert.deepEqual(result.stop, { kind: 'end-of-buffer' });
    assert.deepEqual(result.elements.map((e) => e.tag), [0x00091002, 0x00100010]);
  });

  test('truncation: the top-level element concerned and the bytes needed when known', () => {
    const a = encodeElement(0x00080016, 'UI', '1.2.3', EXPLICIT_LITTLE);
    const big = encodeElement(0x00091010, 'OB', Buffer.alloc(1000), EXPLICIT_LITTLE);
    const bytes = Buffer.concat([a, big]);
    assert.deepEqual(scanDataset(bytes.subarray(0, 100), EL).stop, { kind: 'truncated', tag: 0x00091010, headerOffset: a.length, bytesNeeded: bytes.length });
    assert.deepEqual(scanDataset(bytes.subarray(0, a.length + 6), EL).stop, { kind: 'truncated', tag: 0x00091010, headerOffset: a.length, bytesNeeded: a.length + 8 });
    assert.deepEqual(scanDataset(bytes.subarray(0, a.length + 2), EL).stop, { kind: 'truncated', tag: null, headerOffset: a.length, bytesNeeded: a.length + 8 });
    const sq = encodeSequence(0x00081140, [encodeElement(0x00081155, 'UI', '1.2', EXPLICIT_LITTLE)], EXPLICIT_LITTLE, true);
    const cut = scanDataset(sq.subarray(0, sq.length - 4), EL).stop;
    assert.deepEqual(cut, { kind: 'truncated', tag: 0x00081140, headerOffset: 0, bytesNeeded: null });
  });

  test('malformed: missing item tag, bad VR, delimiter at top level, excessive nesting', () => {
    const badItem = Buffer.concat([Buffer.from([0x08, 0x00, 0x40, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff]), encodeElement(0x00081155, 'UI', '1.2', EXPLICIT_LITTLE)]);
    assert.equal(scanDataset(badItem, EL).stop.kind, 'malformed');
    assert.deepEqual(scanDataset(Buffer.from([0x08, 0x00, 0x16, 0x00, 0x7a, 0x7a, 2, 0, 0x31, 0]), EL).stop, { kind: 'malformed', tag: 0x00080016, offset: 0, reason: 'invalid VR in (0008,0016)' });
    assert.equal(scanDataset(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]), IL).stop.kind, 'malformed');
    let nested = encodeElement(0x00100010, 'PN', 'X', IMPLICIT_LITTLE);
    for (let i = 0; i < 40; i++) nested = encodeSequence(0x0040a730, [nested], IMPLICIT_LITTLE, true);
    const deep = scanDataset(nested, IL, { maxDepth: 32 }).stop;
    assert.equal(deep.kind, 'malformed');
    assert.match(deep.kind === 'malformed' ? deep.reason : '', /nested deeper than 32/);
    assert.equal(scanDataset(nested, IL, { maxDepth: 64 }).stop.kind, 'end-of-buffer');
  });

  test('stopAtTag and out-of-order reporting', () => {
    const bytes = Buffer.concat([
      encodeElement(0x00100010, 'PN', 'X', EXPLICIT_LITTLE),
      encodeElement(0x00080016, 'UI', '1.2', EXPLICIT_LITTLE),
      encodeElement(0x00200013, 'IS', '1', EXPLICIT_LITTLE),
    ]);
    const result = scanDataset(bytes, EL, { stopAtTag: 0x00200013 });
    assert.deepEqual(result.stop, { kind: 'stop-tag' });
    assert.equal(result.elements.length, 3);
    assert.deepEqual(result.outOfOrderAt, [10]);
  });
});
