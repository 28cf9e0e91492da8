// Decoding compressed corpus files to Explicit VR Little Endian: the lossless ones of the CT1 image give
// back exactly the pixels of its uncompressed copy, and every decoded file reads in dcmdump.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusDir, requireTools } from '../../../test-support/system-tools.ts';
import { buildFileMetaInformation, detectFileLayout } from './part10.ts';
import { extractIndexAttributes } from './header.ts';
import { canDecode, decodeToExplicitLittleEndian } from './transcode-codecs.ts';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.ts';
import { transcodeDataset } from './transcode.ts';

const skip = requireTools({ shared: true, commands: ['dcmdump'] });

function load(name: string): { dataset: Buffer; ts: string } {
  const bytes = readFileSync(join(corpusDir, name));
  const layout = detectFileLayout(bytes.subarray(0, 1024 * 1024));
  return { dataset: bytes.subarray(layout.datasetOffset), ts: layout.transferSyntaxUid };
}

/** The Pixel Data value of an Explicit VR Little Endian dataset. */
function pixelData(dataset: Buffer): Buffer {
  const header = extractIndexAttributes(dataset, EXPLICIT_VR_LITTLE_ENDIAN, { wholeDataset: true });
  assert.ok(header.complete && header.pixelDataOffset !== null);
  const at = header.pixelDataOffset;
  const length = dataset.readUInt32LE(at + 8);
  return dataset.subarray(at + 12, at + 12 + length);
}

describe('decodeToExplicitLittleEndian', { skip }, () => {
  test('lossless JPEG 2000 and RLE copies of CT1 decode to the uncompressed pixels', async () => {
    const reference = load('ct_implicit_le.dcm');
    const expected = pixelData(transcodeDataset(reference.dataset, reference.ts, EXPLICIT_VR_LITTLE_ENDIAN));
    for (const name of ['ct_j2k_lossless.dcm', 'ct_rle_fragmented.dcm']) {
      const { dataset, ts } = load(name);
      const decoded = await decodeToExplicitLittleEndian(dataset, ts);
      assert.ok(pixelData(decoded).equals(expected), `${name}: pixels equal CT1 uncompressed`);
    }
  });

  test('every decodable corpus file decodes to a dataset dcmdump reads, with native Pixel Data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'decode-'));
    try {
      for (const name of readdirSync(corpusDir).filter((f) => f.endsWith('.dcm')).sort()) {
        const { dataset, ts } = load(name);
        if (!canDecode(ts)) continue;
        const decoded = await decodeToExplicitLittleEndian(dataset, ts);
        const path = join(dir, 'decoded.dcm');
        writeFileSync(path, Buffer.concat([buildFileMetaInformation({ mediaStorageSopClassUid: '1.2.3', mediaStorageSopInstanceUid: '1.2.3', transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, implementationClassUid: '1.2.3.4' }), decoded]));
        const r = spawnSync('dcmdump', ['-q', path], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
        assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        assert.match(r.stdout, /\(7fe0,0010\) O[BW] [0-9a-f]/, `${name}: native pixel data`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
