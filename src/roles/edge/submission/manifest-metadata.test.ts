import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accessionNumbersOf,
  formatPatientId,
  readXdsMetadata,
  validateImagingManifestEntry,
  validateSubmissionMetadata,
  writeXdsMetadataXml,
  RSNA_IMAGE_SHARE,
  KOS_FORMAT_CODE,
} from '../../../lib/xds/index.ts';
import { parseXmlText } from '../../../lib/soap/index.ts';
import { anatomicRegionsOf, buildManifestMetadata, MANIFEST_ENTRY_ID, REPORT_PDF_ENTRY_ID, REPORT_TEXT_ENTRY_ID, type ManifestMetadataInput } from './manifest-metadata.ts';

const PID = formatPatientId('a'.repeat(64), '2.25.1.4');

function input(overrides: Partial<ManifestMetadataInput> = {}): ManifestMetadataInput {
  return {
    registryPatientId: PID,
    sitePatientId: 'MRN0042',
    sitePatientIdAuthority: '2.25.1.10',
    accessionNumber: 'ACC-7',
    accessionIssuer: '2.25.1.11',
    studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
    studyDate: '20240131',
    studyDescription: 'CT chest',
    modalities: ['CT', 'SR', 'PT', 'CT'],
    kosSopInstanceUid: '2.25.123',
    submissionSetUniqueId: '2.25.456',
    sourceId: '2.25.1.1',
    creationTime: new Date('2024-02-01T08:00:00Z'),
    submissionTime: new Date('2024-02-01T08:05:00Z'),
    ...overrides,
  };
}

test('manifest metadata: one SubmissionSet and the KOS entry, valid for ITI-41 and A-IDS-02', () => {
  const m = buildManifestMetadata(input());
  assert.equal(m.submissionSets.length, 1);
  assert.equal(m.documentEntries.length, 1);
  const de = m.documentEntries[0]!;
  assert.equal(de.entryUUID, MANIFEST_ENTRY_ID);
  assert.equal(de.uniqueId, '2.25.123');
  assert.equal(de.mimeType, 'application/dicom');
  assert.deepEqual(de.formatCode, KOS_FORMAT_CODE);
  assert.deepEqual(de.classCode, RSNA_IMAGE_SHARE.imagesClassCode);
  assert.deepEqual(de.typeCode, RSNA_IMAGE_SHARE.typeCode);
  assert.equal(de.patientId, PID);
  assert.equal(de.sourcePatientId, 'MRN0042^^^&2.25.1.10&ISO');
  assert.deepEqual(de.sourcePatientInfo, [], 'no demographics go to the clearinghouse');
  assert.deepEqual(de.eventCodes.map((c) => `${c.code}^${c.scheme}`), ['CT^DCM', 'PT^DCM'], 'acquisition modalities only, once each');
  assert.deepEqual(accessionNumbersOf(de), ['ACC-7']);
  assert.equal(de.creationTime, '20240201080000');
  assert.equal(m.submissionSets[0]!.submissionTime, '20240201080500');
  assert.equal(m.submissionSets[0]!.sourceId, '2.25.1.1');
  assert.deepEqual(validateImagingManifestEntry(de, '2.25.123'), []);
  const documents = new Map([[MANIFEST_ENTRY_ID, { size: 10, sha1: '0'.repeat(40) }]]);
  assert.deepEqual(validateSubmissionMetadata({ transaction: 'ITI-41', metadata: m, documents }), []);
});

test('manifest metadata: a report adds PDF and text entries, each in the submission set', () => {
  const m = buildManifestMetadata(input({ report: { pdf: { uniqueId: '2.25.7', bytes: new Uint8Array([1]) }, text: { uniqueId: '2.25.8', text: 'Normal.' } } }));
  assert.deepEqual(m.documentEntries.map((d) => [d.entryUUID, d.mimeType, d.classCode?.code]), [
    [MANIFEST_ENTRY_ID, 'application/dicom', 'IMAGES'],
    [REPORT_PDF_ENTRY_ID, 'application/pdf', 'REPORTS'],
    [REPORT_TEXT_ENTRY_ID, 'text/plain', 'REPORTS'],
  ]);
  assert.equal(m.associations.length, 3);
  const documents = new Map(m.documentEntries.map((d) => [d.entryUUID, { size: 1, sha1: '0'.repeat(40) }]));
  assert.deepEqual(validateSubmissionMetadata({ transaction: 'ITI-41', metadata: m, documents }), []);
  // Round trip through ebRIM XML keeps it valid.
  const read = readXdsMetadata(parseXmlText(writeXdsMetadataXml(m)));
  assert.deepEqual(read.problems, []);
});

test('manifest metadata: without an accession number the study UID still identifies the exam', () => {
  const de = buildManifestMetadata(input({ accessionNumber: null, modalities: [] })).documentEntries[0]!;
  assert.deepEqual(de.referenceIdList, ['1.2.826.0.1.3680043.10.1.1^^^^urn:ihe:iti:xds:2016:studyInstanceUID']);
  assert.deepEqual(de.eventCodes, [RSNA_IMAGE_SHARE.eventCode]);
});

test('manifest metadata: known body parts become SNOMED CT anatomic regions in eventCodeList', () => {
  const regions = anatomicRegionsOf(['CHEST', 'chest ', null, 'WHATEVER']);
  assert.deepEqual(regions.map((c) => c.code), ['51185008']);
  const de = buildManifestMetadata(input({ modalities: ['CT'], anatomicRegions: regions })).documentEntries[0]!;
  assert.deepEqual(de.eventCodes.map((c) => c.code), ['CT', '51185008']);
});
