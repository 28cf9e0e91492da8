// ITI-43 Retrieve Document Set (also the response format of RAD-69 and the ITI-39 body):
// request parsing/writing, and the response with documents as XOP attachments (or inline base64
// when asked), plus the consumer-side response reader (ihe-protocols.md §6).
import { writeSoapResponse, type SoapEnvelope } from '../soap/envelope.ts';
import { writeMtomMessage, xopIncludeXml, newContentId, type MtomPackage, type OutgoingAttachment, type ReceivedBinary, type SoapMessage } from '../soap/mtom.ts';
import { childElements, childText, firstChild, type XmlElement } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { readRegistryResponse, registryError, statusFor, writeRegistryResponseTo, type RegistryError } from './registry-response.ts';
import { RS_NS, XDS_ACTIONS, XDSB_NS, type ResponseStatus } from './vocabulary.ts';

export const RETRIEVE_DOCUMENT_SET_ACTION = XDS_ACTIONS.retrieveDocumentSet;
export const RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION = XDS_ACTIONS.retrieveDocumentSetResponse;

export interface DocumentRequest {
  readonly homeCommunityId?: string;
  readonly repositoryUniqueId: string;
  readonly documentUniqueId: string;
}

export type RetrieveParseResult<R> = { readonly ok: true; readonly request: R } | { readonly ok: false; readonly errors: readonly RegistryError[] };

/** Reads one xdsb:DocumentRequest; missing ids are reported with the retrieve error codes. */
export function readDocumentRequest(element: XmlElement, errors: RegistryError[]): DocumentRequest | undefined {
  const repositoryUniqueId = childText(element, XDSB_NS, 'RepositoryUniqueId') ?? '';
  const documentUniqueId = childText(element, XDSB_NS, 'DocumentUniqueId') ?? '';
  let ok = true;
  if (repositoryUniqueId === '') {
    errors.push(registryError('XDSUnknownRepositoryId', 'DocumentRequest without RepositoryUniqueId', documentUniqueId));
    ok = false;
  }
  if (documentUniqueId === '') {
    errors.push(registryError('XDSDocumentUniqueIdError', 'DocumentRequest without DocumentUniqueId', ''));
    ok = false;
  }
  if (!ok) return undefined;
  const homeCommunityId = childText(element, XDSB_NS, 'HomeCommunityId') ?? '';
  return homeCommunityId !== '' ? { homeCommunityId, repositoryUniqueId, documentUniqueId } : { repositoryUniqueId, documentUniqueId };
}

export interface RetrieveDocumentSetRequest {
  readonly documents: readonly DocumentRequest[];
}

/** Reads an xdsb:RetrieveDocumentSetRequest payload (ITI-43, ITI-39). */
export function readRetrieveDocumentSetRequest(payload: XmlElement | undefined): RetrieveParseResult<RetrieveDocumentSetRequest> {
  if (!payload || payload.ns !== XDSB_NS || payload.local !== 'RetrieveDocumentSetRequest') {
    return { ok: false, errors: [registryError('XDSRepositoryError', `expected xdsb:RetrieveDocumentSetRequest, got ${payload ? `{${payload.ns}}${payload.local}` : 'an empty Body'}`)] };
  }
  const errors: RegistryError[] = [];
  const requests = childElements(payload, XDSB_NS, 'DocumentRequest');
  if (requests.length === 0) return { ok: false, errors: [registryError('XDSRepositoryError', 'RetrieveDocumentSetRequest without DocumentRequest')] };
  const documents = requests.map((r) => readDocumentRequest(r, errors)).filter((d): d is DocumentRequest => d !== undefined);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, request: { documents } };
}

export function writeDocumentRequest(w: XmlWriter, d: DocumentRequest, prefix = 'xdsb'): void {
  w.start(`${prefix}:DocumentRequest`);
  if (d.homeCommunityId !== undefined) w.leaf(`${prefix}:HomeCommunityId`, undefined, d.homeCommunityId);
  w.leaf(`${prefix}:RepositoryUniqueId`, undefined, d.repositoryUniqueId);
  w.leaf(`${prefix}:DocumentUniqueId`, undefined, d.documentUniqueId);
  w.end();
}

/** xdsb:RetrieveDocumentSetRequest XML (consumer side). */
export function writeRetrieveDocumentSetRequest(documents: readonly DocumentRequest[]): string {
  const w = new XmlWriter();
  w.start('xdsb:RetrieveDocumentSetRequest', { 'xmlns:xdsb': XDSB_NS });
  for (const d of documents) writeDocumentRequest(w, d);
  w.end();
  return w.toString();
}

// Response -------------------------------------------------------------------------------------------

export interface DocumentResponseToWrite extends DocumentRequest {
  readonly mimeType: string;
  /** An MTOM part (xop:Include) or inline bytes (base64, small documents only). */
  readonly content: { readonly contentId: string } | { readonly inline: Uint8Array };
}

export interface RetrieveResponseToWrite {
  readonly documents: readonly DocumentResponseToWrite[];
  readonly errors?: readonly RegistryError[];
  /** Default: Success without errors; PartialSuccess with errors and documents; Failure with errors only. */
  readonly status?: ResponseStatus;
}

/** xdsb:RetrieveDocumentSetResponse XML. Per-document errors carry location = DocumentUniqueId (RAD69-016). */
export function writeRetrieveDocumentSetResponse(r: RetrieveResponseToWrite): string {
  const errors = r.errors ?? [];
  const w = new XmlWriter();
  w.start('xdsb:RetrieveDocumentSetResponse', { 'xmlns:xdsb': XDSB_NS, 'xmlns:rs': RS_NS });
  writeRegistryResponseTo(w, errors, r.status ?? statusFor(errors, r.documents.length > 0), false);
  for (const d of r.documents) {
    w.start('xdsb:DocumentResponse');
    if (d.homeCommunityId !== undefined) w.leaf('xdsb:HomeCommunityId', undefined, d.homeCommunityId);
    w.leaf('xdsb:RepositoryUniqueId', undefined, d.repositoryUniqueId);
    w.leaf('xdsb:DocumentUniqueId', undefined, d.documentUniqueId);
    w.leaf('xdsb:mimeType', undefined, d.mimeType);
    w.start('xdsb:Document');
    if ('contentId' in d.content) w.raw(xopIncludeXml(d.content.contentId));
    else w.text(Buffer.from(d.content.inline.buffer, d.content.inline.byteOffset, d.content.inline.byteLength).toString('base64'));
    w.end();
    w.end();
  }
  w.end();
  return w.toString();
}

export interface DocumentToReturn extends DocumentRequest {
  readonly mimeType: string;
  /** The bytes; a factory is opened only when the part is sent. */
  readonly content: OutgoingAttachment['content'];
}

/**
 * The whole ITI-43 / RAD-69 response as an MTOM package: envelope (RelatesTo = request
 * MessageID) + one XOP part per document, streamed (A-SOAP-07).
 */
export function buildRetrieveResponseMessage(
  request: Pick<SoapEnvelope, 'addressing'> | undefined,
  documents: readonly DocumentToReturn[],
  errors: readonly RegistryError[] = [],
  action: string = RETRIEVE_DOCUMENT_SET_RESPONSE_ACTION,
): MtomPackage {
  const parts = documents.map((d) => ({ doc: d, contentId: newContentId() }));
  const bodyXml = writeRetrieveDocumentSetResponse({
    documents: parts.map(({ doc, contentId }) => ({ ...doc, content: { contentId } })),
    errors,
  });
  return writeMtomMessage(
    writeSoapResponse(request, action, bodyXml),
    parts.map(({ doc, contentId }) => ({ contentId, contentType: doc.mimeType, content: doc.content })),
    { action },
  );
}

export interface RetrievedDocument<T> extends DocumentRequest {
  readonly mimeType: string;
  /** The bytes as stored by the sink; undefined when the Document element was missing. */
  readonly binary: ReceivedBinary<T> | undefined;
}

export interface ReadRetrieveResponse<T> {
  readonly status: ResponseStatus | undefined;
  readonly errors: readonly RegistryError[];
  readonly documents: readonly RetrievedDocument<T>[];
}

/**
 * Reads an ITI-43 / RAD-69 / ITI-39 response (consumer side). Read the message with
 * `inlineBinaryElements: [XDSB_DOCUMENT]` so that inline base64 documents reach the sink too.
 */
export function readRetrieveDocumentSetResponse<T>(message: SoapMessage<T>): ReadRetrieveResponse<T> {
  const payload = message.envelope.payload;
  if (!payload || payload.ns !== XDSB_NS || payload.local !== 'RetrieveDocumentSetResponse') {
    return { status: undefined, errors: [registryError('XDSRepositoryError', 'response body is not an xdsb:RetrieveDocumentSetResponse')], documents: [] };
  }
  const rr = firstChild(payload, RS_NS, 'RegistryResponse');
  const { status, errors } = rr ? readRegistryResponse(rr) : { status: undefined, errors: [registryError('XDSRepositoryError', 'response has no rs:RegistryResponse')] };
  const documents = childElements(payload, XDSB_NS, 'DocumentResponse').map((d): RetrievedDocument<T> => {
    const text = (local: string): string => childText(d, XDSB_NS, local) ?? '';
    const documentElement = firstChild(d, XDSB_NS, 'Document');
    const home = text('HomeCommunityId');
    return {
      ...(home !== '' ? { homeCommunityId: home } : {}),
      repositoryUniqueId: text('RepositoryUniqueId'),
      documentUniqueId: text('DocumentUniqueId'),
      mimeType: text('mimeType'),
      binary: documentElement ? message.binaryOf(documentElement) : undefined,
    };
  });
  return { status, errors, documents };
}
