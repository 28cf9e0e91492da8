// Metadata fixtures shared by the XDS tests (not used by production code).
import { compact } from './ebrim.ts';
import { formatPatientId } from './hl7-datatypes.ts';
import type { DocumentEntry, Folder, SubmissionSet, XdsAssociation, XdsMetadata } from './metadata.ts';
import { ASSOCIATION_TYPE, AVAILABILITY_STATUS } from './vocabulary.ts';
import { accessionReferenceId, KOS_FORMAT_CODE, RSNA_IMAGE_SHARE } from './xds-imaging.ts';

export const PATIENT = formatPatientId('3b5f9c0e2a', '1.3.6.1.4.1.19376.3.840.1.1.1');
export const DOCUMENT_SHA1 = 'e543712c0e10501972de13a5bfcbe826c49feb75';

/** A DocumentEntry with every attribute of the model filled. */
export function fullDocumentEntry(overrides: Partial<DocumentEntry> = {}): DocumentEntry {
  // compact: an override with `undefined` means "absent", as after reading XML.
  return compact({
    entryUUID: 'Document01',
    logicalId: 'Document01',
    version: '1',
    availabilityStatus: AVAILABILITY_STATUS.approved,
    homeCommunityId: 'urn:oid:1.2.3.4',
    title: 'CT chest report — Résumé',
    comments: 'final report <signed> & checked',
    extraSlots: [{ name: 'urn:imageshare:extra', values: ['a', 'b'] }],
    uniqueId: '1.2.826.0.1.3680043.10.1.42',
    patientId: PATIENT,
    objectType: 'stable',
    mimeType: 'application/pdf',
    sourcePatientId: 'MRN0042^^^&1.2.840.99.1&ISO',
    sourcePatientInfo: ['PID-3|MRN0042^^^&1.2.840.99.1&ISO', 'PID-5|Doe^Jane^^^', 'PID-7|19700101', 'PID-8|F'],
    classCode: RSNA_IMAGE_SHARE.reportsClassCode,
    confidentialityCodes: [RSNA_IMAGE_SHARE.confidentialityCode, { code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'normal' }],
    formatCode: RSNA_IMAGE_SHARE.pdfReportFormatCode,
    healthcareFacilityTypeCode: RSNA_IMAGE_SHARE.healthcareFacilityTypeCode,
    practiceSettingCode: RSNA_IMAGE_SHARE.practiceSettingCode,
    typeCode: RSNA_IMAGE_SHARE.typeCode,
    eventCodes: [RSNA_IMAGE_SHARE.eventCode, { code: 'CT', scheme: 'DCM', display: 'Computed Tomography' }],
    creationTime: '20240131235959',
    serviceStartTime: '202401311200',
    serviceStopTime: '202401311300',
    hash: DOCUMENT_SHA1,
    size: 36,
    repositoryUniqueId: '1.2.826.0.1.3680043.10.2',
    languageCode: 'en-US',
    authors: [
      {
        person: '12345^Welby^Marcus^^^Dr^^^&1.2.840.99.2&ISO',
        institutions: ['Radiology Associates^^^^^&1.2.840.99.3&ISO^^^^RA1', 'RSNA ISN'],
        roles: ['Radiologist'],
        specialties: ['Diagnostic Radiology'],
        telecommunications: ['^^Internet^welby@example.org'],
      },
      { institutions: ['Second Opinion Clinic'], roles: [], specialties: [], telecommunications: [] },
    ],
    referenceIdList: [accessionReferenceId('ACC-0001', '1.3.6.1.4.1.19376.3.840.1.1.5.7')],
    legalAuthenticator: '12345^Welby^Marcus^^^Dr^^^&1.2.840.99.2&ISO',
    uri: 'https://example.org/doc/1',
    ...overrides,
  });
}

/** A KOS manifest entry as RAD-68 wants it. */
export function manifestEntry(overrides: Partial<DocumentEntry> = {}): DocumentEntry {
  return fullDocumentEntry({
    entryUUID: 'Manifest01',
    logicalId: undefined,
    uniqueId: '1.3.6.1.4.1.21367.201599.1.201604020954048.9',
    mimeType: 'application/dicom',
    classCode: RSNA_IMAGE_SHARE.imagesClassCode,
    formatCode: KOS_FORMAT_CODE,
    title: 'Imaging manifest',
    ...overrides,
  });
}

export function submissionSet(overrides: Partial<SubmissionSet> = {}): SubmissionSet {
  return compact({
    entryUUID: 'SubmissionSet01',
    title: 'Exam ACC-0001',
    comments: 'released to patient',
    extraSlots: [],
    uniqueId: '1.2.826.0.1.3680043.10.3.1',
    sourceId: '1.3.6.1.4.1.19376.3.840.1.1.4.7',
    patientId: PATIENT,
    submissionTime: '20240201080000',
    contentTypeCode: RSNA_IMAGE_SHARE.contentTypeCode,
    authors: [{ person: '^Edge^Server^^^', institutions: ['RSNA ISN'], roles: [], specialties: [], telecommunications: [] }],
    intendedRecipients: ['Some Hospital^^^^^&1.2.3.9&ISO^^^^7|^Doe^Jane^^^'],
    ...overrides,
  });
}

export function folder(overrides: Partial<Folder> = {}): Folder {
  return compact({
    entryUUID: 'Folder01',
    title: 'Episode 2024-01',
    comments: 'all imaging of the episode',
    extraSlots: [],
    uniqueId: '1.2.826.0.1.3680043.10.4.1',
    patientId: PATIENT,
    codeList: [{ code: 'Imaging Exam', scheme: '1.3.6.1.4.1.19376.3.840.1.1.3', display: 'Imaging Exam' }],
    ...overrides,
  });
}

export function hasMember(id: string, source: string, target: string, status?: 'Original' | 'Reference'): XdsAssociation {
  return { entryUUID: id, type: ASSOCIATION_TYPE.hasMember, sourceUUID: source, targetUUID: target, ...(status ? { submissionSetStatus: status } : {}), extraSlots: [] };
}

/** A valid ITI-42 submission: SubmissionSet + 2 DocumentEntries + Folder, all associations. */
export function validSubmission(): XdsMetadata {
  const de1 = fullDocumentEntry({ availabilityStatus: undefined, homeCommunityId: undefined, logicalId: undefined, version: undefined });
  const de2 = manifestEntry({ availabilityStatus: undefined, homeCommunityId: undefined, version: undefined });
  return {
    submissionSets: [submissionSet()],
    documentEntries: [de1, de2],
    folders: [folder()],
    associations: [
      hasMember('as1', 'SubmissionSet01', 'Document01', 'Original'),
      hasMember('as2', 'SubmissionSet01', 'Manifest01', 'Original'),
      hasMember('as3', 'SubmissionSet01', 'Folder01'),
      hasMember('as4', 'Folder01', 'Document01'),
      hasMember('as5', 'SubmissionSet01', 'as4'),
    ],
    objectRefs: [],
  };
}
