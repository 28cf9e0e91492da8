// Coded values used in audit messages: DICOM (DCM) codes from PS3.16 CID 400-405 and PS3.15 A.5,
// RFC 3881 participant-object ID types, IHE transaction event type codes, and this library's own
// product codes (private coding scheme, see PRODUCT_CODE_SYSTEM).

/** One coded value. In DICOM XML it is csd-code / codeSystemName / originalText. */
export interface AuditCode {
  readonly code: string;
  /** codeSystemName: "DCM", "RFC-3881", "IHE Transactions", an OID ... Absent only in tolerant parses. */
  readonly system?: string;
  /** Human meaning: originalText in DICOM XML, displayName in RFC 3881 XML, display in FHIR. */
  readonly display?: string;
}

export const DCM = 'DCM';
export const RFC3881 = 'RFC-3881';
export const IHE_TRANSACTIONS = 'IHE Transactions';
/**
 * Coding scheme designator for this product's own event type codes. DICOM PS3.16 8.2 reserves
 * designators starting with "99" for private schemes.
 */
export const PRODUCT_CODE_SYSTEM = '99IMGSHR';

function dcm(code: string, display: string): AuditCode {
  return Object.freeze({ code, system: DCM, display });
}

/** EventID values, DICOM CID 400. */
export const EventIds = Object.freeze({
  applicationActivity: dcm('110100', 'Application Activity'),
  auditLogUsed: dcm('110101', 'Audit Log Used'),
  beginTransferringDicomInstances: dcm('110102', 'Begin Transferring DICOM Instances'),
  dicomInstancesAccessed: dcm('110103', 'DICOM Instances Accessed'),
  dicomInstancesTransferred: dcm('110104', 'DICOM Instances Transferred'),
  dicomStudyDeleted: dcm('110105', 'DICOM Study Deleted'),
  export: dcm('110106', 'Export'),
  import: dcm('110107', 'Import'),
  networkEntry: dcm('110108', 'Network Entry'),
  orderRecord: dcm('110109', 'Order Record'),
  patientRecord: dcm('110110', 'Patient Record'),
  procedureRecord: dcm('110111', 'Procedure Record'),
  query: dcm('110112', 'Query'),
  securityAlert: dcm('110113', 'Security Alert'),
  userAuthentication: dcm('110114', 'User Authentication'),
});

/** EventTypeCode values, DICOM CID 401 (the ones this library emits or names). */
export const EventTypes = Object.freeze({
  applicationStart: dcm('110120', 'Application Start'),
  applicationStop: dcm('110121', 'Application Stop'),
  login: dcm('110122', 'Login'),
  logout: dcm('110123', 'Logout'),
  attach: dcm('110124', 'Attach'),
  detach: dcm('110125', 'Detach'),
  nodeAuthentication: dcm('110126', 'Node Authentication'),
  emergencyOverrideStarted: dcm('110127', 'Emergency Override Started'),
  networkConfiguration: dcm('110128', 'Network Configuration'),
  securityConfiguration: dcm('110129', 'Security Configuration'),
  hardwareConfiguration: dcm('110130', 'Hardware Configuration'),
  softwareConfiguration: dcm('110131', 'Software Configuration'),
  useOfRestrictedFunction: dcm('110132', 'Use of Restricted Function'),
  auditRecordingStopped: dcm('110133', 'Audit Recording Stopped'),
  auditRecordingStarted: dcm('110134', 'Audit Recording Started'),
  objectSecurityAttributesChanged: dcm('110135', 'Object Security Attributes Changed'),
  securityRolesChanged: dcm('110136', 'Security Roles Changed'),
  userSecurityAttributesChanged: dcm('110137', 'User Security Attributes Changed'),
  emergencyOverrideStopped: dcm('110138', 'Emergency Override Stopped'),
  authenticationDecision: dcm('110143', 'Authentication Decision'),
  authorizationDecision: dcm('110144', 'Authorization Decision'),
  sessionStart: dcm('110145', 'Session start'),
  sessionStop: dcm('110146', 'Session stop'),
  accessControlDecision: dcm('110147', 'Access Control Decision'),
});

/** RoleIDCode values, DICOM CID 402. */
export const RoleIds = Object.freeze({
  application: dcm('110150', 'Application'),
  applicationLauncher: dcm('110151', 'Application Launcher'),
  destination: dcm('110152', 'Destination Role ID'),
  source: dcm('110153', 'Source Role ID'),
  destinationMedia: dcm('110154', 'Destination Media'),
  sourceMedia: dcm('110155', 'Source Media'),
});

/** MediaType values, DICOM CID 405 (subset). */
export const MediaTypes = Object.freeze({
  usbDiskEmulation: dcm('110030', 'USB Disk Emulation'),
  email: dcm('110031', 'Email'),
  cd: dcm('110032', 'CD'),
  dvd: dcm('110033', 'DVD'),
  uri: dcm('110037', 'URI'),
  film: dcm('110010', 'Film'),
  paper: dcm('110038', 'Paper'),
});

function rfc3881(code: string, display: string): AuditCode {
  return Object.freeze({ code, system: RFC3881, display });
}

/** ParticipantObjectIDTypeCode values: RFC 3881 5.5.4 and DICOM CID 404. */
export const ObjectIdTypes = Object.freeze({
  medicalRecordNumber: rfc3881('1', 'Medical Record Number'),
  patientNumber: rfc3881('2', 'Patient Number'),
  encounterNumber: rfc3881('3', 'Encounter Number'),
  reportName: rfc3881('8', 'Report Name'),
  reportNumber: rfc3881('9', 'Report Number'),
  searchCriteria: rfc3881('10', 'Search Criteria'),
  userIdentifier: rfc3881('11', 'User Identifier'),
  uri: rfc3881('12', 'URI'),
  studyInstanceUid: dcm('110180', 'Study Instance UID'),
  sopClassUid: dcm('110181', 'SOP Class UID'),
  nodeId: dcm('110182', 'Node ID'),
  /** IHE ITI TF-2 3.41.4.1.4 (and IPF XdsPHIImportBuilder): the XDS submission set. */
  submissionSet: Object.freeze({
    code: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
    system: 'IHE XDS Metadata',
    display: 'submission set classificationNode',
  }) as AuditCode,
  /** Product scheme: a share (link) identified by the hash of its token, never the token. */
  share: Object.freeze({ code: 'share', system: PRODUCT_CODE_SYSTEM, display: 'Share (token hash)' }) as AuditCode,
  /** Product scheme: a claim code identified by its hash. */
  claimCode: Object.freeze({ code: 'claim-code', system: PRODUCT_CODE_SYSTEM, display: 'Claim code (hash)' }) as AuditCode,
});

function ihe(code: string, display: string): AuditCode {
  return Object.freeze({ code, system: IHE_TRANSACTIONS, display });
}

/**
 * EventTypeCode values for IHE transactions, ("ITI-41", "IHE Transactions", name) as IHE ITI TF-2
 * and RAD TF-3 define them (IPF XdsEventTypeCode uses the same triples). FHIR form: system
 * "urn:ihe:event-type-code" (IHE BALP).
 */
export const IheTransactions = Object.freeze({
  'ITI-8': ihe('ITI-8', 'Patient Identity Feed'),
  'ITI-18': ihe('ITI-18', 'Registry Stored Query'),
  'ITI-20': ihe('ITI-20', 'Record Audit Event'),
  'ITI-41': ihe('ITI-41', 'Provide and Register Document Set-b'),
  'ITI-42': ihe('ITI-42', 'Register Document Set-b'),
  'ITI-43': ihe('ITI-43', 'Retrieve Document Set'),
  'RAD-8': ihe('RAD-8', 'Modality Images Stored'),
  'RAD-14': ihe('RAD-14', 'Query Images'),
  'RAD-16': ihe('RAD-16', 'Retrieve Images'),
  'RAD-55': ihe('RAD-55', 'WADO Retrieve'),
  'RAD-68': ihe('RAD-68', 'Provide and Register Imaging Document Set - MTOM/XOP'),
  'RAD-69': ihe('RAD-69', 'Retrieve Imaging Document Set'),
  // RAD-107 and RAD-108: the IHE RAD TF numbers for WADO-RS Retrieve (XDS-I.b WADO-RS option, WIA
  // profile) and Store Instances over the Web (STOW-RS, WIC profile), with the transaction names of
  // the IHE RAD TF transaction list. Source: IHE RAD TF-2 transaction index; the names were not
  // checked against the latest TF text here. Receivers match on the code; the name is informative.
  'RAD-107': ihe('RAD-107', 'WADO-RS Retrieve'),
  'RAD-108': ihe('RAD-108', 'Store Instances over the Web'),
  // RAD-129 QIDO-RS Query (IHE RAD WIA profile), same source and caveat as above.
  'RAD-129': ihe('RAD-129', 'QIDO-RS Query'),
});
export type IheTransactionId = keyof typeof IheTransactions;

function product(code: string, display: string): AuditCode {
  return Object.freeze({ code, system: PRODUCT_CODE_SYSTEM, display });
}

/** This product's own EventTypeCodes, sent next to the DICOM EventID that fits best. */
export const ProductEventTypes = Object.freeze({
  shareCreated: product('share-created', 'Share created'),
  shareUsed: product('share-used', 'Share used'),
  shareRevoked: product('share-revoked', 'Share revoked'),
  claimAttempt: product('claim-attempt', 'Exam claim attempt'),
  download: product('download', 'Download'),
  userAccountChanged: product('user-account-changed', 'User account changed'),
});

/** Code system names as written in DICOM XML -> FHIR code system URIs. */
export const FHIR_SYSTEM_BY_CODE_SYSTEM_NAME: Readonly<Record<string, string>> = Object.freeze({
  [DCM]: 'http://dicom.nema.org/resources/ontology/DCM',
  [IHE_TRANSACTIONS]: 'urn:ihe:event-type-code',
  [RFC3881]: 'urn:ietf:rfc:3881',
  'IHE XDS Metadata': 'urn:ihe:iti:xds:2013:metadata',
  [PRODUCT_CODE_SYSTEM]: 'urn:imageshare:audit:codes',
});

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** The FHIR system URI for a codeSystemName; OIDs become urn:oid:, URIs pass through. */
export function fhirSystemFor(codeSystemName: string | undefined): string | undefined {
  if (codeSystemName === undefined || codeSystemName === '') return undefined;
  const known = FHIR_SYSTEM_BY_CODE_SYSTEM_NAME[codeSystemName];
  if (known) return known;
  if (OID.test(codeSystemName)) return `urn:oid:${codeSystemName}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(codeSystemName)) return codeSystemName;
  return `urn:imageshare:code-system:${encodeURIComponent(codeSystemName)}`;
}
