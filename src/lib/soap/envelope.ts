// SOAP 1.2 envelopes with WS-Addressing 1.0 headers: reading (with SOAP 1.2 mustUnderstand
// processing and the WS-Addressing checks of ihe-protocols.md §2), writing requests and
// responses, and writing/reading SOAP 1.2 faults.
import { randomUUID } from 'node:crypto';
import {
  AddressingError,
  MustUnderstandError,
  SoapError,
  VersionMismatchError,
  type ReceivedSoapFault,
  type SoapFaultCodeValue,
} from './errors.ts';
import {
  SOAP11_ENVELOPE_NS,
  SOAP12_ENVELOPE_NS,
  SOAP12_MEDIA_TYPE,
  SOAP12_ROLE_NEXT,
  SOAP12_ROLE_NONE,
  SOAP12_ROLE_ULTIMATE_RECEIVER,
  WSA_FAULT_ACTION,
  WSA_NS,
  WSA_REPLY_RELATIONSHIP,
  WSA_ANONYMOUS,
  WSA_SOAP_FAULT_ACTION,
  type QName,
} from './namespaces.ts';
import {
  attribute,
  childElements,
  firstChild,
  ownText,
  parseXml,
  resolveQNameValue,
  deepText,
  type XmlElement,
  type XmlLimits,
} from './safe-xml.ts';
import { escapeXmlAttribute, escapeXmlText, XmlWriter } from './xml-writer.ts';
import { formatParam } from './content-type.ts';

export interface EndpointReference {
  readonly address: string;
  /** wsa:ReferenceParameters, kept as parsed XML for the caller to echo if it must. */
  readonly referenceParameters: XmlElement | undefined;
}

export interface RelatesTo {
  readonly messageId: string;
  /** Defaults to http://www.w3.org/2005/08/addressing/reply. */
  readonly relationshipType: string;
}

export interface AddressingHeaders {
  /** wsa:Action; undefined only when `requireAction: false` and the header is absent. */
  readonly action: string | undefined;
  readonly messageId: string | undefined;
  readonly to: string | undefined;
  readonly from: EndpointReference | undefined;
  readonly replyTo: EndpointReference | undefined;
  readonly faultTo: EndpointReference | undefined;
  readonly relatesTo: readonly RelatesTo[];
  /** True when at least one WS-Addressing header carried mustUnderstand="true"/"1". */
  readonly anyMustUnderstand: boolean;
}

export interface HeaderBlock {
  readonly element: XmlElement;
  readonly mustUnderstand: boolean;
  /** Effective role (absent = ultimateReceiver). */
  readonly role: string;
  readonly relay: boolean;
  /** Targeted at this node (role next, ultimateReceiver, or one of `options.roles`). */
  readonly targeted: boolean;
}

export interface SoapEnvelope {
  readonly envelope: XmlElement;
  readonly headers: readonly HeaderBlock[];
  readonly addressing: AddressingHeaders;
  readonly body: XmlElement;
  /** First element child of env:Body (the operation payload), if any. */
  readonly payload: XmlElement | undefined;
}

export interface EnvelopeOptions {
  /** Extra header blocks this node processes (the WS-Addressing ones are always understood). */
  understoodHeaders?: readonly QName[];
  /** Additional roles this node plays besides next and ultimateReceiver. */
  roles?: readonly string[];
  /** Missing wsa:Action → MessageAddressingHeaderRequired fault. Default true. */
  requireAction?: boolean;
  /** Missing wsa:MessageID → MessageAddressingHeaderRequired fault. Default false. */
  requireMessageId?: boolean;
  /**
   * NIST's SOAP validator wants at least one WS-Addressing header with mustUnderstand true.
   * Off by default because NIST's own ITI-18 sample has none.
   */
  requireMustUnderstandOnAddressing?: boolean;
  /** `action` parameter of the HTTP Content-Type; when present it must equal wsa:Action. */
  contentTypeAction?: string;
}

export interface ParseEnvelopeOptions extends EnvelopeOptions {
  /** charset parameter of the Content-Type. */
  charset?: string;
  xmlLimits?: Partial<XmlLimits>;
}

const WSA_HEADERS = new Set(['Action', 'To', 'MessageID', 'RelatesTo', 'ReplyTo', 'FaultTo', 'From']);

/** Parses bytes into a validated SOAP 1.2 envelope. */
export function parseSoapEnvelope(input: Uint8Array | string, options: ParseEnvelopeOptions = {}): SoapEnvelope {
  const { root } = parseXml(input, { charset: options.charset, limits: options.xmlLimits });
  return readSoapEnvelope(root, options);
}

function xsBoolean(value: string | undefined, what: string): boolean {
  if (value === undefined) return false;
  const v = value.trim();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new SoapError('SOAP_INVALID_ENVELOPE', `${what} must be an xs:boolean, got '${v.slice(0, 20)}'`);
}

function hasNonWhitespaceText(element: XmlElement): boolean {
  return element.children.some((c) => typeof c === 'string' && c.trim() !== '');
}

/** Validates the structure of an already-parsed envelope and processes its headers. */
export function readSoapEnvelope(root: XmlElement, options: EnvelopeOptions = {}): SoapEnvelope {
  if (root.ns !== SOAP12_ENVELOPE_NS || root.local !== 'Envelope') throw new VersionMismatchError(root.ns, root.local);
  if (hasNonWhitespaceText(root)) throw new SoapError('SOAP_INVALID_ENVELOPE', 'text is not allowed directly inside env:Envelope');
  const parts = childElements(root);
  let index = 0;
  let header: XmlElement | undefined;
  const first = parts[0];
  if (first && first.ns === SOAP12_ENVELOPE_NS && first.local === 'Header') {
    header = first;
    index = 1;
  }
  const body = parts[index];
  if (!body || body.ns !== SOAP12_ENVELOPE_NS || body.local !== 'Body') {
    throw new SoapError('SOAP_INVALID_ENVELOPE', 'env:Envelope must contain an env:Body (after an optional env:Header)');
  }
  if (parts.length > index + 1) throw new SoapError('SOAP_INVALID_ENVELOPE', 'no element may follow env:Body');
  if (hasNonWhitespaceText(body)) throw new SoapError('SOAP_INVALID_ENVELOPE', 'text is not allowed directly inside env:Body');
  if (header && hasNonWhitespaceText(header)) throw new SoapError('SOAP_INVALID_ENVELOPE', 'text is not allowed directly inside env:Header');

  const myRoles = new Set([SOAP12_ROLE_NEXT, SOAP12_ROLE_ULTIMATE_RECEIVER, ...(options.roles ?? [])]);
  const understood = options.understoodHeaders ?? [];
  const headers: HeaderBlock[] = [];
  const notUnderstood: QName[] = [];
  for (const element of header ? childElements(header) : []) {
    if (element.ns === '') throw new SoapError('SOAP_INVALID_ENVELOPE', `header block <${element.local}> must be namespace-qualified`);
    const mustUnderstand = xsBoolean(attribute(element, 'mustUnderstand', SOAP12_ENVELOPE_NS), 'env:mustUnderstand');
    const relay = xsBoolean(attribute(element, 'relay', SOAP12_ENVELOPE_NS), 'env:relay');
    const roleAttr = attribute(element, 'role', SOAP12_ENVELOPE_NS)?.trim();
    const role = roleAttr === undefined || roleAttr === '' ? SOAP12_ROLE_ULTIMATE_RECEIVER : roleAttr;
    const targeted = role !== SOAP12_ROLE_NONE && myRoles.has(role);
    headers.push({ element, mustUnderstand, role, relay, targeted });
    if (!targeted || !mustUnderstand) continue;
    const isUnderstood =
      (element.ns === WSA_NS && WSA_HEADERS.has(element.local)) ||
      understood.some((q) => q.ns === element.ns && q.local === element.local);
    if (!isUnderstood) notUnderstood.push({ ns: element.ns, local: element.local });
  }
  // SOAP 1.2 Part 1 §2.6: a MustUnderstand fault is generated before any other processing.
  if (notUnderstood.length > 0) throw new MustUnderstandError(notUnderstood);

  const addressing = readAddressing(headers, options);
  return { envelope: root, headers, addressing, body, payload: childElements(body)[0] };
}

function readEndpointReference(element: XmlElement): EndpointReference {
  const addresses = childElements(element, WSA_NS, 'Address');
  if (addresses.length !== 1) {
    throw new AddressingError('WSA_INVALID_HEADER', `wsa:${element.local} must contain exactly one wsa:Address`, {
      header: { ns: WSA_NS, local: element.local },
    });
  }
  const address = ownText(addresses[0] as XmlElement).trim();
  if (address === '') {
    throw new AddressingError('WSA_INVALID_HEADER', `wsa:${element.local}/wsa:Address is empty`, { header: { ns: WSA_NS, local: element.local } });
  }
  return { address, referenceParameters: firstChild(element, WSA_NS, 'ReferenceParameters') };
}

const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

function readAddressing(headers: readonly HeaderBlock[], options: EnvelopeOptions): AddressingHeaders {
  const byName = new Map<string, XmlElement[]>();
  let anyMustUnderstand = false;
  for (const h of headers) {
    if (h.element.ns !== WSA_NS || !h.targeted || !WSA_HEADERS.has(h.element.local)) continue;
    const list = byName.get(h.element.local) ?? [];
    list.push(h.element);
    byName.set(h.element.local, list);
    if (h.mustUnderstand) anyMustUnderstand = true;
  }
  const single = (local: string): XmlElement | undefined => {
    const list = byName.get(local) ?? [];
    if (list.length > 1) {
      throw new AddressingError('WSA_INVALID_CARDINALITY', `wsa:${local} appears ${list.length} times (at most once allowed)`, {
        header: { ns: WSA_NS, local },
      });
    }
    return list[0];
  };

  const actionElement = single('Action');
  let action: string | undefined;
  if (actionElement) {
    const raw = ownText(actionElement);
    action = raw.trim();
    // NIST SoapMessageValidator: whitespace around the Action value is an error (it is an IRI, not a token list).
    if (raw !== action) {
      throw new AddressingError('WSA_INVALID_HEADER', 'wsa:Action must not have leading or trailing whitespace', { header: { ns: WSA_NS, local: 'Action' } });
    }
    if (!ABSOLUTE_IRI.test(action)) {
      throw new AddressingError('WSA_INVALID_HEADER', 'wsa:Action must be an absolute IRI', { header: { ns: WSA_NS, local: 'Action' } });
    }
  } else if (options.requireAction ?? true) {
    throw new AddressingError('WSA_HEADER_REQUIRED', 'wsa:Action header is required', { header: { ns: WSA_NS, local: 'Action' } });
  }
  if (options.contentTypeAction !== undefined && action !== undefined && options.contentTypeAction !== action) {
    throw new AddressingError('WSA_ACTION_MISMATCH', `Content-Type action '${options.contentTypeAction}' differs from wsa:Action '${action}'`, {
      header: { ns: WSA_NS, local: 'Action' },
    });
  }

  const messageIdElement = single('MessageID');
  const messageId = messageIdElement ? ownText(messageIdElement).trim() : undefined;
  if (messageId === '') throw new AddressingError('WSA_INVALID_HEADER', 'wsa:MessageID is empty', { header: { ns: WSA_NS, local: 'MessageID' } });
  if (messageId === undefined && options.requireMessageId) {
    throw new AddressingError('WSA_HEADER_REQUIRED', 'wsa:MessageID header is required', { header: { ns: WSA_NS, local: 'MessageID' } });
  }
  const toElement = single('To');
  const to = toElement ? ownText(toElement).trim() : undefined;
  const fromElement = single('From');
  const replyToElement = single('ReplyTo');
  const faultToElement = single('FaultTo');
  const relatesTo = (byName.get('RelatesTo') ?? []).map((e) => ({
    messageId: ownText(e).trim(),
    relationshipType: attribute(e, 'RelationshipType')?.trim() || WSA_REPLY_RELATIONSHIP,
  }));

  if (options.requireMustUnderstandOnAddressing && byName.size > 0 && !anyMustUnderstand) {
    throw new AddressingError('WSA_INVALID_HEADER', 'at least one WS-Addressing header must carry mustUnderstand="true"', {
      header: { ns: WSA_NS, local: 'Action' },
    });
  }

  return {
    action,
    messageId,
    to,
    from: fromElement ? readEndpointReference(fromElement) : undefined,
    replyTo: replyToElement ? readEndpointReference(replyToElement) : undefined,
    faultTo: faultToElement ? readEndpointReference(faultToElement) : undefined,
    relatesTo,
    anyMustUnderstand,
  };
}

/** Throws wsa:ActionNotSupported unless the envelope's action is one of `supported`. */
export function expectAction(envelope: SoapEnvelope, supported: readonly string[]): string {
  const action = envelope.addressing.action;
  if (action === undefined || !supported.includes(action)) {
    throw new AddressingError('WSA_ACTION_NOT_SUPPORTED', `action '${action ?? ''}' is not supported by this endpoint`, { action });
  }
  return action;
}

// ---------------------------------------------------------------------------------------------
// Writing

export function newMessageId(): string {
  return `urn:uuid:${randomUUID()}`;
}

export interface EnvelopeToWrite {
  readonly action: string;
  /** Namespace-complete XML of the body payload (declares its own namespaces). */
  readonly bodyXml: string;
  /** Defaults to a new urn:uuid. */
  readonly messageId?: string;
  readonly relatesTo?: string;
  readonly to?: string;
  /** Requests: wsa:ReplyTo address (usually anonymous). */
  readonly replyTo?: string;
  /** mustUnderstand="true" on Action and To (as IHE actors send them). Default true. */
  readonly mustUnderstand?: boolean;
  /** Extra namespace-complete header blocks. */
  readonly extraHeadersXml?: string;
}

/** Serialises a SOAP 1.2 envelope with WS-Addressing headers (prefixes `s` and `a`, as NIST's samples). */
export function writeSoapEnvelope(spec: EnvelopeToWrite): string {
  const mu = (spec.mustUnderstand ?? true) ? { 's:mustUnderstand': 'true' } : {};
  const w = new XmlWriter();
  w.raw('<?xml version="1.0" encoding="UTF-8"?>');
  w.start('s:Envelope', { 'xmlns:s': SOAP12_ENVELOPE_NS, 'xmlns:a': WSA_NS });
  w.start('s:Header');
  w.leaf('a:Action', mu, spec.action);
  w.leaf('a:MessageID', undefined, spec.messageId ?? newMessageId());
  if (spec.relatesTo !== undefined) w.leaf('a:RelatesTo', undefined, spec.relatesTo);
  if (spec.replyTo !== undefined) w.start('a:ReplyTo').leaf('a:Address', undefined, spec.replyTo).end();
  if (spec.to !== undefined) w.leaf('a:To', mu, spec.to);
  if (spec.extraHeadersXml) w.raw(spec.extraHeadersXml);
  w.end();
  w.start('s:Body').raw(spec.bodyXml).end();
  w.end();
  return w.toString();
}

/** A request envelope: new MessageID, ReplyTo anonymous, To = endpoint. */
export function writeSoapRequest(action: string, bodyXml: string, to: string, messageId: string = newMessageId()): string {
  return writeSoapEnvelope({ action, bodyXml, to, messageId, replyTo: WSA_ANONYMOUS });
}

/** A response envelope: wsa:RelatesTo = the request's MessageID, new MessageID. */
export function writeSoapResponse(request: Pick<SoapEnvelope, 'addressing'> | undefined, action: string, bodyXml: string): string {
  return writeSoapEnvelope({ action, bodyXml, relatesTo: request?.addressing.messageId, mustUnderstand: true });
}

/** Content-Type of a non-MTOM SOAP 1.2 message. */
export function soapContentType(action?: string): string {
  return `${SOAP12_MEDIA_TYPE}; charset=UTF-8${action ? `; ${formatParam('action', action)}` : ''}`;
}

export interface SoapFaultToWrite {
  readonly code: SoapFaultCodeValue;
  readonly subcodes?: readonly QName[];
  readonly reason: string;
  /** Namespace-complete XML placed in env:Detail. */
  readonly detailXml?: string;
  /** env:NotUnderstood header blocks (MustUnderstand faults). */
  readonly notUnderstood?: readonly QName[];
  /** Adds the env:Upgrade header listing SOAP 1.2 as supported (VersionMismatch faults). */
  readonly upgrade?: boolean;
}

export interface FaultContext {
  /** MessageID of the request, if it could be read. */
  readonly relatesTo?: string;
  /** wsa:Action of the fault; defaults per WS-Addressing SOAP binding §6. */
  readonly action?: string;
}

function upgradeHeader(prefix: string): string {
  return `<${prefix}:Upgrade xmlns:${prefix}="${SOAP12_ENVELOPE_NS}"><${prefix}:SupportedEnvelope qname="${prefix}:Envelope"/></${prefix}:Upgrade>`;
}

/** Serialises a SOAP 1.2 fault envelope. */
export function writeSoapFault(fault: SoapFaultToWrite, context: FaultContext = {}): string {
  const w = new XmlWriter();
  w.raw('<?xml version="1.0" encoding="UTF-8"?>');
  w.start('s:Envelope', { 'xmlns:s': SOAP12_ENVELOPE_NS, 'xmlns:a': WSA_NS });
  w.start('s:Header');
  w.leaf('a:Action', { 's:mustUnderstand': 'true' }, context.action ?? WSA_SOAP_FAULT_ACTION);
  w.leaf('a:MessageID', undefined, newMessageId());
  if (context.relatesTo !== undefined) w.leaf('a:RelatesTo', undefined, context.relatesTo);
  (fault.notUnderstood ?? []).forEach((q, i) => {
    w.leaf('s:NotUnderstood', { [`xmlns:nu${i}`]: q.ns, qname: `nu${i}:${q.local}` });
  });
  if (fault.upgrade) w.raw(upgradeHeader('s'));
  w.end();
  w.start('s:Body').start('s:Fault');
  w.start('s:Code').leaf('s:Value', undefined, `s:${fault.code}`);
  const subcodes = fault.subcodes ?? [];
  subcodes.forEach((q, i) => {
    const prefix = q.ns === WSA_NS ? 'a' : `sc${i}`;
    w.start('s:Subcode').leaf('s:Value', prefix === 'a' ? undefined : { [`xmlns:${prefix}`]: q.ns }, `${prefix}:${q.local}`);
  });
  for (let i = 0; i < subcodes.length; i++) w.end();
  w.end();
  w.start('s:Reason').leaf('s:Text', { 'xml:lang': 'en' }, fault.reason).end();
  if (fault.detailXml) w.start('s:Detail').raw(fault.detailXml).end();
  w.end().end().end();
  return w.toString();
}

export interface SoapHttpResponse {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: string;
}

/** A plain (non-MTOM) SOAP response, ready for the HTTP layer (RelatesTo = request MessageID). */
export function soapResponse(request: Pick<SoapEnvelope, 'addressing'> | undefined, action: string, bodyXml: string): SoapHttpResponse {
  return { statusCode: 200, contentType: soapContentType(action), body: writeSoapResponse(request, action, bodyXml) };
}

export interface FaultResponseOptions {
  /** Reason text for unexpected (non-SoapError) errors; the error's own message is never sent. */
  readonly internalErrorReason?: string;
}

/**
 * Turns any error into the HTTP response a SOAP endpoint sends: status, Content-Type, fault body.
 * SoapErrors keep their message and fault codes; anything else becomes a Receiver fault with a
 * generic reason (no internals leak). A SOAP 1.1 request gets a SOAP 1.1 VersionMismatch fault
 * with an Upgrade header (SOAP 1.2 Part 1 Appendix A), since a 1.1 node cannot read a 1.2 fault.
 */
export function soapFaultResponse(err: unknown, request?: { readonly messageId?: string }, options: FaultResponseOptions = {}): SoapHttpResponse {
  const relatesTo = request?.messageId;
  if (err instanceof VersionMismatchError && err.receivedNamespace === SOAP11_ENVELOPE_NS) {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<e:Envelope xmlns:e="${SOAP11_ENVELOPE_NS}"><e:Header>${upgradeHeader('u')}</e:Header>` +
      `<e:Body><e:Fault><faultcode>e:VersionMismatch</faultcode><faultstring>${escapeXmlText('Version Mismatch: this endpoint accepts SOAP 1.2 only')}</faultstring></e:Fault></e:Body></e:Envelope>`;
    return { statusCode: 500, contentType: 'text/xml; charset=UTF-8', body };
  }
  if (err instanceof SoapError) {
    let detailXml = err.detailXml;
    let action: string | undefined;
    if (err instanceof AddressingError) {
      action = WSA_FAULT_ACTION;
      if (err.problemAction !== undefined) {
        detailXml ??= `<a:ProblemAction xmlns:a="${WSA_NS}"><a:Action>${escapeXmlText(err.problemAction)}</a:Action></a:ProblemAction>`;
      } else if (err.problemHeader) {
        const q = err.problemHeader;
        detailXml ??= `<a:ProblemHeaderQName xmlns:a="${WSA_NS}" xmlns:ph="${escapeXmlAttribute(q.ns)}">ph:${escapeXmlText(q.local)}</a:ProblemHeaderQName>`;
      }
    }
    const body = writeSoapFault(
      {
        code: err.faultCode,
        subcodes: err.subcodes,
        reason: err.message,
        detailXml,
        notUnderstood: err instanceof MustUnderstandError ? err.notUnderstood : undefined,
        upgrade: err instanceof VersionMismatchError,
      },
      { relatesTo, action },
    );
    return { statusCode: err.httpStatus, contentType: soapContentType(action ?? WSA_SOAP_FAULT_ACTION), body };
  }
  const body = writeSoapFault({ code: 'Receiver', reason: options.internalErrorReason ?? 'internal error' }, { relatesTo });
  return { statusCode: 500, contentType: soapContentType(WSA_SOAP_FAULT_ACTION), body };
}

/** Reads an env:Fault from a parsed envelope (client side); undefined when the body is not a fault. */
export function readSoapFault(envelope: SoapEnvelope): ReceivedSoapFault | undefined {
  const fault = envelope.payload;
  if (!fault || fault.ns !== SOAP12_ENVELOPE_NS || fault.local !== 'Fault') return undefined;
  const codeElement = firstChild(fault, SOAP12_ENVELOPE_NS, 'Code');
  const valueElement = codeElement ? firstChild(codeElement, SOAP12_ENVELOPE_NS, 'Value') : undefined;
  const codeQName = valueElement ? resolveQNameValue(valueElement, ownText(valueElement)) : undefined;
  const code = codeQName ? (codeQName.ns === SOAP12_ENVELOPE_NS ? codeQName.local : `{${codeQName.ns}}${codeQName.local}`) : 'Receiver';
  const subcodes: QName[] = [];
  let sub = codeElement ? firstChild(codeElement, SOAP12_ENVELOPE_NS, 'Subcode') : undefined;
  while (sub && subcodes.length < 16) {
    const v = firstChild(sub, SOAP12_ENVELOPE_NS, 'Value');
    const q = v ? resolveQNameValue(v, ownText(v)) : undefined;
    if (q) subcodes.push(q);
    sub = firstChild(sub, SOAP12_ENVELOPE_NS, 'Subcode');
  }
  const reasonElement = firstChild(fault, SOAP12_ENVELOPE_NS, 'Reason');
  const textElement = reasonElement ? firstChild(reasonElement, SOAP12_ENVELOPE_NS, 'Text') : undefined;
  const detail = firstChild(fault, SOAP12_ENVELOPE_NS, 'Detail');
  return {
    code,
    subcodes,
    reason: textElement ? ownText(textElement).trim() : '',
    detailText: detail ? deepText(detail).trim() : undefined,
  };
}
