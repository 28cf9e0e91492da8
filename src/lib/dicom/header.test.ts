import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync, deflateSync } from 'node:zlib';
import {
  encodeElement,
  encodeSequence,
  encodeUint16Element,
  EXPLICIT_BIG,
  EXPLICIT_LITTLE,
  IMPLICIT_LITTLE,
  type ElementEncoding,
} from './element-writer.ts';
import { DicomParseError } from './errors.ts';
import { extractIndexAttributes, type CompleteHeader, type HeaderExtraction, type IndexAttributes } from './header.ts';
import { buildFileMetaInformation } from './part10.ts';

const TS = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  big: '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
  j2k: '1.2.840.10008.1.2.4.90',
};

const EXPECTED: IndexAttributes = {
  patient: { name: 'Doe^Jane', nameRaw: 'Doe^Jane', id: 'MRN-001', issuerOfPatientId: 'HOSP', birthDate: '19700102', sex: 'F' },
  study: {
    instanceUid: '1.2.3.1',
    date: '20240131',
    time: '101500.123',
    accessionNumber: 'ACC42',
    description: 'CT CHEST',
    referringPhysicianName: 'Who^Doctor',
    studyId: 'S1',
  },
  series: { instanceUid: '1.2.3.1.2', number: 3, modality: 'CT', description: 'AXIAL 1mm', bodyPartExamined: 'CHEST' },
  instance: {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    sopInstanceUid: '1.2.3.1.2.3',
    instanceNumber: 17,
    numberOfFrames: 1,
    rows: 512,
    columns: 500,
    specificCharacterSet: ['ISO_IR 100'],
  },
};

interface BuildOptions {
  readonly privateBefore?: Buffer;
  readonly privateAfter?: Buffer;
  readonly pixelData?: boolean;
  readonly without?: readonly number[];
}

/** A CT-like dataset holding every indexed attribute, with hooks for the awkward cases. */
function dataset(enc: ElementEncoding, options: BuildOptions = {}): Buffer {
  const parts: Array<[number, Buffer]> = [
    [0x00080005, encodeElement(0x00080005, 'CS', 'ISO_IR 100', enc)],
    [0x00080008, encodeElement(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL', enc)],
    [0x00080016, encodeElement(0x00080016, 'UI', EXPECTED.instance.sopClassUid!, enc)],
    [0x00080018, encodeElement(0x00080018, 'UI', EXPECTED.instance.sopInstanceUid!, enc)],
    [0x00080020, encodeElement(0x00080020, 'DA', '20240131', enc)],
    [0x00080030, encodeElement(0x00080030, 'TM', '101500.123', enc)],
    [0x00080050, encodeElement(0x00080050, 'SH', 'ACC42', enc)],
    [0x00080060, encodeElement(0x00080060, 'CS', 'CT', enc)],
    [0x00080090, encodeElement(0x00080090, 'PN', 'Who^Doctor', enc)],
    [0x00081030, encodeElement(0x00081030, 'LO', 'CT CHEST', enc)],
    [0x0008103e, encodeElement(0x0008103e, 'LO', 'AXIAL 1mm', enc)],
    [0x00081140, encodeSequence(0x00081140, [Buffer.concat([encodeElement(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2', enc), encodeElement(0x00081155, 'UI', '1.9.9', enc)])], enc, true)],
    [0x00091010, options.privateBefore ?? Buffer.alloc(0)],
    [0x00100010, encodeElement(0x00100010, 'PN', 'Doe^Jane', enc)],
    [0x00100020, encodeElement(0x00100020, 'LO', 'MRN-001', enc)],
    [0x00100021, encodeElement(0x00100021, 'LO', 'HOSP', enc)],
    [0x00100030, encodeElement(0x00100030, 'DA', '19700102', enc)],
    [0x00100040, encodeElement(0x00100040, 'CS', 'F', enc)],
    [0x00180015, encodeElement(0x00180015, 'CS', 'CHEST', enc)],
    [0x0020000d, encodeElement(0x0020000d, 'UI', '1.2.3.1', enc)],
    [0x0020000e, encodeElement(0x0020000e, 'UI', '1.2.3.1.2', enc)],
    [0x00200010, encodeElement(0x00200010, 'SH', 'S1', enc)],
    [0x00200011, encodeElement(0x00200011, 'IS', '3', enc)],
    [0x00200013, encodeElement(0x00200013, 'IS', '17', enc)],
    [0x00280008, encodeElement(0x00280008, 'IS', '1', enc)],
    [0x00280010, encodeUint16Element(0x00280010, [512], enc)],
    [0x00280011, encodeUint16Element(0x00280011, [500], enc)],
    [0x00280100, encodeUint16Element(0x00280100, [16], enc)],
    [0x00291010, options.privateAfter ?? Buffer.alloc(0)],
  ];
  if (options.pixelData !== false) parts.push([0x7fe00010, encodeElement(0x7fe00010, 'OW', Buffer.alloc(2048, 0x11), enc)]);
  return Buffer.concat(parts.filter(([tag]) => !(options.without ?? []).includes(tag)).map(([, b]) => b));
}

function complete(result: HeaderExtraction): CompleteHeader {
  if (!result.complete) assert.fail(`expected a complete header: ${result.reason}`);
  return result;
}

function codes(result: CompleteHeader): string[] {
  return result.problems.map((p) => `${p.severity}:${p.code}${p.tag === undefined ? '' : `:${p.tag}`}`);
}

describe('extractIndexAttributes: encodings', () => {
  for (const [name, enc, ts] of [
    ['Implicit VR Little Endian', IMPLICIT_LITTLE, TS.implicit],
    ['Explicit VR Little Endian', EXPLICIT_LITTLE, TS.explicit],
    ['Explicit VR Big Endian', EXPLICIT_BIG, TS.big],
    ['JPEG 2000 (explicit little endian dataset)', EXPLICIT_LITTLE, TS.j2k],
  ] as const) {
    test(name, () => {
      const bytes = dataset(enc);
      const result = complete(extractIndexAttributes(bytes, ts));
      assert.deepEqual(result.attributes, EXPECTED);
      assert.deepEqual(result.problems, []);
      assert.equal(result.pixelDataOffset, bytes.length - 2048 - (enc.explicitVr ? 12 : 8));
    });
  }

  test('Deflated Explicit VR Little Endian, whole and partial streams, raw and zlib-wrapped', () => {
    const plain = Buffer.concat([dataset(EXPLICIT_LITTLE, { pixelData: false }), encodeElement(0x7fe00010, 'OW', randomBytes(400_000), EXPLICIT_LITTLE)]);
    const deflated = deflateRawSync(plain);
    assert.deepEqual(complete(extractIndexAttributes(deflated, TS.deflated, { wholeDataset: true })).attributes, EXPECTED);
    assert.deepEqual(complete(extractIndexAttributes(deflated.subarray(0, 2000), TS.deflated)).attributes, EXPECTED);
    assert.deepEqual(complete(extractIndexAttributes(deflateSync(plain).subarray(0, 3000), TS.deflated)).attributes, EXPECTED);
    const tooShort = extractIndexAttributes(deflated.subarray(0, 100), TS.deflated);
    assert.equal(tooShort.complete, false);
    assert.equal(tooShort.complete === false && tooShort.bytesNeeded, null);
  });

  test('inflating is bounded: highly compressible pixel data does not blow memory', () => {
    const plain = Buffer.concat([dataset(EXPLICIT_LITTLE, { pixelData: false }), encodeElement(0x7fe00010, 'OW', Buffer.alloc(20_000_000), EXPLICIT_LITTLE)]);
    const deflated = deflateRawSync(plain);
    const result = extractIndexAttributes(deflated, TS.deflated, { wholeDataset: true, maxInflatedBytes: 1_000_000 });
    assert.deepEqual(complete(result).attributes, EXPECTED);
  });
});

describe('extractIndexAttributes: short buffers', () => {
  test('a large private element before the Patient module: incomplete, with the exact bytes needed', () => {
    const big = encodeElement(0x00091010, 'OB', Buffer.alloc(100_000, 7), EXPLICIT_LITTLE);
    const bytes = dataset(EXPLICIT_LITTLE, { privateBefore: big });
    const first = extractIndexAttributes(bytes.subarray(0, 4096), TS.explicit);
    assert.equal(first.complete, false);
    const needed = first.complete ? 0 : first.bytesNeeded!;
    assert.equal(needed, bytes.indexOf(big) + big.length);
    assert.match(first.complete ? '' : first.reason, /inside \(0009,1010\)/);
    // bytesNeeded is a minimum: the elements after it are needed too, so callers add a margin.
    assert.equal(extractIndexAttributes(bytes.subarray(0, needed), TS.explicit).complete, false);
    assert.deepEqual(complete(extractIndexAttributes(bytes.subarray(0, needed + 4096), TS.explicit)).attributes, EXPECTED);
  });

  test('a large element after Columns (0028,0011) needs no retry (Siemens CSA case)', () => {
    const csa = encodeElement(0x00291010, 'OB', Buffer.alloc(100_000, 7), EXPLICIT_LITTLE);
    const bytes = dataset(EXPLICIT_LITTLE, { privateAfter: csa });
    const result = complete(extractIndexAttributes(bytes.subarray(0, 4096), TS.explicit));
    assert.deepEqual(result.attributes, EXPECTED);
    assert.equal(result.pixelDataOffset, null);
    assert.deepEqual(result.problems, []);
  });

  test('truncation inside an undefined-length sequence before the indexed attributes', () => {
    const items = Array.from({ length: 200 }, (_, i) => encodeElement(0x00081155, 'UI', `1.2.3.${i}`, IMPLICIT_LITTLE));
    const sq = encodeSequence(0x00091010, items, IMPLICIT_LITTLE, true);
    const bytes = dataset(IMPLICIT_LITTLE, { privateBefore: sq });
    const result = extractIndexAttributes(bytes.subarray(0, 1500), TS.implicit);
    assert.equal(result.complete, false);
    assert.deepEqual(complete(extractIndexAttributes(bytes, TS.implicit)).attributes, EXPECTED);
  });

  test('no Pixel Data: the caller says whether the buffer is the whole dataset', () => {
    const bytes = dataset(EXPLICIT_LITTLE, { pixelData: false, without: [0x00280008, 0x00280010, 0x00280011, 0x00280100] });
    const partial = extractIndexAttributes(bytes, TS.explicit);
    assert.equal(partial.complete, false);
    const whole = complete(extractIndexAttributes(bytes, TS.explicit, { wholeDataset: true }));
    assert.equal(whole.attributes.instance.rows, null);
    assert.equal(whole.pixelDataOffset, null);
    // Ending right after Columns is enough without the hint.
    const upToColumns = dataset(EXPLICIT_LITTLE, { pixelData: false, without: [0x00280100] });
    assert.equal(extractIndexAttributes(upToColumns, TS.explicit).complete, true);
  });

  test('a whole dataset that ends inside an element is malformed', () => {
    const bytes = dataset(EXPLICIT_LITTLE);
    assert.throws(
      () => extractIndexAttributes(bytes.subarray(0, 300), TS.explicit, { wholeDataset: true }),
      (e: unknown) => e instanceof DicomParseError && e.code === 'malformed',
    );
  });

  test('a very short head is "read more", not "not DICOM"', () => {
    const bytes = dataset(EXPLICIT_LITTLE);
    const result = extractIndexAttributes(bytes.subarray(0, 12), TS.explicit);
    assert.equal(result.complete, false);
    assert.throws(() => extractIndexAttributes(bytes.subarray(0, 12), TS.explicit, { wholeDataset: true }), DicomParseError);
  });

  test('fewer than 8 bytes', () => {
    assert.deepEqual(extractIndexAttributes(new Uint8Array(4), TS.explicit), { complete: false, bytesNeeded: 8, reason: 'only 4 dataset bytes' });
    assert.throws(() => extractIndexAttributes(new Uint8Array(0), TS.explicit, { wholeDataset: true }), DicomParseError);
  });
});

describe('extractIndexAttributes: problems and odd data', () => {
  test('missing and empty UIDs are errors; missing Patient ID and Modality are warnings', () => {
    const bytes = Buffer.concat([
      encodeElement(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7', EXPLICIT_LITTLE),
      encodeElement(0x00080018, 'UI', '', EXPLICIT_LITTLE),
      encodeUint16Element(0x00280010, [8], EXPLICIT_LITTLE),
      encodeUint16Element(0x00280011, [8], EXPLICIT_LITTLE),
      encodeElement(0x7fe00010, 'OB', Buffer.alloc(64), EXPLICIT_LITTLE),
    ]);
    const result = complete(extractIndexAttributes(bytes, TS.explicit));
    assert.deepEqual(codes(result).sort(), [
      'error:empty-attribute:0008,0018',
      'error:missing-attribute:0020,000D',
      'error:missing-attribute:0020,000E',
      'warning:missing-attribute:0008,0060',
      'warning:missing-attribute:0010,0020',
    ]);
    assert.equal(result.attributes.patient.name, null);
    assert.equal(result.attributes.patient.nameRaw, null);
    assert.equal(result.attributes.instance.specificCharacterSet, null);
  });

  test('character set applies to PN, LO and SH; nameRaw converts back to the exact bytes', () => {
    const enc = EXPLICIT_LITTLE;
    const nameBytes = Buffer.from('Wang^XiaoDong=王^小東=', 'utf8');
    const bytes = Buffer.concat([
      encodeElement(0x00080005, 'CS', 'ISO_IR 192', enc),
      encodeElement(0x00080050, 'SH', Buffer.from('Å1', 'utf8'), enc),
      encodeElement(0x00081030, 'LO', Buffer.from('Thorax – Übersicht', 'utf8'), enc),
      encodeElement(0x00100010, 'PN', nameBytes, enc),
      encodeElement(0x00100020, 'LO', Buffer.from('Ω-7', 'utf8'), enc),
      encodeElement(0x7fe00010, 'OB', Buffer.alloc(2), enc),
    ]);
    const { attributes } = complete(extractIndexAttributes(bytes, TS.explicit));
    assert.equal(attributes.patient.name, 'Wang^XiaoDong=王^小東=');
    assert.deepEqual(Buffer.from(attributes.patient.nameRaw!, 'latin1'), nameBytes);
    assert.equal(attributes.patient.id, 'Ω-7');
    assert.equal(attributes.study.accessionNumber, 'Å1');
    assert.equal(attributes.study.description, 'Thorax – Übersicht');
    assert.deepEqual(attributes.instance.specificCharacterSet, ['ISO_IR 192']);
  });

  test('unknown character set: decoded as ISO 8859-1 and reported', () => {
    const bytes = Buffer.concat([
      encodeElement(0x00080005, 'CS', 'ISO_IR 999', EXPLICIT_LITTLE),
      encodeElement(0x00100010, 'PN', Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), EXPLICIT_LITTLE),
      encodeElement(0x7fe00010, 'OB', Buffer.alloc(2), EXPLICIT_LITTLE),
    ]);
    const result = complete(extractIndexAttributes(bytes, TS.explicit));
    assert.equal(result.attributes.patient.name, 'Müller');
    assert.ok(codes(result).includes('warning:unknown-character-set:0008,0005'));
  });

  test('ACR-NEMA dates and times are normalised with a warning; bad IS is reported', () => {
    const bytes = Buffer.concat([
      encodeElement(0x00080020, 'DA', '1995.07.20', IMPLICIT_LITTLE),
      encodeElement(0x00080030, 'TM', '11:22:07', IMPLICIT_LITTLE),
      encodeElement(0x00100030, 'DA', 'UNKNOWN', IMPLICIT_LITTLE),
      encodeElement(0x00200011, 'IS', 'x1', IMPLICIT_LITTLE),
      encodeElement(0x00200013, 'IS', ' 7 \\8', IMPLICIT_LITTLE),
      encodeElement(0x7fe00010, 'OW', Buffer.alloc(2), IMPLICIT_LITTLE),
    ]);
    const result = complete(extractIndexAttributes(bytes, TS.implicit));
    assert.equal(result.attributes.study.date, '19950720');
    assert.equal(result.attributes.study.time, '112207');
    assert.equal(result.attributes.patient.birthDate, 'UNKNOWN');
    assert.equal(result.attributes.series.number, null);
    assert.equal(result.attributes.instance.instanceNumber, 7);
    const c = codes(result);
    for (const expected of ['warning:non-standard-format:0008,0020', 'warning:non-standard-format:0008,0030', 'warning:invalid-value:0010,0030', 'warning:invalid-value:0020,0011']) {
      assert.ok(c.includes(expected), expected);
    }
  });

  test('invalid UID syntax is a warning, the value is kept', () => {
    const bytes = dataset(EXPLICIT_LITTLE).toString('latin1').replace('1.2.3.1.2.3\0', '1.2.3.01.2.3');
    const result = complete(extractIndexAttributes(Buffer.from(bytes, 'latin1'), TS.explicit));
    assert.equal(result.attributes.instance.sopInstanceUid, '1.2.3.01.2.3');
    assert.ok(codes(result).includes('warning:invalid-uid:0008,0018'));
  });

  test('an unknown transfer syntax is read as Explicit VR Little Endian, with a warning', () => {
    const result = complete(extractIndexAttributes(dataset(EXPLICIT_LITTLE), '1.2.3.4.5.6'));
    assert.deepEqual(result.attributes, EXPECTED);
    assert.deepEqual(codes(result), ['warning:unknown-transfer-syntax']);
  });

  test('OV, SV and UV elements (4-byte lengths) are skipped correctly', () => {
    const ov = encodeElement(0x7fe00001, 'OV', Buffer.alloc(16), EXPLICIT_LITTLE); // Extended Offset Table
    const bytes = dataset(EXPLICIT_LITTLE, { pixelData: false });
    const pixel = encodeElement(0x7fe00010, 'OB', Buffer.alloc(32), EXPLICIT_LITTLE);
    const result = complete(extractIndexAttributes(Buffer.concat([bytes, ov, pixel]), TS.explicit));
    assert.equal(result.pixelDataOffset, bytes.length + ov.length);
  });

  test('broken bytes after the indexed attributes: complete, with a warning', () => {
    const broken = Buffer.concat([dataset(EXPLICIT_LITTLE, { pixelData: false }), Buffer.from([0x31, 0x00, 0x10, 0x00, 0x3f, 0x3f, 2, 0, 0, 0])]);
    const result = complete(extractIndexAttributes(broken, TS.explicit));
    assert.deepEqual(result.attributes, EXPECTED);
    assert.deepEqual(codes(result), ['warning:unreadable-after-index-attributes']);
  });

  test('broken bytes before them: DicomParseError malformed', () => {
    const good = dataset(EXPLICIT_LITTLE);
    const at = good.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e])); // (0010,0010) PN
    const broken = Buffer.from(good);
    broken.write('??', at + 4, 'latin1');
    assert.throws(() => extractIndexAttributes(broken, TS.explicit), (e: unknown) => e instanceof DicomParseError && e.code === 'malformed' && /invalid VR/.test(e.message));
  });

  test('not a dataset at all: DicomParseError not-dicom; a Part 10 file gets a hint', () => {
    assert.throws(() => extractIndexAttributes(Buffer.from('<?xml version="1.0"?><not-dicom/>'.repeat(20)), TS.explicit), (e: unknown) => e instanceof DicomParseError && e.code === 'not-dicom');
    const meta = buildFileMetaInformation({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      mediaStorageSopInstanceUid: '1.2.3',
      transferSyntaxUid: TS.explicit,
      implementationClassUid: '1.2.3.4',
    }, { omitPreamble: true });
    assert.throws(() => extractIndexAttributes(Buffer.concat([meta, dataset(EXPLICIT_LITTLE)]), TS.explicit), /File Meta group: pass the bytes after it/);
    // Explicit data declared implicit.
    assert.throws(() => extractIndexAttributes(dataset(EXPLICIT_LITTLE), TS.implicit), DicomParseError);
  });

  test('out-of-order top-level elements are reported', () => {
    const d = dataset(EXPLICIT_LITTLE, { pixelData: false });
    const swapped = Buffer.concat([d, encodeElement(0x00100010, 'PN', 'Late^Name', EXPLICIT_LITTLE)]);
    const result = complete(extractIndexAttributes(swapped, TS.explicit, { wholeDataset: true }));
    assert.equal(result.attributes.patient.name, 'Doe^Jane'); // the first occurrence wins
    assert.ok(codes(result).includes('warning:out-of-order-element'));
  });
});

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}
