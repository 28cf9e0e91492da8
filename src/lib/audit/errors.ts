// Typed errors of the audit library. Each carries a stable `code` that callers can switch on.

export class AuditError extends Error {
  override readonly name: string = 'AuditError';
}

/** Why an incoming audit message (syslog frame or XML) was refused. */
export type AuditRejectCode =
  | 'too-large'
  | 'bad-framing'
  | 'bad-syslog'
  | 'invalid-utf8'
  | 'unsupported-encoding'
  | 'dtd-forbidden'
  | 'not-well-formed'
  | 'not-audit-message'
  | 'missing-event-identification'
  | 'missing-active-participant'
  | 'missing-audit-source'
  | 'invalid-field'
  | 'store-failed'
  | 'tls-error';

export class AuditParseError extends AuditError {
  override readonly name = 'AuditParseError';
  constructor(
    readonly code: AuditRejectCode,
    message: string,
  ) {
    super(message);
  }
}

/** A builder was given data that cannot make a valid message (e.g. an empty mandatory ID). */
export class AuditBuildError extends AuditError {
  override readonly name = 'AuditBuildError';
}

export type AuditTransportErrorCode = 'closed' | 'datagram-too-large' | 'message-too-large' | 'spool-full' | 'spool-locked' | 'connect-failed';

export class AuditTransportError extends AuditError {
  override readonly name = 'AuditTransportError';
  constructor(
    readonly code: AuditTransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
