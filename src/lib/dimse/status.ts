// DIMSE status codes (PS3.7 Annex C and the service-specific tables of PS3.4) with names,
// and their classification into success / warning / failure / pending / cancel.

export const Status = {
  Success: 0x0000,
  // Warnings
  AttributeListError: 0x0107,
  AttributeValueOutOfRange: 0x0116,
  CoercionOfDataElements: 0xb000, // C-STORE; for C-MOVE/C-GET: sub-operations completed, one or more failures
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSopClassWarning: 0xb007,
  // Failures (general, PS3.7 C.4 / C.5)
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchSopInstance: 0x0112,
  InvalidObjectInstance: 0x0117,
  NoSuchSopClass: 0x0118,
  ClassInstanceConflict: 0x0119,
  SopClassNotSupported: 0x0122,
  NotAuthorized: 0x0124,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
  // Failures (service specific, PS3.4)
  OutOfResources: 0xa700,
  OutOfResourcesUnableToCalculateMatches: 0xa701,
  OutOfResourcesUnableToPerformSuboperations: 0xa702,
  MoveDestinationUnknown: 0xa801,
  DataSetDoesNotMatchSopClass: 0xa900,
  UnableToProcess: 0xc000,
  // Cancel and pending
  Cancel: 0xfe00,
  Pending: 0xff00,
  PendingWarning: 0xff01,
} as const;

export type StatusCategory = 'success' | 'warning' | 'failure' | 'pending' | 'cancel';

export function statusCategory(status: number): StatusCategory {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status >= 0xb000 && status <= 0xbfff)) return 'warning';
  return 'failure';
}

const statusNames = new Map<number, string>([
  [0x0000, 'Success'],
  [0x0001, 'Warning: requested optional attributes are not supported'],
  [0x0107, 'Warning: attribute list error'],
  [0x0116, 'Warning: attribute value out of range'],
  [0xb000, 'Warning: coercion of data elements / sub-operations complete with failures'],
  [0xb006, 'Warning: elements discarded'],
  [0xb007, 'Warning: data set does not match SOP class'],
  [0x0110, 'Processing failure'],
  [0x0111, 'Duplicate SOP instance'],
  [0x0112, 'No such SOP instance'],
  [0x0117, 'Invalid object instance'],
  [0x0118, 'No such SOP class'],
  [0x0119, 'Class-instance conflict'],
  [0x0122, 'Refused: SOP class not supported'],
  [0x0124, 'Refused: not authorized'],
  [0x0210, 'Duplicate invocation'],
  [0x0211, 'Unrecognized operation'],
  [0x0212, 'Mistyped argument'],
  [0x0213, 'Resource limitation'],
  [0xa700, 'Refused: out of resources'],
  [0xa701, 'Refused: out of resources, unable to calculate number of matches'],
  [0xa702, 'Refused: out of resources, unable to perform sub-operations'],
  [0xa801, 'Refused: move destination unknown'],
  [0xa900, 'Error: data set does not match SOP class'],
  [0xfe00, 'Cancel'],
  [0xff00, 'Pending'],
  [0xff01, 'Pending: optional keys not supported'],
]);

/** A readable name for a status code; ranges (Axxx, Cxxx) fall back to their family. */
export function statusName(status: number): string {
  const exact = statusNames.get(status);
  if (exact) return exact;
  if (status >= 0xa700 && status <= 0xa7ff) return 'Refused: out of resources';
  if (status >= 0xa900 && status <= 0xa9ff) return 'Error: data set does not match SOP class';
  if (status >= 0xc000 && status <= 0xcfff) return 'Error: cannot understand / unable to process';
  if (status >= 0xb000 && status <= 0xbfff) return 'Warning';
  return `Unknown status 0x${status.toString(16).padStart(4, '0')}`;
}
