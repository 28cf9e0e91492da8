// Namespace URIs and fixed URIs of SOAP 1.2, WS-Addressing 1.0 and XOP.
// Parsing compares namespace URIs exactly; prefixes are whatever the sender chose.

export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
/** SOAP 1.1: only recognised in order to answer it with a VersionMismatch fault. */
export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const WSA_NS = 'http://www.w3.org/2005/08/addressing';
export const XOP_NS = 'http://www.w3.org/2004/08/xop/include';
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export const SOAP12_ROLE_NEXT = 'http://www.w3.org/2003/05/soap-envelope/role/next';
export const SOAP12_ROLE_NONE = 'http://www.w3.org/2003/05/soap-envelope/role/none';
export const SOAP12_ROLE_ULTIMATE_RECEIVER = 'http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver';

export const WSA_ANONYMOUS = 'http://www.w3.org/2005/08/addressing/anonymous';
export const WSA_NONE = 'http://www.w3.org/2005/08/addressing/none';
export const WSA_REPLY_RELATIONSHIP = 'http://www.w3.org/2005/08/addressing/reply';
/** wsa:Action of faults defined by WS-Addressing itself (InvalidAddressingHeader, ...). */
export const WSA_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/fault';
/** wsa:Action of any other SOAP fault (WS-Addressing 1.0 SOAP Binding §6). */
export const WSA_SOAP_FAULT_ACTION = 'http://www.w3.org/2005/08/addressing/soap/fault';

/** Media types of the SOAP 1.2 HTTP binding and of MTOM/XOP. */
export const SOAP12_MEDIA_TYPE = 'application/soap+xml';
export const XOP_MEDIA_TYPE = 'application/xop+xml';

/** A namespace-qualified name: what SOAP and XDS compare, never the prefix. */
export interface QName {
  readonly ns: string;
  readonly local: string;
}

export function qname(ns: string, local: string): QName {
  return { ns, local };
}

export function sameQName(a: QName, b: QName): boolean {
  return a.ns === b.ns && a.local === b.local;
}

export function formatQName(q: QName): string {
  return q.ns ? `{${q.ns}}${q.local}` : q.local;
}
