import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { encodeDataSet } from './dataset-codec.ts';
import { Part10Error } from './errors.ts';
import { readPart10Info } from './part10.ts';
import { TransferSyntax } from './uids.ts';

function part10(meta: Buffer, dataSet: Buffer, withGroupLength = true): Buffer {
  const groupLength = withGroupLength ? encodeDataSet([{ tag: 0x00020000, value: meta.length }]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, dataSet]);
}

function meta(sopClass: string, sopInstance: string, ts: string): Buffer {
  return encodeDataSet([
    { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
    { tag: 0x00020002, value: sopClass },
    { tag: 0x00020003, value: sopInstance },
    { tag: 0x00020010, value: ts },
  ]);
}

describe('readPart10Info', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'part10-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the data set after the File Meta group', async () => {
    const dataSet = encodeDataSet([
      { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 'SOPInstanceUID', value: '1.2.3.4' },
      { tag: 'PatientID', value: 'X' },
    ]);
    const metaBytes = meta('1.2.840.10008.5.1.4.1.1.7', '1.2.3.4', TransferSyntax.ExplicitVRLittleEndian);
    const path = join(dir, 'a.dcm');
    await writeFile(path, part10(metaBytes, dataSet));
    const info = await readPart10Info(path);
    assert.deepEqual(info, {
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: '1.2.3.4',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      dataSetOffset: 132 + 12 + metaBytes.length,
      dataSetLength: dataSet.length,
      hasFileMeta: true,
    });
  });

  it('prefers the data set UIDs over the meta copies and copes without group length', async () => {
    const dataSet = encodeDataSet(
      [
        { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
        { tag: 'SOPInstanceUID', value: '9.8.7' },
      ],
      { explicitVr: false },
    );
    const path = join(dir, 'b.dcm');
    await writeFile(path, part10(meta('1.2.840.10008.5.1.4.1.1.7', '1.1.1', TransferSyntax.ImplicitVRLittleEndian), dataSet, false));
    const info = await readPart10Info(path);
    assert.equal(info.sopInstanceUid, '9.8.7');
    assert.equal(info.dataSetLength, dataSet.length);
  });

  it('reads a bare data set (no preamble, no meta)', async () => {
    for (const explicitVr of [true, false]) {
      const dataSet = encodeDataSet(
        [
          { tag: 'SpecificCharacterSet', value: 'ISO_IR 100' },
          { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
          { tag: 'SOPInstanceUID', value: '5.6.7' },
        ],
        { explicitVr },
      );
      const path = join(dir, `bare-${explicitVr}.dcm`);
      await writeFile(path, dataSet);
      const info = await readPart10Info(path);
      assert.equal(info.hasFileMeta, false);
      assert.equal(info.dataSetOffset, 0);
      assert.equal(info.sopInstanceUid, '5.6.7');
      assert.equal(info.transferSyntaxUid, explicitVr ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian);
    }
  });

  it('rejects files that are not DICOM', async () => {
    const path = join(dir, 'junk.txt');
    await writeFile(path, 'hello, this is not a DICOM file at all');
    await assert.rejects(readPart10Info(path), Part10Error);
  });

  it('handles the odd files of the corpus', { skip: requireTools({ shared: true }) }, async () => {
    const deflated = await readPart10Info(join(corpusDir, 'ct_deflated.dcm'));
    assert.equal(deflated.transferSyntaxUid, TransferSyntax.DeflatedExplicitVRLittleEndian);
    // Meta without SOP class/instance: taken from the data set.
    const nm = await readPart10Info(join(corpusDir, 'nm_multiframe_explicit_le.dcm'));
    assert.equal(nm.sopClassUid, '1.2.840.10008.5.1.4.1.1.20');
    // Meta instance UID differs from the data set's: the data set wins.
    const plan = await readPart10Info(join(corpusDir, 'rtplan.dcm'));
    assert.equal(plan.sopInstanceUid, '1.2.777.777.77.7.7777.7777.20030903150023');
    const raw = await readPart10Info(join(corpusDir, 'cr_mono1_raw_no_preamble.dcm'));
    assert.equal(raw.hasFileMeta, false);
    assert.equal(raw.transferSyntaxUid, TransferSyntax.ImplicitVRLittleEndian);
  });
});
