// Public API of the DICOM upper layer + DIMSE library. Product-agnostic: no imports from the
// application (roles, storage, config).

export { DicomServer, type DicomServerOptions, type DicomServerEvents, type CloseOptions } from './server.ts';
export type {
  ServerAssociation,
  DicomServerHandlers,
  DimseRequestInfo,
  CStoreRequest,
  QueryRequest,
  CMoveRequest,
  DimseResult,
  SubOperationCounts,
} from './server-association.ts';
export {
  DicomClient,
  type DicomClientOptions,
  type PresentationContextRequest,
  type DimseResponse,
  type StoreOptions,
  type StoreDataSetParams,
  type FindRequest,
  type FindSummary,
  type MoveRequest,
  type MoveProgress,
  type MoveResult,
} from './client.ts';
export {
  type AssociationRequestInfo,
  type AssociationDecision,
  type AcceptAssociation,
  type RejectAssociation,
  type ContextNegotiationPolicy,
  type UidFilter,
  Reject,
  acceptAssociation,
  negotiatePresentationContexts,
} from './negotiation.ts';
export { type AcceptedPresentationContext, type AssociationLimits, DEFAULT_MAX_PDU_LENGTH } from './association.ts';
export {
  type ControlPdu,
  type AssociateRqPdu,
  type AssociateAcPdu,
  type AssociateRjPdu,
  type AbortPdu,
  type Pdv,
  type ProposedPresentationContext,
  type PresentationContextAnswer,
  type RoleSelection,
  type ExtendedNegotiation,
  type UserIdentity,
  type UserInformation,
  type PduDecoderSink,
  type PduDecoderLimits,
  PduType,
  PduDecoder,
  PresentationContextResult,
  RejectResult,
  RejectSource,
  RejectReason,
  encodeAssociateRq,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeReleaseRq,
  encodeReleaseRp,
  encodeAbort,
  encodePDataTf,
  encodeControlPdu,
  decodeControlPdu,
} from './pdu.ts';
export {
  type CommandSet,
  CommandField,
  Priority,
  NO_DATA_SET,
  commandFieldName,
  encodeCommandSet,
  decodeCommandSet,
  createCEchoRequest,
  createCStoreRequest,
  createCFindRequest,
  createCMoveRequest,
  createCGetRequest,
  createCCancelRequest,
  createResponse,
} from './dimse-command.ts';
export { type DataElementInput, type DataElementValue, type DataSetRecord, type DataSetValue, type Vr, encodeDataSet, decodeDataSet } from './dataset-codec.ts';
export { type Part10Info, readPart10Info } from './part10.ts';
export { Status, type StatusCategory, statusCategory, statusName } from './status.ts';
export {
  DICOM_APPLICATION_CONTEXT,
  DEFAULT_IMPLEMENTATION_CLASS_UID,
  DEFAULT_IMPLEMENTATION_VERSION_NAME,
  TransferSyntax,
  SopClass,
  transferSyntaxEncoding,
  isValidUid,
} from './uids.ts';
export { type DimseLogger, type LogFields, silentLogger } from './logger.ts';
export {
  type DimseErrorCode,
  DimseError,
  PduDecodeError,
  PduTooLargeError,
  UnexpectedPduError,
  CommandSetError,
  DataSetCodecError,
  Part10Error,
  AssociationRejectedError,
  AssociationAbortedError,
  AssociationClosedError,
  DimseTimeoutError,
  NoPresentationContextError,
  DimseStatusError,
  InvalidArgumentError,
  ServerStateError,
  AbortSource,
  AbortReason,
} from './errors.ts';
