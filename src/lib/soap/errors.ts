// Typed errors of the SOAP layer. Every error knows which SOAP 1.2 fault it becomes
// (env:Code value, subcodes, HTTP status), so a route can answer any failure with
// `renderSoapFault(err)` and never leaks a stack trace or crashes.
import { WSA_NS, type QName } from './namespaces.ts';

/** The five env:Code values of SOAP 1.2 (Part 1 §5.4.6). */
export type SoapFaultCodeValue = 'VersionMismatch' | 'MustUnderstand' | 'DataEncodingUnknown' | 'Sender' | 'Receiver';

export type SoapErrorCode =
  // XML well-formedness and the security rules of safe-xml.ts
  | 'XML_MALFORMED'
  | 'XML_DTD_FORBIDDEN'
  | 'XML_ENTITY_FORBIDDEN'
  | 'XML_LIMIT_EXCEEDED'
  | 'XML_ENCODING'
  | 'XML_NAMESPACE'
  | 'XML_WRITE_INVALID_CHAR'
  // SOAP envelope structure and header processing
  | 'SOAP_VERSION_MISMATCH'
  | 'SOAP_MUST_UNDERSTAND'
  | 'SOAP_INVALID_ENVELOPE'
  // WS-Addressing (fault subcodes of the WS-Addressing 1.0 SOAP binding)
  | 'WSA_HEADER_REQUIRED'
  | 'WSA_INVALID_HEADER'
  | 'WSA_INVALID_CARDINALITY'
  | 'WSA_ACTION_MISMATCH'
  | 'WSA_ACTION_NOT_SUPPORTED'
  // HTTP framing
  | 'HTTP_UNSUPPORTED_MEDIA_TYPE'
  | 'HTTP_BAD_CONTENT_TYPE'
  | 'HTTP_PAYLOAD_TOO_LARGE'
  | 'HTTP_ABORTED'
  // MTOM / XOP / multipart
  | 'MTOM_MALFORMED'
  | 'MTOM_TRUNCATED'
  | 'MTOM_ROOT_NOT_FOUND'
  | 'MTOM_LIMIT_EXCEEDED'
  | 'MTOM_UNRESOLVED_INCLUDE'
  | 'MTOM_DUPLICATE_CONTENT_ID'
  | 'MTOM_UNSUPPORTED_TRANSFER_ENCODING'
  | 'BINARY_INVALID_BASE64'
  // client side
  | 'SOAP_FAULT_RECEIVED'
  | 'SOAP_HTTP_ERROR'
  | 'SOAP_TIMEOUT';

export interface SoapErrorOptions {
  faultCode?: SoapFaultCodeValue;
  /** env:Subcode chain, outermost first (e.g. wsa:InvalidAddressingHeader, wsa:InvalidCardinality). */
  subcodes?: readonly QName[];
  /** Overrides the HTTP status derived from the fault code (SOAP 1.2 Part 2 §7.5.1.2). */
  httpStatus?: number;
  /** Pre-serialised, namespace-complete XML placed inside env:Detail. */
  detailXml?: string;
  cause?: unknown;
}

export class SoapError extends Error {
  readonly code: SoapErrorCode;
  readonly faultCode: SoapFaultCodeValue;
  readonly subcodes: readonly QName[];
  readonly httpStatus: number;
  readonly detailXml: string | undefined;

  constructor(code: SoapErrorCode, message: string, options: SoapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.faultCode = options.faultCode ?? 'Sender';
    this.subcodes = options.subcodes ?? [];
    // SOAP 1.2 HTTP binding: env:Sender → 400, every other fault → 500.
    this.httpStatus = options.httpStatus ?? (this.faultCode === 'Sender' ? 400 : 500);
    this.detailXml = options.detailXml;
  }
}

/** Where in the XML text a parse error was found (1-based). */
export interface XmlPosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

export type XmlErrorCode = Extract<
  SoapErrorCode,
  'XML_MALFORMED' | 'XML_DTD_FORBIDDEN' | 'XML_ENTITY_FORBIDDEN' | 'XML_LIMIT_EXCEEDED' | 'XML_ENCODING' | 'XML_NAMESPACE'
>;

/** Input rejected by the safe XML reader. Always the sender's fault. */
export class XmlParseError extends SoapError {
  readonly position: XmlPosition | undefined;
  /** `payloadTooLarge` marks the byte-size limit, answered with HTTP 413 instead of 400. */
  constructor(code: XmlErrorCode, message: string, position?: XmlPosition, payloadTooLarge = false) {
    super(code, position ? `${message} (line ${position.line}, column ${position.column})` : message, {
      faultCode: 'Sender',
      httpStatus: payloadTooLarge ? 413 : undefined,
    });
    this.position = position;
  }
}

/** The root element is not a SOAP 1.2 env:Envelope. */
export class VersionMismatchError extends SoapError {
  /** Namespace of the element received instead, e.g. the SOAP 1.1 namespace. */
  readonly receivedNamespace: string;
  constructor(receivedNamespace: string, localName: string) {
    super(
      'SOAP_VERSION_MISMATCH',
      `expected a SOAP 1.2 Envelope, got {${receivedNamespace}}${localName}`,
      { faultCode: 'VersionMismatch' },
    );
    this.receivedNamespace = receivedNamespace;
  }
}

/** One or more targeted header blocks with mustUnderstand="true" that this node does not process. */
export class MustUnderstandError extends SoapError {
  readonly notUnderstood: readonly QName[];
  constructor(notUnderstood: readonly QName[]) {
    super(
      'SOAP_MUST_UNDERSTAND',
      `header block(s) not understood: ${notUnderstood.map((q) => `{${q.ns}}${q.local}`).join(', ')}`,
      { faultCode: 'MustUnderstand' },
    );
    this.notUnderstood = notUnderstood;
  }
}

const WSA_SUBCODE = {
  WSA_HEADER_REQUIRED: [{ ns: WSA_NS, local: 'MessageAddressingHeaderRequired' }],
  WSA_INVALID_HEADER: [{ ns: WSA_NS, local: 'InvalidAddressingHeader' }],
  WSA_INVALID_CARDINALITY: [
    { ns: WSA_NS, local: 'InvalidAddressingHeader' },
    { ns: WSA_NS, local: 'InvalidCardinality' },
  ],
  WSA_ACTION_MISMATCH: [
    { ns: WSA_NS, local: 'InvalidAddressingHeader' },
    { ns: WSA_NS, local: 'ActionMismatch' },
  ],
  WSA_ACTION_NOT_SUPPORTED: [{ ns: WSA_NS, local: 'ActionNotSupported' }],
} as const;

export type AddressingErrorCode = keyof typeof WSA_SUBCODE;

/** A WS-Addressing fault (WS-Addressing 1.0 SOAP Binding §6.4). */
export class AddressingError extends SoapError {
  /** The header at fault (wsa:ProblemHeaderQName), if any. */
  readonly problemHeader: QName | undefined;
  /** The unsupported action (wsa:ProblemAction), if any. */
  readonly problemAction: string | undefined;
  constructor(code: AddressingErrorCode, message: string, problem: { header?: QName; action?: string } = {}) {
    super(code, message, { faultCode: 'Sender', subcodes: WSA_SUBCODE[code] });
    this.problemHeader = problem.header;
    this.problemAction = problem.action;
  }
}

/** A multipart/related (MTOM/XOP) package that cannot be read. */
export class MtomError extends SoapError {
  constructor(
    code: Extract<
      SoapErrorCode,
      | 'MTOM_MALFORMED'
      | 'MTOM_TRUNCATED'
      | 'MTOM_ROOT_NOT_FOUND'
      | 'MTOM_LIMIT_EXCEEDED'
      | 'MTOM_UNRESOLVED_INCLUDE'
      | 'MTOM_DUPLICATE_CONTENT_ID'
      | 'MTOM_UNSUPPORTED_TRANSFER_ENCODING'
      | 'BINARY_INVALID_BASE64'
    >,
    message: string,
    cause?: unknown,
  ) {
    super(code, message, { faultCode: 'Sender', httpStatus: code === 'MTOM_LIMIT_EXCEEDED' ? 413 : undefined, cause });
  }
}

/** HTTP-level framing problem: wrong media type, malformed Content-Type, body too large, aborted upload. */
export class SoapHttpError extends SoapError {
  constructor(
    code: Extract<SoapErrorCode, 'HTTP_UNSUPPORTED_MEDIA_TYPE' | 'HTTP_BAD_CONTENT_TYPE' | 'HTTP_PAYLOAD_TOO_LARGE' | 'HTTP_ABORTED'>,
    message: string,
    cause?: unknown,
  ) {
    const httpStatus = code === 'HTTP_UNSUPPORTED_MEDIA_TYPE' ? 415 : code === 'HTTP_PAYLOAD_TOO_LARGE' ? 413 : 400;
    super(code, message, { faultCode: 'Sender', httpStatus, cause });
  }
}

/** What a peer answered as a SOAP fault (client side). */
export interface ReceivedSoapFault {
  readonly code: SoapFaultCodeValue | string;
  readonly subcodes: readonly QName[];
  readonly reason: string;
  readonly detailText: string | undefined;
}

/** The peer answered with a SOAP fault (thrown by the SOAP client). */
export class SoapFaultReceivedError extends SoapError {
  readonly fault: ReceivedSoapFault;
  readonly responseStatus: number;
  constructor(fault: ReceivedSoapFault, responseStatus: number) {
    super('SOAP_FAULT_RECEIVED', `SOAP fault ${fault.code}: ${fault.reason}`, { faultCode: 'Receiver' });
    this.fault = fault;
    this.responseStatus = responseStatus;
  }
}

export function isSoapError(err: unknown): err is SoapError {
  return err instanceof SoapError;
}
