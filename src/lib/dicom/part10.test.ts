import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeElement, encodeSequence, encodeUint16Element, EXPLICIT_BIG, EXPLICIT_LITTLE, IMPLICIT_LITTLE, type ElementEncoding } from './element-writer.ts';
import { DicomParseError, DicomValueError } from './errors.ts';
import { buildFileMetaInformation, detectDatasetEncoding, detectFileLayout, readFileLayout, type FileMetaInput } from './part10.ts';

const META: FileMetaInput = {
  mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  mediaStorageSopInstanceUid: '1.2.3.4.5.6.7',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  implementationClassUid: '1.2.826.0.1.3680043.10.1',
  implementationVersionName: 'IMAGESHARE_01',
  sourceApplicationEntityTitle: 'EDGE1',
};

function smallDataset(enc: ElementEncoding): Buffer {
  return Buffer.concat([
    encodeElement(0x00080005, 'CS', 'ISO_IR 100', enc),
    encodeElement(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2', enc),
    encodeElement(0x00080018, 'UI', '1.2.3.4.5.6.7', enc),
    encodeSequence(0x00081140, [encodeElement(0x00081155, 'UI', '1.2.3', enc)], enc, true),
    encodeElement(0x00100010, 'PN', 'Doe^Jane', enc),
    encodeUint16Element(0x00280010, [512], enc),
  ]);
}

describe('buildFileMetaInformation', () => {
  test('preamble, DICM, group length and padded values', () => {
    const meta = buildFileMetaInformation(META);
    assert.equal(meta.subarray(0, 128).every((b) => b === 0), true);
    assert.equal(meta.toString('latin1', 128, 132), 'DICM');
    // (0002,0000) UL 4 <length of the rest>
    assert.deepEqual([...meta.subarray(132, 140)], [0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]);
    assert.equal(meta.readUInt32LE(140), meta.length - 144);
    // (0002,0001) OB 00\01 with the 12-byte header.
    assert.deepEqual([...meta.subarray(144, 158)], [0x02, 0x00, 0x01, 0x00, 0x4f, 0x42, 0, 0, 2, 0, 0, 0, 0x00, 0x01]);
    // Odd-length UIDs are padded with NUL, SH/AE with space.
    assert.ok(meta.includes(Buffer.from('1.2.3.4.5.6.7\0', 'latin1')));
    assert.ok(meta.includes(Buffer.from('IMAGESHARE_01 ', 'latin1')));
    assert.ok(meta.includes(Buffer.from('EDGE1 ', 'latin1')));
  });

  test('round trip through detectFileLayout', () => {
    const dataset = smallDataset(EXPLICIT_LITTLE);
    const file = Buffer.concat([buildFileMetaInformation(META), dataset]);
    const layout = detectFileLayout(file);
    assert.equal(layout.kind, 'part10');
    assert.equal(layout.metaOffset, 132);
    assert.equal(layout.datasetOffset, file.length - dataset.length);
    assert.equal(layout.transferSyntaxUid, META.transferSyntaxUid);
    assert.equal(layout.transferSyntaxSource, 'file-meta');
    assert.deepEqual(layout.problems, []);
    assert.deepEqual([...layout.meta!.version!], [0, 1]);
    assert.equal(layout.meta!.mediaStorageSopClassUid, META.mediaStorageSopClassUid);
    assert.equal(layout.meta!.mediaStorageSopInstanceUid, META.mediaStorageSopInstanceUid);
    assert.equal(layout.meta!.implementationClassUid, META.implementationClassUid);
    assert.equal(layout.meta!.implementationVersionName, 'IMAGESHARE_01');
    assert.equal(layout.meta!.sourceApplicationEntityTitle, 'EDGE1');
    assert.equal(layout.meta!.groupLength, layout.datasetOffset - 144);
  });

  test('optional elements can be left out; a custom preamble is kept', () => {
    const preamble = Buffer.alloc(128, 0x49);
    const meta = buildFileMetaInformation({ ...META, implementationVersionName: undefined, sourceApplicationEntityTitle: undefined }, { preamble });
    assert.equal(meta.subarray(0, 128).every((b) => b === 0x49), true);
    const layout = detectFileLayout(Buffer.concat([meta, smallDataset(EXPLICIT_LITTLE)]));
    assert.equal(layout.meta!.implementationVersionName, null);
    assert.equal(layout.meta!.sourceApplicationEntityTitle, null);
  });

  test('invalid values throw DicomValueError naming the field', () => {
    const bad: Array<[Partial<FileMetaInput>, string]> = [
      [{ mediaStorageSopInstanceUid: '1.2.03' }, 'mediaStorageSopInstanceUid'],
      [{ transferSyntaxUid: '' }, 'transferSyntaxUid'],
      [{ implementationClassUid: 'x' }, 'implementationClassUid'],
      [{ implementationVersionName: 'THIS_IS_TOO_LONG_X' }, 'implementationVersionName'],
      [{ sourceApplicationEntityTitle: 'A\\B' }, 'sourceApplicationEntityTitle'],
      [{ sourceApplicationEntityTitle: '   ' }, 'sourceApplicationEntityTitle'],
    ];
    for (const [override, field] of bad) {
      assert.throws(() => buildFileMetaInformation({ ...META, ...override }), (e: unknown) => e instanceof DicomValueError && e.field === field, field);
    }
    assert.throws(() => buildFileMetaInformation(META, { preamble: new Uint8Array(10) }), DicomValueError);
  });
});

describe('detectFileLayout', () => {
  test('File Meta group without preamble', () => {
    const dataset = smallDataset(IMPLICIT_LITTLE);
    const file = Buffer.concat([buildFileMetaInformation({ ...META, transferSyntaxUid: '1.2.840.10008.1.2' }, { omitPreamble: true }), dataset]);
    const layout = detectFileLayout(file);
    assert.equal(layout.kind, 'meta-without-preamble');
    assert.equal(layout.metaOffset, 0);
    assert.equal(layout.datasetOffset, file.length - dataset.length);
    assert.equal(layout.transferSyntaxUid, '1.2.840.10008.1.2');
  });

  for (const [name, enc, ts] of [
    ['implicit VR little endian', IMPLICIT_LITTLE, '1.2.840.10008.1.2'],
    ['explicit VR little endian', EXPLICIT_LITTLE, '1.2.840.10008.1.2.1'],
    ['explicit VR big endian', EXPLICIT_BIG, '1.2.840.10008.1.2.2'],
  ] as const) {
    test(`raw dataset in ${name}`, () => {
      const layout = detectFileLayout(smallDataset(enc));
      assert.equal(layout.kind, 'raw-dataset');
      assert.equal(layout.metaOffset, null);
      assert.equal(layout.datasetOffset, 0);
      assert.equal(layout.transferSyntaxUid, ts);
      assert.equal(layout.transferSyntaxSource, 'detected');
      assert.equal(layout.meta, null);
    });
  }

  test('a raw dataset starting with a group length element (ACR-NEMA style)', () => {
    const body = smallDataset(IMPLICIT_LITTLE);
    const withGroupLength = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 4, 0, 0, 0, 0x10, 0, 0, 0]), body]);
    assert.equal(detectDatasetEncoding(withGroupLength), 'implicit-little');
  });

  test('meta that contradicts the dataset encoding: the data wins for uncompressed syntaxes', () => {
    const file = Buffer.concat([buildFileMetaInformation(META), smallDataset(IMPLICIT_LITTLE)]);
    const layout = detectFileLayout(file);
    assert.equal(layout.transferSyntaxUid, '1.2.840.10008.1.2');
    assert.equal(layout.transferSyntaxSource, 'detected');
    assert.equal(layout.meta!.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.match(layout.problems.join('\n'), /says 1\.2\.840\.10008\.1\.2\.1 but the dataset reads as implicit-little/);
  });

  test('a wrong (0002,0000) is reported, the real group end is used', () => {
    const meta = buildFileMetaInformation(META);
    meta.writeUInt32LE(meta.readUInt32LE(140) + 10, 140);
    const dataset = smallDataset(EXPLICIT_LITTLE);
    const layout = detectFileLayout(Buffer.concat([meta, dataset]));
    assert.equal(layout.datasetOffset, meta.length);
    assert.match(layout.problems.join('\n'), /\(0002,0000\) says/);
  });

  test('missing transfer syntax: detected from the dataset', () => {
    const groupBody = Buffer.concat([
      encodeElement(0x00020001, 'OB', Uint8Array.of(0, 1), EXPLICIT_LITTLE),
      encodeElement(0x00020002, 'UI', META.mediaStorageSopClassUid, EXPLICIT_LITTLE),
    ]);
    const prefix = Buffer.alloc(132);
    prefix.write('DICM', 128, 'latin1');
    const file = Buffer.concat([prefix, groupBody, smallDataset(EXPLICIT_BIG)]);
    const layout = detectFileLayout(file);
    assert.equal(layout.transferSyntaxUid, '1.2.840.10008.1.2.2');
    assert.equal(layout.transferSyntaxSource, 'detected');
    assert.match(layout.problems.join('\n'), /Transfer Syntax UID is missing/);
  });

  test('truncated meta: DicomParseError truncated with the bytes needed', () => {
    const file = Buffer.concat([buildFileMetaInformation(META), smallDataset(EXPLICIT_LITTLE)]);
    assert.throws(() => detectFileLayout(file.subarray(0, 180)), (e: unknown) => e instanceof DicomParseError && e.code === 'truncated' && (e.bytesNeeded ?? 0) > 180);
    const metaOnly = buildFileMetaInformation(META);
    assert.throws(() => detectFileLayout(metaOnly.subarray(0, 200)), (e: unknown) => e instanceof DicomParseError && e.code === 'truncated');
  });

  test('not DICOM', () => {
    assert.throws(() => detectFileLayout(Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'.repeat(10))), (e: unknown) => e instanceof DicomParseError && e.code === 'not-dicom');
    assert.throws(() => detectFileLayout(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), (e: unknown) => e instanceof DicomParseError && e.code === 'truncated');
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 251;
    assert.throws(() => detectFileLayout(random), DicomParseError);
  });

  test('readFileLayout reads only the head of a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imageshare-part10-'));
    try {
      const file = Buffer.concat([buildFileMetaInformation(META), smallDataset(EXPLICIT_LITTLE), Buffer.alloc(200_000)]);
      const path = join(dir, 'x.dcm');
      writeFileSync(path, file);
      const { layout, head, fileSize } = await readFileLayout(path, 4096);
      assert.equal(head.length, 4096);
      assert.equal(fileSize, file.length);
      assert.equal(layout.kind, 'part10');
      assert.equal(layout.meta!.mediaStorageSopInstanceUid, META.mediaStorageSopInstanceUid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
