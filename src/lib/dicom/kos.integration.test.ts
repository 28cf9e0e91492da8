// The KOS builder against the corpus: the manifest of the NIST XDS-I PT series references the same
// instances as NIST's own manifest, copies the images' patient/study attributes, and passes dcmdump and
// dciodvfy (dicom3tools) without errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { corpusDir, hasCommand, requireTools } from '../../../test-support/system-tools.ts';
import { extractIndexAttributesFromFile } from './file.ts';
import { buildKosManifest, kosUidsFromName, readKosManifest } from './kos.ts';

const run = promisify(execFile);
const ptFiles = Array.from({ length: 10 }, (_, i) => join(corpusDir, `pt_series_inst${String(i + 1).padStart(2, '0')}.dcm`));

async function manifestOf(files: readonly string[]): Promise<Uint8Array> {
  const headers = await Promise.all(files.map((f) => extractIndexAttributesFromFile(f)));
  const first = headers[0]!.header.attributes;
  return buildKosManifest({
    source: {
      patientName: first.patient.name,
      patientId: first.patient.id,
      issuerOfPatientId: first.patient.issuerOfPatientId,
      patientBirthDate: first.patient.birthDate,
      patientSex: first.patient.sex,
      studyInstanceUid: first.study.instanceUid!,
      studyDate: first.study.date,
      studyTime: first.study.time,
      accessionNumber: first.study.accessionNumber,
      referringPhysicianName: first.study.referringPhysicianName,
      studyId: first.study.studyId,
      studyDescription: first.study.description,
    },
    instances: headers.map((h) => ({
      seriesInstanceUid: h.header.attributes.series.instanceUid!,
      sopClassUid: h.header.attributes.instance.sopClassUid!,
      sopInstanceUid: h.header.attributes.instance.sopInstanceUid!,
    })),
    retrieveAeTitle: 'IMAGESHARE',
    retrieveLocationUid: '2.25.1234567.2',
    ...kosUidsFromName('kos-integration'),
    contentTime: new Date('2026-01-01T00:00:00Z'),
    manufacturer: 'ImageShare',
    implementationClassUid: '2.25.99',
    implementationVersionName: 'IMAGESHARE_TEST',
  });
}

test('KOS of the NIST PT series: same references as the NIST manifest, valid per dciodvfy and dcmdump', { skip: requireTools({ commands: ['dcmdump'], shared: true }) }, async () => {
  const bytes = await manifestOf(ptFiles);
  const ours = readKosManifest(bytes);
  const nist = readKosManifest(readFileSync(join(corpusDir, 'kos_manifest_pt_series.dcm')));
  assert.equal(ours.studyInstanceUid, nist.studyInstanceUid);
  const key = (r: { seriesInstanceUid: string; sopClassUid: string; sopInstanceUid: string }) => `${r.seriesInstanceUid}|${r.sopClassUid}|${r.sopInstanceUid}`;
  assert.deepEqual(ours.references.map(key).sort(), nist.references.map(key).sort());
  assert.equal(ours.patientId, nist.patientId);

  const dir = mkdtempSync(join(tmpdir(), 'kos-'));
  try {
    const path = join(dir, 'kos.dcm');
    writeFileSync(path, bytes);
    const dump = await run('dcmdump', ['+P', '0010,0020', '+P', '0020,000d', '+P', '0040,e011', '+P', '0008,0060', path]);
    assert.match(dump.stdout, new RegExp(`\\[${nist.patientId ?? ''}\\]`));
    assert.match(dump.stdout, /\[KO\]/);
    assert.match(dump.stdout, /\[2\.25\.1234567\.2\]/);
    // dciodvfy (dicom3tools, not in .ci/run's packages: checked when installed) prints its findings on
    // stderr and exits 0 either way: no line may be an Error.
    if (hasCommand('dciodvfy')) {
      const check = await run('dciodvfy', [path]).catch((err: { stdout: string; stderr: string }) => err);
      const errors = `${check.stdout}\n${check.stderr}`.split('\n').filter((l) => /^Error/.test(l));
      assert.deepEqual(errors, [], `dciodvfy:\n${check.stderr}`);
    }
    // Patient and study attributes equal the images' (dcmdump shows them decoded alike).
    const image = await run('dcmdump', ['+P', '0010,0010', '+P', '0010,0030', '+P', '0008,0050', '+P', '0008,0020', ptFiles[0]!]);
    const kosAttrs = await run('dcmdump', ['+P', '0010,0010', '+P', '0010,0030', '+P', '0008,0050', '+P', '0008,0020', path]);
    const values = (s: string) => s.split('\n').map((l) => /\[(.*?)\]/.exec(l)?.[1] ?? '').filter(Boolean);
    assert.deepEqual(values(kosAttrs.stdout), values(image.stdout));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KOS of an ISO 2022 Japanese study keeps the patient name (as UTF-8)', { skip: requireTools({ commands: ['dcmdump'], shared: true }) }, async () => {
  const file = join(corpusDir, 'charset_iso2022_japanese.dcm');
  const header = (await extractIndexAttributesFromFile(file)).header.attributes;
  if (!header.study.instanceUid || !header.series.instanceUid) return;
  const bytes = await manifestOf([file]);
  const dir = mkdtempSync(join(tmpdir(), 'kos-'));
  try {
    writeFileSync(join(dir, 'kos.dcm'), bytes);
    const dump = await run('dcmdump', ['+P', '0010,0010', join(dir, 'kos.dcm')]);
    assert.ok(header.patient.name && dump.stdout.includes(header.patient.name), dump.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
