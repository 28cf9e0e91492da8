// Cross-checks the Part 10 split against DCMTK's dcmdump on every corpus file, and checks that DCMTK
// reads the File Meta groups this library writes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { dcmdump, explicitHeaderLength, type DcmdumpView } from './dcmtk.test-helper.ts';
import { buildFileMetaInformation, DEFAULT_HEAD_BYTES, detectFileLayout, PART10_PREFIX_LENGTH, readFileLayout } from './part10.ts';
import { datasetEncodingOf } from './transfer-syntax.ts';

const skip = requireTools({ shared: true, commands: ['dcmdump'] });
const corpusFiles = skip === false ? readdirSync(corpusDir).filter((f) => f.endsWith('.dcm')).sort() : [];

/** dcmdump's meta elements summed up: where the dataset starts in its view. */
function dcmdumpDatasetOffset(view: DcmdumpView): number {
  const metaBytes = view.meta.reduce((sum, e) => sum + explicitHeaderLength(e.vr) + (e.length ?? 0), 0);
  return (view.hasPreamble ? PART10_PREFIX_LENGTH : 0) + metaBytes;
}

/** What dcmdump's "Used TransferSyntax" of the dataset says about how the bytes are encoded. */
function dcmtkEncoding(name: string): { explicitVr: boolean; littleEndian: boolean; deflated: boolean } {
  if (name === 'Little Endian Implicit') return { explicitVr: false, littleEndian: true, deflated: false };
  if (name === 'Big Endian Explicit') return { explicitVr: true, littleEndian: false, deflated: false };
  if (name.startsWith('Deflated')) return { explicitVr: true, littleEndian: true, deflated: true };
  return { explicitVr: true, littleEndian: true, deflated: false }; // explicit LE and every encapsulated syntax
}

function metaValue(view: DcmdumpView, tag: string): string | null {
  const e = view.meta.find((m) => m.tag === tag);
  return e?.value?.replace(/[\0 ]+$/, '') || null;
}

function checkAgainstDcmdump(file: string, head: Uint8Array, view: DcmdumpView): void {
  const layout = detectFileLayout(head);
  assert.equal(layout.kind, !view.hasMeta ? 'raw-dataset' : view.hasPreamble ? 'part10' : 'meta-without-preamble', 'kind');
  assert.equal(layout.datasetOffset, dcmdumpDatasetOffset(view), 'dataset offset');
  const ours = datasetEncodingOf(layout.transferSyntaxUid);
  const { known: _known, ...oursWithoutKnown } = ours;
  assert.deepEqual(oursWithoutKnown, dcmtkEncoding(view.datasetTransferSyntaxName), `dataset encoding (dcmdump: ${view.datasetTransferSyntaxName})`);
  if (view.hasMeta) {
    assert.ok(layout.meta, 'meta parsed');
    assert.equal(layout.transferSyntaxSource, 'file-meta');
    assert.equal(layout.meta.transferSyntaxUid, metaValue(view, '0002,0010'));
    assert.equal(layout.meta.mediaStorageSopClassUid, metaValue(view, '0002,0002'));
    assert.equal(layout.meta.mediaStorageSopInstanceUid, metaValue(view, '0002,0003'));
    assert.equal(layout.meta.implementationClassUid, metaValue(view, '0002,0012'));
    assert.equal(layout.meta.implementationVersionName, metaValue(view, '0002,0013'));
    assert.equal(layout.meta.sourceApplicationEntityTitle, metaValue(view, '0002,0016')?.trim() || null);
    assert.equal(layout.meta.groupLength, Number(metaValue(view, '0002,0000')));
  } else {
    assert.equal(layout.meta, null);
    assert.equal(layout.transferSyntaxSource, 'detected');
  }
  assert.deepEqual(layout.problems, [], `${file}: no problems expected`);
}

describe('Part 10 split of every corpus file agrees with dcmdump', { skip }, () => {
  test('the corpus is there', () => {
    assert.equal(corpusFiles.length, 44);
  });

  for (const file of corpusFiles) {
    test(file, async () => {
      const path = join(corpusDir, file);
      const { head } = await readFileLayout(path, DEFAULT_HEAD_BYTES);
      checkAgainstDcmdump(file, head, dcmdump(path));
    });
  }
});

describe('the same files with the preamble removed (meta group at offset 0)', { skip }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imageshare-nopreamble-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of corpusFiles.filter((f) => !f.includes('raw'))) {
    test(file, () => {
      const stripped = readFileSync(join(corpusDir, file)).subarray(PART10_PREFIX_LENGTH);
      const path = join(dir, file);
      writeFileSync(path, stripped);
      const view = dcmdump(path);
      assert.equal(view.hasPreamble, false);
      checkAgainstDcmdump(file, stripped.subarray(0, DEFAULT_HEAD_BYTES), view);
    });
  }
});

describe('DCMTK reads the File Meta group we build', { skip }, () => {
  test('meta + a corpus dataset (implicit VR) becomes a Part 10 file dcmdump accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imageshare-meta-'));
    try {
      const raw = readFileSync(join(corpusDir, 'rtstruct_raw_no_meta.dcm'));
      const meta = buildFileMetaInformation({
        mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.481.3',
        mediaStorageSopInstanceUid: '1.2.826.0.1.3680043.8.498.2010020400001.2.1.1',
        transferSyntaxUid: '1.2.840.10008.1.2',
        implementationClassUid: '1.2.826.0.1.3680043.10.543.1',
        implementationVersionName: 'IMAGESHARE_0_1',
        sourceApplicationEntityTitle: 'EDGE',
      });
      const path = join(dir, 'built.dcm');
      writeFileSync(path, Buffer.concat([meta, raw]));
      // +fo: fail unless the file is a proper Part 10 file.
      const view = dcmdump(path, ['+fo']);
      assert.equal(view.hasPreamble, true);
      assert.equal(metaValue(view, '0002,0000'), String(meta.length - PART10_PREFIX_LENGTH - 12));
      assert.equal(view.meta.find((m) => m.tag === '0002,0001')?.value, '00\\01');
      assert.equal(metaValue(view, '0002,0002'), '1.2.840.10008.5.1.4.1.1.481.3');
      assert.equal(metaValue(view, '0002,0003'), '1.2.826.0.1.3680043.8.498.2010020400001.2.1.1');
      assert.equal(metaValue(view, '0002,0010'), '1.2.840.10008.1.2');
      assert.equal(metaValue(view, '0002,0012'), '1.2.826.0.1.3680043.10.543.1');
      assert.equal(metaValue(view, '0002,0013'), 'IMAGESHARE_0_1');
      assert.equal(metaValue(view, '0002,0016'), 'EDGE');
      assert.equal(view.datasetTransferSyntaxName, 'Little Endian Implicit');
      assert.equal(view.dataset.find((e) => e.tag === '0008,0060')?.value, 'RTSTRUCT');
      assert.equal(dcmdumpDatasetOffset(view), meta.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
