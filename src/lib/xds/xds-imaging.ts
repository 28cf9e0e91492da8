// XDS-I.b specifics (ihe-protocols.md §7.2) and the coded values of RSNA Image Share (§10).
import { formatReferenceId, parseReferenceId } from './hl7-datatypes.ts';
import type { Code, DocumentEntry } from './metadata.ts';
import { registryError, type RegistryError } from './registry-response.ts';
import { ACCESSION_REFERENCE_ID_TYPE, DICOM_MIME_TYPE, DICOM_UID_REGISTRY_SCHEME, KOS_SOP_CLASS_UID } from './vocabulary.ts';

/** formatCode of a KOS imaging manifest (Gazelle RAD68-022). */
export const KOS_FORMAT_CODE: Code = Object.freeze({ code: KOS_SOP_CLASS_UID, scheme: DICOM_UID_REGISTRY_SCHEME, display: 'Key Object Selection Document' });

/** formatCode of any DICOM object: its SOP Class UID in the DICOM UID registry scheme (RSNA edge images). */
export function dicomFormatCode(sopClassUid: string, display?: string): Code {
  return display === undefined ? { code: sopClassUid, scheme: DICOM_UID_REGISTRY_SCHEME } : { code: sopClassUid, scheme: DICOM_UID_REGISTRY_SCHEME, display };
}

/** DICOM UID syntax (PS3.5 §9.1): numeric components without leading zeros, at most 64 characters. */
export function isDicomUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*$/.test(value);
}

/** referenceIdList entry of an accession number (CXi, type urn:ihe:iti:xds:2013:accession). */
export function accessionReferenceId(accessionNumber: string, issuerOid?: string): string {
  return formatReferenceId(accessionNumber, issuerOid, ACCESSION_REFERENCE_ID_TYPE);
}

export function accessionNumbersOf(de: Pick<DocumentEntry, 'referenceIdList'>): string[] {
  return de.referenceIdList.map(parseReferenceId).filter((r) => r.type === ACCESSION_REFERENCE_ID_TYPE).map((r) => r.value);
}

export function isImagingManifest(de: Pick<DocumentEntry, 'formatCode'>): boolean {
  return de.formatCode?.code === KOS_FORMAT_CODE.code && de.formatCode.scheme === KOS_FORMAT_CODE.scheme;
}

/**
 * A-IDS-02: metadata of a KOS manifest DocumentEntry (RAD-68): mimeType application/dicom,
 * formatCode KOS / DICOM UID registry, stable entry, uniqueId = the KOS SOP Instance UID,
 * and an accession number in referenceIdList.
 */
export function validateImagingManifestEntry(de: DocumentEntry, kosSopInstanceUid?: string): RegistryError[] {
  const errors: RegistryError[] = [];
  const add = (message: string): void => {
    errors.push(registryError('XDSRegistryMetadataError', message, de.entryUUID));
  };
  if (de.mimeType !== DICOM_MIME_TYPE) add(`a KOS manifest has mimeType ${DICOM_MIME_TYPE}, not '${de.mimeType}'`);
  if (!isImagingManifest(de)) add(`a KOS manifest has formatCode ${KOS_FORMAT_CODE.code} in scheme ${KOS_FORMAT_CODE.scheme}`);
  if (de.objectType !== 'stable') add('a KOS manifest is a stable DocumentEntry');
  if (!isDicomUid(de.uniqueId)) add(`uniqueId '${de.uniqueId.slice(0, 80)}' is not a DICOM UID (it must be the KOS SOP Instance UID)`);
  else if (kosSopInstanceUid !== undefined && de.uniqueId !== kosSopInstanceUid) add(`uniqueId ${de.uniqueId} differs from the KOS SOP Instance UID ${kosSopInstanceUid}`);
  if (accessionNumbersOf(de).length === 0) add(`referenceIdList has no accession number (${ACCESSION_REFERENCE_ID_TYPE})`);
  return errors;
}

/**
 * Coded values the RSNA Image Share Edge Server v5 sends (ihe-protocols.md §10, from its
 * Constants.java / Iti41.java). REPORTS uses the IHE classCode scheme like IMAGES.
 */
export const RSNA_IMAGE_SHARE = Object.freeze({
  imagesClassCode: { code: 'IMAGES', scheme: '1.3.6.1.4.1.19376.1.2.6.1' } satisfies Code,
  reportsClassCode: { code: 'REPORTS', scheme: '1.3.6.1.4.1.19376.1.2.6.1' } satisfies Code,
  pdfReportFormatCode: { code: 'urn:ihe:rad:PDF', scheme: '1.3.6.1.4.1.19376.1.2.3' } satisfies Code,
  confidentialityCode: { code: 'V', scheme: '2.16.840.1.113883.5.25' } satisfies Code,
  healthcareFacilityTypeCode: { code: '33022008', scheme: '2.16.840.1.113883.3.88.12.80.67' } satisfies Code,
  practiceSettingCode: { code: 'R-3027B', scheme: '2.16.840.1.113883.6.96', display: 'Radiology' } satisfies Code,
  typeCode: { code: 'Imaging Exam', scheme: '1.3.6.1.4.1.19376.3.840.1.1.2' } satisfies Code,
  contentTypeCode: { code: 'Imaging Exam', scheme: '1.3.6.1.4.1.19376.3.840.1.1.3' } satisfies Code,
  eventCode: { code: 'OT', scheme: 'DCM' } satisfies Code,
  languageCode: 'en-US',
  /** Root OID of the RSNA ISN patient assigning authority. */
  patientAssigningAuthorityRoot: '1.3.6.1.4.1.19376.3.840.1.1.1',
  /** Root OID under which each site's sourceId is allocated. */
  sourceIdRoot: '1.3.6.1.4.1.19376.3.840.1.1.4',
  /** Root OID of each site's accession-number assigning authority. */
  accessionAssigningAuthorityRoot: '1.3.6.1.4.1.19376.3.840.1.1.5',
  authorInstitution: 'RSNA ISN',
});
