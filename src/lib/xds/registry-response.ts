// rs:RegistryResponse and rs:RegistryErrorList (ebRS 3.0 as profiled by XDS, ihe-protocols.md §2):
// status Success / Failure / PartialSuccess, RegistryError with errorCode, codeContext,
// severity and location. Also the typed error XDS parsers throw.
import { attribute, childElements, firstChild, type XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { ERROR_SEVERITY, RESPONSE_STATUS, RS_NS, type ErrorSeverity, type ResponseStatus, type XdsErrorCode } from './vocabulary.ts';

export interface RegistryError {
  /** One of XDS_ERROR_CODES when we produce it; any string when read from a peer. */
  readonly errorCode: XdsErrorCode | (string & {});
  /** Human-readable explanation (never empty, XDS requires it). */
  readonly codeContext: string;
  readonly severity: ErrorSeverity;
  /** Where the problem is: an object id, a uniqueId, a DocumentUniqueId. */
  readonly location?: string;
}

export function registryError(errorCode: XdsErrorCode, codeContext: string, location?: string, severity: ErrorSeverity = 'Error'): RegistryError {
  return location === undefined ? { errorCode, codeContext, severity } : { errorCode, codeContext, severity, location };
}

/** A request that cannot be processed; carries the RegistryErrors to answer with. */
export class XdsError extends Error {
  readonly code: XdsErrorCode;
  readonly registryErrors: readonly RegistryError[];
  constructor(errors: readonly RegistryError[] | RegistryError) {
    const list = Array.isArray(errors) ? (errors as readonly RegistryError[]) : [errors as RegistryError];
    const first = list[0];
    super(first ? `${first.errorCode}: ${first.codeContext}` : 'XDS request failed');
    this.name = 'XdsError';
    this.code = (first?.errorCode as XdsErrorCode | undefined) ?? 'XDSRegistryError';
    this.registryErrors = list;
  }
}

/**
 * The status that matches a list of errors (NIST RegistryResponseValidator): no Error-severity
 * entry → Success; otherwise Failure, or PartialSuccess when `someSucceeded` (query and
 * retrieve responses only).
 */
export function statusFor(errors: readonly RegistryError[], someSucceeded = false): ResponseStatus {
  if (!errors.some((e) => e.severity === 'Error')) return 'Success';
  return someSucceeded ? 'PartialSuccess' : 'Failure';
}

export function writeRegistryErrorList(w: XmlWriter, errors: readonly RegistryError[], prefix = 'rs'): void {
  if (errors.length === 0) return;
  w.start(`${prefix}:RegistryErrorList`, { highestSeverity: errors.some((e) => e.severity === 'Error') ? ERROR_SEVERITY.Error : ERROR_SEVERITY.Warning });
  for (const e of errors) {
    w.leaf(`${prefix}:RegistryError`, {
      codeContext: e.codeContext,
      errorCode: e.errorCode,
      location: e.location ?? '',
      severity: ERROR_SEVERITY[e.severity],
    });
  }
  w.end();
}

export interface RegistryResponseOptions {
  /** Defaults to statusFor(errors). */
  readonly status?: ResponseStatus;
}

/** `<rs:RegistryResponse xmlns:rs=... status=...>` (ITI-41/42 response body, and inside ITI-43). */
export function writeRegistryResponse(errors: readonly RegistryError[] = [], options: RegistryResponseOptions = {}): string {
  const w = new XmlWriter();
  writeRegistryResponseTo(w, errors, options.status ?? statusFor(errors), true);
  return w.toString();
}

export function writeRegistryResponseTo(w: XmlWriter, errors: readonly RegistryError[], status: ResponseStatus, declareNamespace: boolean): void {
  w.start('rs:RegistryResponse', { ...(declareNamespace ? { 'xmlns:rs': RS_NS } : {}), status: RESPONSE_STATUS[status] });
  writeRegistryErrorList(w, errors);
  w.end();
}

export function responseStatusFromUrn(urn: string | undefined): ResponseStatus | undefined {
  const v = urn?.trim();
  for (const [k, u] of Object.entries(RESPONSE_STATUS)) if (u === v) return k as ResponseStatus;
  return undefined;
}

function severityFromUrn(urn: string | undefined): ErrorSeverity {
  return urn?.trim() === ERROR_SEVERITY.Warning ? 'Warning' : 'Error';
}

export interface ReadRegistryResponse {
  /** undefined when the status attribute holds an unknown value. */
  readonly status: ResponseStatus | undefined;
  readonly rawStatus: string;
  readonly errors: readonly RegistryError[];
}

/** Reads the RegistryErrorList below an element (rs:RegistryResponse or query:AdhocQueryResponse). */
export function readRegistryErrorList(parent: XmlElement): RegistryError[] {
  const list = firstChild(parent, RS_NS, 'RegistryErrorList');
  if (!list) return [];
  return childElements(list, RS_NS, 'RegistryError').map((e) => {
    const location = attribute(e, 'location');
    return {
      errorCode: attribute(e, 'errorCode') ?? '',
      codeContext: attribute(e, 'codeContext') ?? '',
      severity: severityFromUrn(attribute(e, 'severity')),
      ...(location !== undefined && location !== '' ? { location } : {}),
    };
  });
}

/** Reads an rs:RegistryResponse element (consumer / source side). */
export function readRegistryResponse(element: XmlElement): ReadRegistryResponse {
  const rawStatus = attribute(element, 'status') ?? '';
  return { status: responseStatusFromUrn(rawStatus), rawStatus, errors: readRegistryErrorList(element) };
}
