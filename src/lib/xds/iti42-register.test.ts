import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { parseSoapEnvelope } from '../soap/envelope.ts';
import { parseXmlText } from '../soap/safe-xml.ts';
import { readRegisterRequest, writeSubmitObjectsRequest, REGISTER_ACTION } from './iti42-register.ts';
import type { DocumentEntry, XdsMetadata } from './metadata.ts';
import { statusFor, XdsError, type RegistryError } from './registry-response.ts';
import { validateSubmission, validateSubmissionMetadata, type RegistryLookups } from './submission-validation.ts';
import { DOCUMENT_SHA1, hasMember, PATIENT, submissionSet, validSubmission } from './test-fixtures.ts';
import { ASSOCIATION_TYPE } from './vocabulary.ts';

const shared = { skip: requireTools({ shared: true }) };
const codes = (errors: readonly RegistryError[]): string[] => errors.map((e) => e.errorCode);
const register = (metadata: XdsMetadata, lookups: RegistryLookups = {}): Promise<RegistryError[]> => validateSubmission({ transaction: 'ITI-42', metadata }, lookups);

function withDocument(m: XdsMetadata, index: number, change: Partial<DocumentEntry>): XdsMetadata {
  return { ...m, documentEntries: m.documentEntries.map((d, i) => (i === index ? { ...d, ...change } : d)) };
}

test('the fixture submission is valid for ITI-42', async () => {
  assert.deepEqual(await register(validSubmission(), { isKnownPatientId: () => true, findByUniqueId: () => undefined, entryUuidExists: () => false }), []);
});

test('A-PNR-17: ITI-42 with default (unprefixed) namespaces is accepted (NIST sample, placeholders filled as NIST does)', shared, async () => {
  const raw = readFileSync(join(samplesDir, 'nist-iti42-register-default-ns.soap.xml'), 'utf8')
    .replaceAll('$patientid$', 'P42^^^&amp;1.3.6.1.4.1.21367.2005.3.7&amp;ISO')
    .replaceAll('$ssid$', '1.2.826.0.1.3680043.10.99.1');
  const env = parseSoapEnvelope(raw);
  assert.equal(env.addressing.action, REGISTER_ACTION);
  const { metadata, problems } = readRegisterRequest(env.payload);
  const errors = await validateSubmission({ transaction: 'ITI-42', metadata, problems }, { isKnownPatientId: () => true });
  assert.deepEqual(errors, []);
  assert.equal(statusFor(errors), 'Success');
});

test('A-PNR-11: a DocumentEntry missing a required attribute → Failure (one sub-test per attribute)', async (t) => {
  const missing: Array<keyof DocumentEntry> = [
    'classCode',
    'typeCode',
    'formatCode',
    'practiceSettingCode',
    'healthcareFacilityTypeCode',
    'confidentialityCodes',
    'creationTime',
    'languageCode',
    'sourcePatientId',
  ];
  for (const attribute of missing) {
    await t.test(`missing ${attribute}`, async () => {
      const m = withDocument(validSubmission(), 0, { [attribute]: attribute === 'confidentialityCodes' ? [] : undefined });
      const errors = await register(m);
      assert.deepEqual(codes(errors), ['XDSRegistryMetadataError']);
      assert.equal(errors[0]?.location, 'Document01');
      assert.equal(statusFor(errors), 'Failure');
    });
  }
});

test('A-PNR-11 (ITI-42 extras): hash, size and repositoryUniqueId are required in Register Document Set; formats are checked', async () => {
  for (const change of [{ hash: undefined }, { size: undefined }, { repositoryUniqueId: undefined }, { hash: 'xyz' }, { creationTime: '2024-01-01' }, { languageCode: 'en_US!' }, { mimeType: '' }, { uniqueId: '' }]) {
    assert.deepEqual(codes(await register(withDocument(validSubmission(), 0, change))), ['XDSRegistryMetadataError'], JSON.stringify(change));
  }
  assert.deepEqual(codes(await register(withDocument(validSubmission(), 0, { serviceStartTime: '2024020100', serviceStopTime: '2024013100' }))), ['XDSRegistryMetadataError']);
  assert.deepEqual(codes(await register(withDocument(validSubmission(), 0, { classCode: { code: 'X', scheme: '' } }))), ['XDSRegistryMetadataError']);
});

test('A-PNR-12: one valid and one flawed DocumentEntry → the whole submission fails (nothing may be registered)', async () => {
  const m = withDocument(validSubmission(), 1, { repositoryUniqueId: undefined });
  const errors = await register(m, { isKnownPatientId: () => true });
  assert.deepEqual(codes(errors), ['XDSRegistryMetadataError']);
  assert.equal(errors[0]?.location, 'Manifest01');
  assert.equal(statusFor(errors), 'Failure', 'Failure, never PartialSuccess, for a submission');
});

test('A-PNR-08 (ITI-42): two DocumentEntries with the same uniqueId → XDSRegistryDuplicateUniqueIdInMessage', async () => {
  const m = validSubmission();
  const errors = await register(withDocument(m, 1, { uniqueId: m.documentEntries[0]!.uniqueId }));
  assert.deepEqual(codes(errors), ['XDSRegistryDuplicateUniqueIdInMessage']);
  const ssDup = { ...m, folders: [{ ...m.folders[0]!, uniqueId: m.submissionSets[0]!.uniqueId }] };
  assert.deepEqual(codes(await register(ssDup)), ['XDSRegistryDuplicateUniqueIdInMessage']);
});

test('A-PNR-09: a patient ID never fed → XDSUnknownPatientId', async () => {
  const errors = await register(validSubmission(), { isKnownPatientId: async (pid) => pid !== PATIENT });
  assert.deepEqual(codes(errors), ['XDSUnknownPatientId']);
});

test('A-PNR-10: SubmissionSet.patientId ≠ DocumentEntry.patientId → XDSPatientIdDoesNotMatch', async () => {
  const other = 'OTHER^^^&1.3.6.1.4.1.19376.3.840.1.1.1&ISO';
  assert.deepEqual(codes(await register(withDocument(validSubmission(), 1, { patientId: other }))), ['XDSPatientIdDoesNotMatch']);
  const m = validSubmission();
  assert.deepEqual(codes(await register({ ...m, folders: [{ ...m.folders[0]!, patientId: other }] })), ['XDSPatientIdDoesNotMatch']);
});

test('A-PNR-13: resubmission with the same uniqueId and hash → Success; another hash → XDSNonIdenticalHash', async () => {
  const m = validSubmission();
  const uid = m.documentEntries[0]!.uniqueId;
  const sameHash: RegistryLookups = { findByUniqueId: (u) => (u === uid ? { kind: 'DocumentEntry', hash: DOCUMENT_SHA1.toUpperCase(), size: 36 } : undefined) };
  assert.deepEqual(await register(m, sameHash), []);
  const otherHash: RegistryLookups = { findByUniqueId: (u) => (u === uid ? { kind: 'DocumentEntry', hash: 'ffffffffffffffffffffffffffffffffffffffff' } : undefined) };
  assert.deepEqual(codes(await register(m, otherHash)), ['XDSNonIdenticalHash']);
  const otherSize: RegistryLookups = { findByUniqueId: (u) => (u === uid ? { kind: 'DocumentEntry', hash: DOCUMENT_SHA1, size: 99 } : undefined) };
  assert.deepEqual(codes(await register(m, otherSize)), ['XDSNonIdenticalSize']);
  const ssUid = m.submissionSets[0]!.uniqueId;
  assert.deepEqual(codes(await register(m, { findByUniqueId: (u) => (u === ssUid ? { kind: 'SubmissionSet' } : undefined) })), ['XDSDuplicateUniqueIdInRegistry']);
});

test('A-PNR-14: re-submitting objects with pre-assigned urn:uuid ids that exist → Failure', async () => {
  const m = validSubmission();
  const uuid = 'urn:uuid:0f7e5b5e-3a4a-4d8e-9d2c-7a1b2c3d4e5f';
  const withUuid: XdsMetadata = {
    ...m,
    documentEntries: m.documentEntries.map((d, i) => (i === 0 ? { ...d, entryUUID: uuid } : d)),
    associations: m.associations.map((a) => ({ ...a, targetUUID: a.targetUUID === 'Document01' ? uuid : a.targetUUID, sourceUUID: a.sourceUUID })),
  };
  assert.deepEqual(await register(withUuid, { entryUuidExists: () => false }), []);
  const errors = await register(withUuid, { entryUuidExists: (id) => id === uuid });
  assert.deepEqual(codes(errors), ['XDSRegistryMetadataError']);
  assert.equal(errors[0]?.location, uuid);
});

test('A-PNR-15: no SubmissionSet, or two, → Failure', async () => {
  const m = validSubmission();
  assert.ok(codes(await register({ ...m, submissionSets: [] })).includes('XDSRegistryMetadataError'));
  const two = { ...m, submissionSets: [...m.submissionSets, submissionSet({ entryUUID: 'SubmissionSet02', uniqueId: '1.2.826.0.1.3680043.10.3.2' })] };
  assert.deepEqual(codes(await register(two)), ['XDSRegistryMetadataError']);
});

test('A-PNR-16: a patient ID with CX.5 or a namespace-only assigning authority → XDSRegistryMetadataError', async () => {
  for (const pid of ['3b5f9c0e2a^^^&1.3.6.1.4.1.19376.3.840.1.1.1&ISO^PI', '3b5f9c0e2a^^^RSNA']) {
    const m = validSubmission();
    const all: XdsMetadata = {
      ...m,
      submissionSets: m.submissionSets.map((s) => ({ ...s, patientId: pid })),
      documentEntries: m.documentEntries.map((d) => ({ ...d, patientId: pid })),
      folders: m.folders.map((f) => ({ ...f, patientId: pid })),
    };
    const errors = await register(all);
    assert.ok(errors.length > 0 && errors.every((e) => e.errorCode === 'XDSRegistryMetadataError'), pid);
  }
});

test('associations: known types, SubmissionSetStatus on SS→DE HasMember, every entry a member, resolvable endpoints', async () => {
  const m = validSubmission();
  const noStatus = { ...m, associations: m.associations.map((a) => (a.entryUUID === 'as1' ? { ...a, submissionSetStatus: undefined } : a)) };
  assert.deepEqual(codes(await register(noStatus)), ['XDSRegistryMetadataError']);
  const notMember = { ...m, associations: m.associations.filter((a) => a.entryUUID !== 'as2') };
  assert.deepEqual(codes(await register(notMember)), ['XDSRegistryMetadataError']);
  const unknownType = { ...m, associations: [...m.associations, { ...hasMember('x', 'Document01', 'Manifest01'), type: 'urn:example:Likes' }] };
  assert.deepEqual(codes(await register(unknownType)), ['XDSRegistryMetadataError']);
  const dangling = { ...m, associations: [...m.associations, hasMember('y', 'SubmissionSet01', 'NoSuchObject', 'Original')] };
  assert.deepEqual(codes(await register(dangling)), ['XDSRegistryMetadataError']);
  const rplc = { ...m, associations: [...m.associations, { ...hasMember('z', 'Document01', 'urn:uuid:0f7e5b5e-3a4a-4d8e-9d2c-7a1b2c3d4e5f'), type: ASSOCIATION_TYPE.replace }] };
  assert.deepEqual(await register(rplc), []);
  const rplcFromOutside = { ...m, associations: [...m.associations, { ...hasMember('w', 'urn:uuid:0f7e5b5e-3a4a-4d8e-9d2c-7a1b2c3d4e5f', 'Document01'), type: ASSOCIATION_TYPE.replace }] };
  assert.deepEqual(codes(await register(rplcFromOutside)), ['XDSRegistryMetadataError']);
  const dupIds = { ...m, associations: [...m.associations, hasMember('as1', 'Folder01', 'Manifest01')] };
  assert.ok(codes(await register(dupIds)).includes('XDSRegistryMetadataError'));
});

test('ITI-42 writer → reader round trip; a body that is not SubmitObjectsRequest is an XdsError', () => {
  const m = validSubmission();
  const read = readRegisterRequest(parseXmlText(writeSubmitObjectsRequest(m)));
  assert.deepEqual(read.metadata, m);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(validateSubmissionMetadata({ transaction: 'ITI-42', metadata: read.metadata }), []);
  assert.throws(() => readRegisterRequest(parseXmlText('<x xmlns="urn:x"/>')), (e: unknown) => e instanceof XdsError && e.code === 'XDSRegistryMetadataError');
  assert.throws(() => readRegisterRequest(undefined), XdsError);
});
