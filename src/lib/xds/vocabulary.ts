// Fixed identifiers of XDS.b / XDS-I.b / ebRIM 3.0 (ihe-protocols.md §2, §3.1, §5, §7).
// Every value here comes from the Technical Framework tables quoted there.

export const XDSB_NS = 'urn:ihe:iti:xds-b:2007';
export const XDSI_NS = 'urn:ihe:rad:xdsi-b:2009';
export const LCM_NS = 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0';
export const RIM_NS = 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0';
export const RS_NS = 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0';
export const QUERY_NS = 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0';

/** wsa:Action values per transaction (request → response). */
export const XDS_ACTIONS = {
  provideAndRegister: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  provideAndRegisterResponse: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse',
  register: 'urn:ihe:iti:2007:RegisterDocumentSet-b',
  registerResponse: 'urn:ihe:iti:2007:RegisterDocumentSet-bResponse',
  registryStoredQuery: 'urn:ihe:iti:2007:RegistryStoredQuery',
  registryStoredQueryResponse: 'urn:ihe:iti:2007:RegistryStoredQueryResponse',
  retrieveDocumentSet: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  retrieveDocumentSetResponse: 'urn:ihe:iti:2007:RetrieveDocumentSetResponse',
  crossGatewayQuery: 'urn:ihe:iti:2007:CrossGatewayQuery',
  crossGatewayQueryResponse: 'urn:ihe:iti:2007:CrossGatewayQueryResponse',
  crossGatewayRetrieve: 'urn:ihe:iti:2007:CrossGatewayRetrieve',
  crossGatewayRetrieveResponse: 'urn:ihe:iti:2007:CrossGatewayRetrieveResponse',
  retrieveImagingDocumentSet: 'urn:ihe:rad:2009:RetrieveImagingDocumentSet',
  /** RAD-69 answers with the ITI-43 response action (IPF rad69.wsdl, dcm4chee sample). */
  retrieveImagingDocumentSetResponse: 'urn:ihe:iti:2007:RetrieveDocumentSetResponse',
  crossGatewayRetrieveImaging: 'urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSet',
  crossGatewayRetrieveImagingResponse: 'urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSetResponse',
} as const;

export const DOCUMENT_ENTRY_TYPE = {
  stable: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  onDemand: 'urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248',
} as const;

export const CLASSIFICATION_NODE = {
  submissionSet: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  folder: 'urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2',
} as const;

/** classificationScheme UUIDs of coded attributes and authors. */
export const SCHEME = {
  documentEntryAuthor: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
  submissionSetAuthor: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
  classCode: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
  confidentialityCode: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
  eventCodeList: 'urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4',
  formatCode: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
  healthcareFacilityTypeCode: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
  practiceSettingCode: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
  typeCode: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
  contentTypeCode: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
  folderCodeList: 'urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5',
  associationDocumentation: 'urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3',
} as const;

/** identificationScheme UUIDs of ExternalIdentifiers. */
export const IDENTIFICATION_SCHEME = {
  documentEntryPatientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
  documentEntryUniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
  submissionSetPatientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
  submissionSetUniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
  submissionSetSourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
  folderPatientId: 'urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a',
  folderUniqueId: 'urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a',
} as const;

/** Names written into the LocalizedString of each ExternalIdentifier (as NIST and IPF do). */
export const IDENTIFIER_NAME: Readonly<Record<string, string>> = {
  [IDENTIFICATION_SCHEME.documentEntryPatientId]: 'XDSDocumentEntry.patientId',
  [IDENTIFICATION_SCHEME.documentEntryUniqueId]: 'XDSDocumentEntry.uniqueId',
  [IDENTIFICATION_SCHEME.submissionSetPatientId]: 'XDSSubmissionSet.patientId',
  [IDENTIFICATION_SCHEME.submissionSetUniqueId]: 'XDSSubmissionSet.uniqueId',
  [IDENTIFICATION_SCHEME.submissionSetSourceId]: 'XDSSubmissionSet.sourceId',
  [IDENTIFICATION_SCHEME.folderPatientId]: 'XDSFolder.patientId',
  [IDENTIFICATION_SCHEME.folderUniqueId]: 'XDSFolder.uniqueId',
};

export const LIMITED_METADATA = {
  documentEntry: 'urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85',
  submissionSet: 'urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707',
  folder: 'urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03',
} as const;

export const OBJECT_TYPE = {
  classification: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification',
  externalIdentifier: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier',
  registryPackage: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage',
  association: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association',
} as const;

export const ASSOCIATION_TYPE = {
  hasMember: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  replace: 'urn:ihe:iti:2007:AssociationType:RPLC',
  transform: 'urn:ihe:iti:2007:AssociationType:XFRM',
  append: 'urn:ihe:iti:2007:AssociationType:APND',
  transformAndReplace: 'urn:ihe:iti:2007:AssociationType:XFRM_RPLC',
  signs: 'urn:ihe:iti:2007:AssociationType:signs',
  isSnapshotOf: 'urn:ihe:iti:2010:AssociationType:IsSnapshotOf',
} as const;
export const KNOWN_ASSOCIATION_TYPES: ReadonlySet<string> = new Set(Object.values(ASSOCIATION_TYPE));

export const AVAILABILITY_STATUS = {
  approved: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
  deprecated: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated',
} as const;

export const RESPONSE_STATUS = {
  Success: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success',
  Failure: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure',
  PartialSuccess: 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess',
} as const;
export type ResponseStatus = keyof typeof RESPONSE_STATUS;

export const ERROR_SEVERITY = {
  Error: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error',
  Warning: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning',
} as const;
export type ErrorSeverity = keyof typeof ERROR_SEVERITY;

/** Slot names with a fixed meaning. */
export const SLOT = {
  creationTime: 'creationTime',
  languageCode: 'languageCode',
  sourcePatientId: 'sourcePatientId',
  sourcePatientInfo: 'sourcePatientInfo',
  hash: 'hash',
  size: 'size',
  repositoryUniqueId: 'repositoryUniqueId',
  serviceStartTime: 'serviceStartTime',
  serviceStopTime: 'serviceStopTime',
  legalAuthenticator: 'legalAuthenticator',
  uri: 'URI',
  referenceIdList: 'urn:ihe:iti:xds:2013:referenceIdList',
  documentAvailability: 'documentAvailability',
  submissionTime: 'submissionTime',
  intendedRecipient: 'intendedRecipient',
  lastUpdateTime: 'lastUpdateTime',
  codingScheme: 'codingScheme',
  authorPerson: 'authorPerson',
  authorInstitution: 'authorInstitution',
  authorRole: 'authorRole',
  authorSpecialty: 'authorSpecialty',
  authorTelecommunication: 'authorTelecommunication',
  submissionSetStatus: 'SubmissionSetStatus',
  previousVersion: 'PreviousVersion',
  associationPropagation: 'AssociationPropagation',
} as const;

/** Registry Stored Query ids (ITI-18) by name. */
export const STORED_QUERY_ID = {
  FindDocuments: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
  FindDocumentsByReferenceId: 'urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492',
  FindSubmissionSets: 'urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9',
  FindFolders: 'urn:uuid:958f3006-baad-4929-a4de-ff1114824431',
  GetAll: 'urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3',
  GetDocuments: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
  GetFolders: 'urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4',
  GetAssociations: 'urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155',
  GetDocumentsAndAssociations: 'urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a',
  GetSubmissionSets: 'urn:uuid:51224314-5390-4169-9b91-b1980040715a',
  GetSubmissionSetAndContents: 'urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83',
  GetFolderAndContents: 'urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7',
  GetFoldersForDocument: 'urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578',
  GetRelatedDocuments: 'urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6',
} as const;
export type StoredQueryName = keyof typeof STORED_QUERY_ID;

/** Error codes of ITI TF-3 Table 4.2.4.1-2 (plus XCA and MHD ones), as used in RegistryError@errorCode. */
export const XDS_ERROR_CODES = [
  'DocumentQueued',
  'InvalidDocumentContent',
  'PartialAppendContentNotProcessed',
  'PartialFolderContentNotProcessed',
  'PartialReplaceContentNotProcessed',
  'PartialTransformNotProcessed',
  'PartialTransformReplaceNotProcessed',
  'XDSDuplicateUniqueIdInRegistry',
  'XDSExtraMetadataNotSaved',
  'XDSMissingDocument',
  'XDSMissingDocumentMetadata',
  'XDSPatientIdDoesNotMatch',
  'XDSRegistryBusy',
  'XDSRepositoryBusy',
  'XDSRegistryDeprecatedDocumentError',
  'XDSRegistryDuplicateUniqueIdInMessage',
  'XDSRepositoryDuplicateUniqueIdInMessage',
  'XDSRegistryError',
  'XDSRepositoryError',
  'XDSRegistryMetadataError',
  'XDSRepositoryMetadataError',
  'XDSRegistryNotAvailable',
  'XDSRegistryOutOfResources',
  'XDSRepositoryOutOfResources',
  'XDSUnknownPatientId',
  'XDSMetadataUpdateError',
  'XDSPatientIDReconciliationError',
  'XDSMetadataUpdateOperationError',
  'XDSMetadataVersionError',
  'XDSUnknownCommunity',
  'XDSMissingHomeCommunityId',
  'XDSUnavailableCommunity',
  'XDSUnknownStoredQuery',
  'XDSStoredQueryMissingParam',
  'XDSStoredQueryParamNumber',
  'XDSTooManyResults',
  'XDSResultNotSinglePatient',
  'XDSDocumentUniqueIdError',
  'XDSUnknownRepositoryId',
  'XDSNonIdenticalHash',
  'XDSNonIdenticalSize',
  'UnknownRecipient',
  'UnavailableRecipient',
  'FHIRDocumentNotSupported',
] as const;
export type XdsErrorCode = (typeof XDS_ERROR_CODES)[number];

// ---------------------------------------------------------------------------------------------
// XDS-I.b (ihe-protocols.md §7)

export const DICOM_MIME_TYPE = 'application/dicom';
/** Key Object Selection Document Storage SOP Class: the manifest's SOP Class and its formatCode. */
export const KOS_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.59';
/** DICOM UID registry as coding scheme (formatCode of DICOM objects). */
export const DICOM_UID_REGISTRY_SCHEME = '1.2.840.10008.2.6.1';
/** referenceIdList entry type for an accession number (CXi.5). */
export const ACCESSION_REFERENCE_ID_TYPE = 'urn:ihe:iti:xds:2013:accession';
