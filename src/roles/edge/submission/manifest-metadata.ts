// XDS-I.b metadata of one release (RAD-68): a SubmissionSet, the KOS manifest DocumentEntry and, when
// the exam has one, the report (PDF and/or text) — coded as RSNA Image Share does (ihe-protocols.md
// §10) with the XDS-I specifics of §7.2. Symbolic entry ids: the registry assigns the UUIDs, while
// uniqueIds are deterministic per release, so a retried registration is recognised as a duplicate.
import {
  accessionReferenceId,
  ASSOCIATION_TYPE,
  DICOM_MIME_TYPE,
  formatPatientId,
  formatReferenceId,
  formatXdsTimestamp,
  KOS_FORMAT_CODE,
  RSNA_IMAGE_SHARE,
  type Code,
  type DocumentEntry,
  type SubmissionSet,
  type XdsAssociation,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';

export const STUDY_UID_REFERENCE_ID_TYPE = 'urn:ihe:iti:xds:2016:studyInstanceUID';
/** formatCode of a plain-text report: the MIME type says enough (IHE format code system). */
const TEXT_REPORT_FORMAT_CODE: Code = { code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'mimeType Sufficient' };

export interface ReleaseReport {
  readonly pdf?: { readonly uniqueId: string; readonly bytes: Uint8Array };
  readonly text?: { readonly uniqueId: string; readonly text: string };
}

export interface ManifestMetadataInput {
  readonly registryPatientId: string;
  readonly sitePatientId: string;
  /** OID of the site's patient ID assigning authority (sourcePatientId). */
  readonly sitePatientIdAuthority: string;
  readonly accessionNumber: string | null;
  /** OID of the site's accession number issuer. */
  readonly accessionIssuer: string;
  readonly studyInstanceUid: string;
  readonly studyDate: string | null;
  readonly studyDescription: string | null;
  /** Acquisition modalities of the study's series (KO/PR/SR etc. are left out of eventCodeList). */
  readonly modalities: readonly string[];
  /** Coded anatomic regions when known (SNOMED / DCM codes). */
  readonly anatomicRegions?: readonly Code[];
  readonly kosSopInstanceUid: string;
  readonly submissionSetUniqueId: string;
  readonly sourceId: string;
  readonly creationTime: Date;
  readonly submissionTime: Date;
  readonly report?: ReleaseReport;
}

/**
 * Body Part Examined (0018,0015) → SNOMED CT anatomic region (DICOM CID 4031), for the eventCodeList.
 * Only unambiguous common terms; anything else stays uncoded rather than guessed.
 */
const SNOMED_CT = '2.16.840.1.113883.6.96';
const ANATOMIC_REGIONS: Readonly<Record<string, Code>> = {
  HEAD: { code: '69536005', scheme: SNOMED_CT, display: 'Head' },
  BRAIN: { code: '12738006', scheme: SNOMED_CT, display: 'Brain' },
  NECK: { code: '45048000', scheme: SNOMED_CT, display: 'Neck' },
  CHEST: { code: '51185008', scheme: SNOMED_CT, display: 'Chest' },
  ABDOMEN: { code: '818981001', scheme: SNOMED_CT, display: 'Abdomen' },
  PELVIS: { code: '816092008', scheme: SNOMED_CT, display: 'Pelvis' },
  HEART: { code: '80891009', scheme: SNOMED_CT, display: 'Heart' },
  BREAST: { code: '76752008', scheme: SNOMED_CT, display: 'Breast' },
  KNEE: { code: '72696002', scheme: SNOMED_CT, display: 'Knee' },
};

/** The coded anatomic regions of the study's Body Part Examined values (unknown terms are left out). */
export function anatomicRegionsOf(bodyParts: readonly (string | null)[]): Code[] {
  const codes = new Map<string, Code>();
  for (const part of bodyParts) {
    const code = part ? ANATOMIC_REGIONS[part.trim().toUpperCase()] : undefined;
    if (code) codes.set(code.code, code);
  }
  return [...codes.values()];
}

export const MANIFEST_ENTRY_ID = 'Manifest';
export const REPORT_PDF_ENTRY_ID = 'ReportPdf';
export const REPORT_TEXT_ENTRY_ID = 'ReportText';
const SUBMISSION_SET_ID = 'SubmissionSet';

const NON_ACQUISITION_MODALITIES = new Set(['KO', 'PR', 'SR', 'DOC', 'REG', 'SEG', 'FID', 'RWV', 'PLAN', 'OT']);

function eventCodesOf(input: ManifestMetadataInput): Code[] {
  const modalities = [...new Set(input.modalities.filter((m) => m && !NON_ACQUISITION_MODALITIES.has(m)))].sort();
  const codes: Code[] = modalities.map((m) => ({ code: m, scheme: 'DCM' }));
  if (codes.length === 0) codes.push(RSNA_IMAGE_SHARE.eventCode);
  return [...codes, ...(input.anatomicRegions ?? [])];
}

export function buildManifestMetadata(input: ManifestMetadataInput): XdsMetadata {
  const sourcePatientId = formatPatientId(input.sitePatientId, input.sitePatientIdAuthority);
  const referenceIdList = [
    ...(input.accessionNumber ? [accessionReferenceId(input.accessionNumber, input.accessionIssuer)] : []),
    formatReferenceId(input.studyInstanceUid, undefined, STUDY_UID_REFERENCE_ID_TYPE),
  ];
  const common = {
    patientId: input.registryPatientId,
    objectType: 'stable' as const,
    sourcePatientId,
    sourcePatientInfo: [], // the clearinghouse keeps no demographics
    confidentialityCodes: [RSNA_IMAGE_SHARE.confidentialityCode],
    healthcareFacilityTypeCode: RSNA_IMAGE_SHARE.healthcareFacilityTypeCode,
    practiceSettingCode: RSNA_IMAGE_SHARE.practiceSettingCode,
    typeCode: RSNA_IMAGE_SHARE.typeCode,
    eventCodes: eventCodesOf(input),
    creationTime: formatXdsTimestamp(input.creationTime),
    ...(input.studyDate && /^\d{8}$/.test(input.studyDate) ? { serviceStartTime: input.studyDate } : {}),
    languageCode: RSNA_IMAGE_SHARE.languageCode,
    authors: [],
    referenceIdList,
    extraSlots: [],
  };
  const title = (input.studyDescription ?? '').slice(0, 128) || 'Imaging exam';
  const manifest: DocumentEntry = {
    ...common,
    entryUUID: MANIFEST_ENTRY_ID,
    uniqueId: input.kosSopInstanceUid,
    mimeType: DICOM_MIME_TYPE,
    classCode: RSNA_IMAGE_SHARE.imagesClassCode,
    formatCode: KOS_FORMAT_CODE,
    title,
  };
  const entries: DocumentEntry[] = [manifest];
  if (input.report?.pdf) {
    entries.push({
      ...common,
      entryUUID: REPORT_PDF_ENTRY_ID,
      uniqueId: input.report.pdf.uniqueId,
      mimeType: 'application/pdf',
      classCode: RSNA_IMAGE_SHARE.reportsClassCode,
      formatCode: RSNA_IMAGE_SHARE.pdfReportFormatCode,
      title: `Report: ${title}`.slice(0, 128),
    });
  }
  if (input.report?.text) {
    entries.push({
      ...common,
      entryUUID: REPORT_TEXT_ENTRY_ID,
      uniqueId: input.report.text.uniqueId,
      mimeType: 'text/plain',
      classCode: RSNA_IMAGE_SHARE.reportsClassCode,
      formatCode: TEXT_REPORT_FORMAT_CODE,
      title: `Report (text): ${title}`.slice(0, 128),
    });
  }
  const submissionSet: SubmissionSet = {
    entryUUID: SUBMISSION_SET_ID,
    uniqueId: input.submissionSetUniqueId,
    sourceId: input.sourceId,
    patientId: input.registryPatientId,
    submissionTime: formatXdsTimestamp(input.submissionTime),
    contentTypeCode: RSNA_IMAGE_SHARE.contentTypeCode,
    title,
    authors: [],
    intendedRecipients: [],
    extraSlots: [],
  };
  const associations: XdsAssociation[] = entries.map((de, i) => ({
    entryUUID: `HasMember${i + 1}`,
    type: ASSOCIATION_TYPE.hasMember,
    sourceUUID: SUBMISSION_SET_ID,
    targetUUID: de.entryUUID,
    submissionSetStatus: 'Original',
    extraSlots: [],
  }));
  return { submissionSets: [submissionSet], documentEntries: entries, folders: [], associations, objectRefs: [] };
}
