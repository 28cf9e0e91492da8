import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildKosManifest, kosUidsFromName, kosValueTypeOf, readKosManifest, type KosManifestInput } from './kos.ts';
import { dcmjs, type DcmjsDataset } from './kos-dcmjs.ts';
import { DicomValueError } from './errors.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const PDF = '1.2.840.10008.5.1.4.1.1.104.1';

function input(overrides: Partial<KosManifestInput> = {}): KosManifestInput {
  return {
    source: {
      patientName: 'Müller^Jürgen',
      patientId: 'MRN0042',
      issuerOfPatientId: 'HOSP',
      patientBirthDate: '19700312',
      patientSex: 'M',
      studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
      studyDate: '20240131',
      studyTime: '101500',
      accessionNumber: 'ACC-7',
      referringPhysicianName: 'Welby^Marcus',
      studyId: 'S1',
      studyDescription: 'CT chest',
    },
    instances: [
      { seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1', sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.1.1' },
      { seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1', sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.1.2' },
      { seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.2', sopClassUid: PDF, sopInstanceUid: '1.2.826.0.1.3680043.10.1.1.2.1' },
    ],
    retrieveAeTitle: 'IMAGESHARE',
    retrieveLocationUid: '2.25.42.2',
    ...kosUidsFromName('test-release-1'),
    contentTime: new Date('2024-02-01T08:00:00Z'),
    implementationClassUid: '2.25.99',
    ...overrides,
  };
}

function datasetOf(bytes: Uint8Array): DcmjsDataset {
  return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).dict;
}

function value(ds: DcmjsDataset, tag: string): unknown {
  return ds[tag]?.Value?.[0];
}

test('KOS: references every instance by study and series with retrieve AE title and location', () => {
  const bytes = buildKosManifest(input());
  const kos = readKosManifest(bytes);
  assert.equal(kos.studyInstanceUid, '1.2.826.0.1.3680043.10.1.1');
  assert.deepEqual(
    kos.references.map((r) => [r.seriesInstanceUid, r.sopInstanceUid, r.sopClassUid, r.retrieveAeTitle, r.retrieveLocationUid]),
    input().instances.map((i) => [i.seriesInstanceUid, i.sopInstanceUid, i.sopClassUid, 'IMAGESHARE', '2.25.42.2']),
  );
});

test('KOS: a new series, Manifest concept, TID 2010, IMAGE/COMPOSITE content items', () => {
  const ds = datasetOf(buildKosManifest(input()));
  const uids = kosUidsFromName('test-release-1');
  assert.equal(value(ds, '00080016'), '1.2.840.10008.5.1.4.1.1.88.59');
  assert.equal(value(ds, '0020000E'), uids.seriesInstanceUid);
  assert.equal(value(ds, '00080018'), uids.sopInstanceUid);
  assert.ok(!input().instances.some((i) => i.seriesInstanceUid === uids.seriesInstanceUid));
  assert.equal(value(ds, '00080060'), 'KO');
  const concept = value(ds, '0040A043') as DcmjsDataset;
  assert.deepEqual([value(concept, '00080100'), value(concept, '00080102'), value(concept, '00080104')], ['113030', 'DCM', 'Manifest']);
  const template = value(ds, '0040A504') as DcmjsDataset;
  assert.deepEqual([value(template, '00080105'), value(template, '0040DB00')], ['DCMR', '2010']);
  const content = (ds['0040A730']?.Value ?? []) as DcmjsDataset[];
  assert.deepEqual(content.map((c) => value(c, '0040A040')), ['IMAGE', 'IMAGE', 'COMPOSITE']);
  assert.deepEqual(content.map((c) => value(c, '0040A010')), ['CONTAINS', 'CONTAINS', 'CONTAINS']);
  assert.equal(kosValueTypeOf('1.2.840.10008.5.1.4.1.1.9.1.1'), 'WAVEFORM');
});

test('KOS: patient and study attributes are copied unchanged (text re-encoded as UTF-8)', () => {
  const ds = datasetOf(buildKosManifest(input()));
  const s = input().source;
  assert.equal(value(ds, '00080005'), 'ISO_IR 192');
  assert.deepEqual(value(ds, '00100010'), { Alphabetic: s.patientName });
  assert.equal(value(ds, '00100020'), s.patientId);
  assert.equal(value(ds, '00100021'), s.issuerOfPatientId);
  assert.equal(value(ds, '00100030'), s.patientBirthDate);
  assert.equal(value(ds, '00100040'), s.patientSex);
  assert.equal(value(ds, '0020000D'), s.studyInstanceUid);
  assert.equal(value(ds, '00080020'), s.studyDate);
  assert.equal(value(ds, '00080030'), s.studyTime);
  assert.equal(value(ds, '00080050'), s.accessionNumber);
  assert.deepEqual(value(ds, '00080090'), { Alphabetic: s.referringPhysicianName });
  assert.equal(value(ds, '00200010'), s.studyId);
  assert.equal(value(ds, '00081030'), s.studyDescription);
});

test('KOS: the same release gives byte-identical manifests (retries never mint a second one)', () => {
  assert.deepEqual(buildKosManifest(input()), buildKosManifest(input()));
  assert.notDeepEqual(kosUidsFromName('a'), kosUidsFromName('b'));
});

test('KOS: refuses bad input with a typed error', () => {
  assert.throws(() => buildKosManifest(input({ instances: [] })), DicomValueError);
  assert.throws(() => buildKosManifest(input({ retrieveLocationUid: 'not-a-uid' })), DicomValueError);
  assert.throws(() => buildKosManifest(input({ seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1' })), DicomValueError);
  assert.throws(() => buildKosManifest(input({ retrieveAeTitle: 'A_VERY_LONG_AE_TITLE_X' })), DicomValueError);
});
