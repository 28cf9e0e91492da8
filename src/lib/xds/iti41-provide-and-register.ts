// ITI-41 Provide and Register Document Set-b (also RAD-68, same wire format):
// xdsb:ProvideAndRegisterDocumentSetRequest = lcm:SubmitObjectsRequest + one xdsb:Document per
// DocumentEntry, as an xop:Include to an MTOM part or inline base64 (ihe-protocols.md §2, §4).
import type { ReceivedBinary, SoapMessage, OutgoingAttachment } from '../soap/mtom.ts';
import { xopIncludeXml } from '../soap/mtom.ts';
import { qname, type QName } from '../soap/namespaces.ts';
import { attribute, childElements, firstChild } from '../soap/safe-xml.ts';
import { XmlWriter } from '../soap/xml-writer.ts';
import { writeSubmitObjectsRequestTo, readSubmitObjectsRequest } from './iti42-register.ts';
import type { DocumentEntry, MetadataProblem, XdsMetadata } from './metadata.ts';
import { readRegistryResponse, registryError, XdsError, type ReadRegistryResponse } from './registry-response.ts';
import type { ReceivedDocument } from './submission-validation.ts';
import { LCM_NS, RS_NS, XDS_ACTIONS, XDSB_NS } from './vocabulary.ts';
import type { SoapEnvelope } from '../soap/envelope.ts';

export const PROVIDE_AND_REGISTER_ACTION = XDS_ACTIONS.provideAndRegister;
export const PROVIDE_AND_REGISTER_RESPONSE_ACTION = XDS_ACTIONS.provideAndRegisterResponse;

/** xdsb:Document: pass it to readSoapMessage as an inline binary element (non-XOP documents). */
export const XDSB_DOCUMENT: QName = qname(XDSB_NS, 'Document');

export interface ProvidedDocument<T> {
  /** xdsb:Document@id = the id of its DocumentEntry in the message. */
  readonly id: string;
  readonly binary: ReceivedBinary<T>;
}

export interface ProvideAndRegisterRequest<T> {
  readonly metadata: XdsMetadata;
  readonly problems: readonly MetadataProblem[];
  /** Attached documents by xdsb:Document id. */
  readonly documents: ReadonlyMap<string, ProvidedDocument<T>>;
}

/**
 * Reads an ITI-41 request from a message read with `inlineBinaryElements: [XDSB_DOCUMENT]`.
 * Structural problems of the documents (no id, id twice, no content) become MetadataProblems.
 */
export function readProvideAndRegisterRequest<T>(message: SoapMessage<T>): ProvideAndRegisterRequest<T> {
  const payload = message.envelope.payload;
  if (!payload || payload.ns !== XDSB_NS || payload.local !== 'ProvideAndRegisterDocumentSetRequest') {
    const got = payload ? `{${payload.ns}}${payload.local}` : 'an empty Body';
    throw new XdsError(registryError('XDSRepositoryMetadataError', `expected xdsb:ProvideAndRegisterDocumentSetRequest, got ${got}`));
  }
  const submit = firstChild(payload, LCM_NS, 'SubmitObjectsRequest');
  if (!submit) throw new XdsError(registryError('XDSRepositoryMetadataError', 'ProvideAndRegisterDocumentSetRequest has no lcm:SubmitObjectsRequest'));
  const { metadata, problems } = readSubmitObjectsRequest(submit);
  const allProblems: MetadataProblem[] = [...problems];
  const documents = new Map<string, ProvidedDocument<T>>();
  for (const element of childElements(payload, XDSB_NS, 'Document')) {
    const id = attribute(element, 'id') ?? '';
    if (id === '') {
      allProblems.push({ location: 'xdsb:Document', message: 'xdsb:Document without id attribute', attribute: 'document' });
      continue;
    }
    if (documents.has(id)) {
      allProblems.push({ location: id, message: `xdsb:Document id '${id}' appears twice`, attribute: 'document' });
      continue;
    }
    const binary = message.binaryOf(element);
    if (!binary) {
      allProblems.push({ location: id, message: `xdsb:Document '${id}' has no content (read the message with inlineBinaryElements: [XDSB_DOCUMENT])`, attribute: 'document' });
      continue;
    }
    documents.set(id, { id, binary });
  }
  return { metadata, problems: allProblems, documents };
}

/** Size and SHA-1 of each attached document, from what the caller's sink measured. */
export function receivedDocuments<T>(request: ProvideAndRegisterRequest<T>, describe: (ref: T) => ReceivedDocument): Map<string, ReceivedDocument> {
  const out = new Map<string, ReceivedDocument>();
  for (const [id, d] of request.documents) out.set(id, describe(d.binary.ref));
  return out;
}

/**
 * The repository's duty before forwarding to the registry (Gazelle ITI41-4, ITI41-13):
 * set repositoryUniqueId, hash and size of each DocumentEntry from the stored bytes.
 */
export function completeDocumentEntriesForRegistry(
  metadata: XdsMetadata,
  documents: ReadonlyMap<string, ReceivedDocument>,
  repositoryUniqueId: string,
): XdsMetadata {
  return {
    ...metadata,
    documentEntries: metadata.documentEntries.map((de): DocumentEntry => {
      const doc = documents.get(de.entryUUID);
      return doc ? { ...de, repositoryUniqueId, hash: doc.sha1.toLowerCase(), size: doc.size } : de;
    }),
  };
}

/** A document to send with ITI-41: its DocumentEntry id and the MTOM part carrying it. */
export interface DocumentToProvide {
  readonly entryId: string;
  readonly attachment: OutgoingAttachment;
}

/** ITI-41 request body XML, each document an xop:Include of its attachment. */
export function writeProvideAndRegisterRequest(metadata: XdsMetadata, documents: readonly DocumentToProvide[]): string {
  const w = new XmlWriter();
  w.start('xdsb:ProvideAndRegisterDocumentSetRequest', { 'xmlns:xdsb': XDSB_NS });
  writeSubmitObjectsRequestTo(w, metadata);
  for (const d of documents) w.start('xdsb:Document', { id: d.entryId }).raw(xopIncludeXml(d.attachment.contentId)).end();
  w.end();
  return w.toString();
}

/** Reads the rs:RegistryResponse body of an ITI-41 / ITI-42 response envelope (source side). */
export function readRegistryResponseEnvelope(envelope: SoapEnvelope): ReadRegistryResponse {
  const payload = envelope.payload;
  if (!payload || payload.ns !== RS_NS || payload.local !== 'RegistryResponse') {
    throw new XdsError(registryError('XDSRegistryError', 'response body is not an rs:RegistryResponse'));
  }
  return readRegistryResponse(payload);
}
