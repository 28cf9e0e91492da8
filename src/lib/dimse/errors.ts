// Typed errors of the DICOM upper layer and DIMSE library. Every error carries a stable `code`
// so callers can branch without parsing messages. Messages never contain patient data: at most
// AE titles, UIDs, status codes and byte counts.

export type DimseErrorCode =
  | 'ERR_DIMSE_PDU_MALFORMED'
  | 'ERR_DIMSE_PDU_TOO_LARGE'
  | 'ERR_DIMSE_PDU_UNEXPECTED'
  | 'ERR_DIMSE_COMMAND_MALFORMED'
  | 'ERR_DIMSE_DATASET_MALFORMED'
  | 'ERR_DIMSE_PART10_MALFORMED'
  | 'ERR_DIMSE_ASSOCIATION_REJECTED'
  | 'ERR_DIMSE_ASSOCIATION_ABORTED'
  | 'ERR_DIMSE_ASSOCIATION_CLOSED'
  | 'ERR_DIMSE_TIMEOUT'
  | 'ERR_DIMSE_NO_PRESENTATION_CONTEXT'
  | 'ERR_DIMSE_STATUS'
  | 'ERR_DIMSE_INVALID_ARGUMENT'
  | 'ERR_DIMSE_SERVER_STATE';

export class DimseError extends Error {
  readonly code: DimseErrorCode;
  constructor(code: DimseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A-ABORT source values (PS3.8 table 9-26). */
export const AbortSource = {
  ServiceUser: 0,
  ServiceProvider: 2,
} as const;

/** A-ABORT reasons when the source is the service provider (PS3.8 table 9-26). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;

/**
 * A received PDU that cannot be accepted. `abortReason` is what we send in the A-ABORT
 * (source 2, service provider) that answers it.
 */
export class PduDecodeError extends DimseError {
  readonly abortReason: number;
  constructor(message: string, abortReason: number = AbortReason.InvalidPduParameterValue, code: DimseErrorCode = 'ERR_DIMSE_PDU_MALFORMED') {
    super(code, message);
    this.abortReason = abortReason;
  }
}

export class PduTooLargeError extends PduDecodeError {
  readonly announcedLength: number;
  readonly limit: number;
  constructor(pduType: number, announcedLength: number, limit: number) {
    super(
      `PDU type 0x${pduType.toString(16).padStart(2, '0')} announces ${announcedLength} bytes, limit is ${limit}`,
      AbortReason.InvalidPduParameterValue,
      'ERR_DIMSE_PDU_TOO_LARGE',
    );
    this.announcedLength = announcedLength;
    this.limit = limit;
  }
}

/** A PDU that is well formed but not allowed in the current association state. */
export class UnexpectedPduError extends PduDecodeError {
  constructor(message: string) {
    super(message, AbortReason.UnexpectedPdu, 'ERR_DIMSE_PDU_UNEXPECTED');
  }
}

export class CommandSetError extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_COMMAND_MALFORMED', message);
  }
}

export class DataSetCodecError extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_DATASET_MALFORMED', message);
  }
}

export class Part10Error extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_PART10_MALFORMED', message);
  }
}

export class AssociationRejectedError extends DimseError {
  readonly result: number;
  readonly source: number;
  readonly reason: number;
  constructor(result: number, source: number, reason: number) {
    super('ERR_DIMSE_ASSOCIATION_REJECTED', `association rejected (result ${result}, source ${source}, reason ${reason})`);
    this.result = result;
    this.source = source;
    this.reason = reason;
  }
}

export class AssociationAbortedError extends DimseError {
  /** PS3.8 abort source (0 service user, 2 service provider). */
  readonly source: number;
  readonly reason: number;
  /** true when this side sent the A-ABORT, false when the peer did. */
  readonly local: boolean;
  constructor(source: number, reason: number, local: boolean, detail?: string) {
    super(
      'ERR_DIMSE_ASSOCIATION_ABORTED',
      `association aborted by ${local ? 'this side' : 'the peer'} (source ${source}, reason ${reason})${detail ? `: ${detail}` : ''}`,
    );
    this.source = source;
    this.reason = reason;
    this.local = local;
  }
}

/** The transport closed without a release or abort (or after one, while something still waited). */
export class AssociationClosedError extends DimseError {
  constructor(message = 'connection closed') {
    super('ERR_DIMSE_ASSOCIATION_CLOSED', message);
  }
}

export class DimseTimeoutError extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_TIMEOUT', message);
  }
}

export class NoPresentationContextError extends DimseError {
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string | undefined;
  constructor(sopClassUid: string, transferSyntaxUid?: string) {
    super(
      'ERR_DIMSE_NO_PRESENTATION_CONTEXT',
      `no accepted presentation context for SOP class ${sopClassUid}${transferSyntaxUid ? ` with transfer syntax ${transferSyntaxUid}` : ''}`,
    );
    this.sopClassUid = sopClassUid;
    this.transferSyntaxUid = transferSyntaxUid;
  }
}

/** A DIMSE operation completed with a failure (or cancel) status. */
export class DimseStatusError extends DimseError {
  readonly status: number;
  readonly errorComment: string | undefined;
  constructor(operation: string, status: number, statusName: string, errorComment?: string) {
    super(
      'ERR_DIMSE_STATUS',
      `${operation} failed with status 0x${status.toString(16).padStart(4, '0')} (${statusName})${errorComment ? `: ${errorComment}` : ''}`,
    );
    this.status = status;
    this.errorComment = errorComment;
  }
}

export class InvalidArgumentError extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_INVALID_ARGUMENT', message);
  }
}

export class ServerStateError extends DimseError {
  constructor(message: string) {
    super('ERR_DIMSE_SERVER_STATE', message);
  }
}
