import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeElement, EXPLICIT_LITTLE } from './element-writer.ts';
import { DicomParseError } from './errors.ts';
import { extractIndexAttributesFromFile } from './file.ts';
import { buildFileMetaInformation } from './part10.ts';

describe('extractIndexAttributesFromFile', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imageshare-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, privateBytes: number): string {
    const enc = EXPLICIT_LITTLE;
    const dataset = Buffer.concat([
      encodeElement(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7', enc),
      encodeElement(0x00080018, 'UI', '1.2.3.4', enc),
      encodeElement(0x00080060, 'CS', 'OT', enc),
      encodeElement(0x00091010, 'OB', Buffer.alloc(privateBytes, 1), enc),
      encodeElement(0x00100020, 'LO', 'P1', enc),
      encodeElement(0x0020000d, 'UI', '1.2.3', enc),
      encodeElement(0x0020000e, 'UI', '1.2.3.4.5', enc),
      encodeElement(0x7fe00010, 'OB', Buffer.alloc(50_000), enc),
    ]);
    const meta = buildFileMetaInformation({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      mediaStorageSopInstanceUid: '1.2.3.4',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      implementationClassUid: '1.2.3.4.5.6',
    });
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([meta, dataset]));
    return path;
  }

  test('grows the read when the meta group or the header does not fit', async () => {
    const path = write('grow.dcm', 300_000);
    const result = await extractIndexAttributesFromFile(path, { initialBytes: 100 });
    assert.equal(result.header.attributes.patient.id, 'P1');
    assert.equal(result.layout.kind, 'part10');
    assert.ok(result.bytesRead > 300_000 && result.bytesRead < 450_000, String(result.bytesRead));
  });

  test('refuses headers longer than maxBytes', async () => {
    const path = write('huge.dcm', 300_000);
    await assert.rejects(extractIndexAttributesFromFile(path, { maxBytes: 128 * 1024 }), (e: unknown) => e instanceof DicomParseError && e.code === 'unsupported');
  });

  test('a small file is read once, as a whole', async () => {
    const path = write('small.dcm', 10);
    const result = await extractIndexAttributesFromFile(path);
    assert.equal(result.header.attributes.study.instanceUid, '1.2.3');
    assert.equal(result.header.pixelDataOffset !== null, true);
  });
});
