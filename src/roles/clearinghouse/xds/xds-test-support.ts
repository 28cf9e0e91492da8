// Helpers for the XDS integration tests (not used by production code): HTTP exchanges with the
// running network, the NIST vectors turned into requests, and response readers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { samplesDir } from '../../../../test-support/system-tools.ts';
import {
  newContentId,
  memoryAttachmentSink,
  parseSoapEnvelope,
  readSoapMessage,
  writeMtomMessage,
  writeSoapRequest,
  type BufferedAttachment,
  type SoapEnvelope,
  type SoapMessage,
} from '../../../lib/soap/index.ts';
import { crlfFraming, NIST_PNR_BOUNDARY, NIST_PNR_CONTENT_TYPE } from '../../../lib/soap/test-fixtures.ts';
import { hasMember, manifestEntry, submissionSet } from '../../../lib/xds/test-fixtures.ts';
import {
  PROVIDE_AND_REGISTER_ACTION,
  writeProvideAndRegisterRequest,
  type DocumentEntry,
  type SubmissionSet,
  type XdsMetadata,
  readRegistryResponse,
  readRetrieveDocumentSetResponse,
  readStoredQueryResponse,
  RS_NS,
  XDSB_DOCUMENT,
  type ReadRetrieveResponse,
  type ReadStoredQueryResponse,
  type RegistryError,
  type ResponseStatus,
} from '../../../lib/xds/index.ts';

export { NIST_PNR_CONTENT_TYPE };
export const NIST_DOC_UNIQUE_ID = '1.42.20160705093311.6';
export const NIST_SS_UNIQUE_ID = '1.42.20160705093311.7';
export const NIST_PATIENT = 'SR7^^^&1.2.260&ISO';
export const NIST_DOCUMENT_SHA1 = 'e543712c0e10501972de13a5bfcbe826c49feb75';

export const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));

export interface PnrVariant {
  /** Slots added to the DocumentEntry (hash, size ...). */
  readonly slots?: Record<string, string>;
  /** Replaces the fixed uniqueIds (so a test's submission is new). */
  readonly docUniqueId?: string;
  readonly ssUniqueId?: string;
  /** Replaces SR7^^^&1.2.260&ISO (both occurrences, XML-escaped). */
  readonly patientId?: string;
}

/** The NIST ITI-41 MTOM body (CRLF framing, as on the wire), optionally varied. */
export function nistPnrBody(v: PnrVariant = {}): Buffer {
  let text = sample('nist-iti41-pnr-mtom-xop.body.txt').toString('latin1');
  if (v.slots) {
    const xml = Object.entries(v.slots)
      .map(([name, value]) => `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${value}</rim:Value></rim:ValueList></rim:Slot>`)
      .join('');
    const at = text.indexOf('<rim:Slot name="creationTime">');
    text = text.slice(0, at) + xml + text.slice(at);
  }
  if (v.docUniqueId) text = text.replace(`value="${NIST_DOC_UNIQUE_ID}"`, `value="${v.docUniqueId}"`);
  if (v.ssUniqueId) text = text.replace(`value="${NIST_SS_UNIQUE_ID}"`, `value="${v.ssUniqueId}"`);
  if (v.patientId) text = text.split('SR7^^^&amp;1.2.260&amp;ISO').join(v.patientId.replace(/&/g, '&amp;'));
  return crlfFraming(Buffer.from(text, 'latin1'), NIST_PNR_BOUNDARY);
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export async function post(url: string, body: Buffer | string, contentType: string): Promise<HttpAnswer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

export const SOAP_CT = 'application/soap+xml; charset=UTF-8';

/** A SOAP 1.2 request envelope around a body payload. */
export function soapRequest(action: string, bodyXml: string, to = 'http://localhost/xds'): string {
  return writeSoapRequest(action, bodyXml, to);
}

/** Replaces the body of a sample envelope (keeps its headers). */
export function payloadOf(sampleXml: string): string {
  const start = sampleXml.search(/<([A-Za-z0-9_]+:)?Body[^>]*>/);
  const open = sampleXml.indexOf('>', start) + 1;
  const end = sampleXml.search(/<\/([A-Za-z0-9_]+:)?Body>/);
  return sampleXml.slice(open, end);
}

export async function readAnswer(a: HttpAnswer): Promise<SoapMessage<BufferedAttachment>> {
  return readSoapMessage(Readable.from([a.body]), a.contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT] });
}

export interface RegistryAnswer {
  readonly status: ResponseStatus | undefined;
  readonly errors: readonly RegistryError[];
  readonly codes: readonly string[];
  readonly envelope: SoapEnvelope;
}

export async function registryAnswer(a: HttpAnswer): Promise<RegistryAnswer> {
  const msg = await readAnswer(a);
  const p = msg.envelope.payload;
  if (!p || p.ns !== RS_NS || p.local !== 'RegistryResponse') throw new Error(`not a RegistryResponse: HTTP ${a.status} ${a.body.toString('utf8').slice(0, 400)}`);
  const r = readRegistryResponse(p);
  return { status: r.status, errors: r.errors, codes: r.errors.map((e) => e.errorCode), envelope: msg.envelope };
}

export async function queryAnswer(a: HttpAnswer): Promise<ReadStoredQueryResponse & { codes: string[] }> {
  const msg = await readAnswer(a);
  const r = readStoredQueryResponse(msg.envelope.payload);
  return { ...r, codes: r.errors.map((e) => e.errorCode) };
}

export async function retrieveAnswer(a: HttpAnswer): Promise<ReadRetrieveResponse<BufferedAttachment> & { codes: string[]; envelope: SoapEnvelope }> {
  const msg = await readAnswer(a);
  const r = readRetrieveDocumentSetResponse(msg);
  return { ...r, codes: r.errors.map((e) => e.errorCode), envelope: msg.envelope };
}

/** A SOAP fault's first subcode / code text, or undefined when the answer is not a fault. */
export function faultOf(a: HttpAnswer): string | undefined {
  const text = a.body.toString('utf8');
  if (!/Fault/.test(text)) return undefined;
  try {
    const env = parseSoapEnvelope(a.body);
    return env.payload?.local === 'Fault' ? 'Fault' : undefined;
  } catch {
    return /Fault/.test(text) ? 'Fault' : undefined;
  }
}

/** A small MTOM ITI-41/RAD-68 request from an envelope and attachments. */
export async function mtomRequest(envelopeXml: string, attachments: ReadonlyArray<{ contentId: string; contentType: string; content: Buffer }>): Promise<{ body: Buffer; contentType: string }> {
  const pkg = writeMtomMessage(envelopeXml, attachments);
  const chunks: Buffer[] = [];
  for await (const c of pkg.body as AsyncIterable<Buffer>) chunks.push(c);
  return { body: Buffer.concat(chunks), contentType: pkg.contentType };
}

/** An ITI-41 / RAD-68 MTOM request for metadata + documents (entry id → bytes and MIME type). */
export async function provideAndRegisterRequest(
  url: string,
  metadata: XdsMetadata,
  documents: ReadonlyArray<{ entryId: string; mimeType: string; content: Buffer }>,
): Promise<{ body: Buffer; contentType: string }> {
  const attachments = documents.map((d) => ({ entryId: d.entryId, attachment: { contentId: newContentId('test.invalid'), contentType: d.mimeType, content: d.content } }));
  const envelope = writeSoapRequest(PROVIDE_AND_REGISTER_ACTION, writeProvideAndRegisterRequest(metadata, attachments), url);
  return mtomRequest(envelope, attachments.map((a) => ({ contentId: a.attachment.contentId, contentType: a.attachment.contentType, content: a.attachment.content })));
}

/** A single-document submission (SubmissionSet + one DocumentEntry + HasMember). */
export function singleDocumentSubmission(de: DocumentEntry, ss: Partial<SubmissionSet> = {}): XdsMetadata {
  return {
    submissionSets: [submissionSet({ patientId: de.patientId, ...ss })],
    documentEntries: [de],
    folders: [],
    associations: [hasMember('as1', 'SubmissionSet01', de.entryUUID, 'Original')],
    objectRefs: [],
  };
}

/** The NIST KOS as a RAD-68 manifest entry (no hash/size/repository: the repository fills them). */
export const NIST_KOS_SOP_INSTANCE_UID = '2.25.193880843752755703630633023020422049279';
export const PT_KOS_SOP_INSTANCE_UID = '2.25.259148208980725161052280364144201919927';
export function kosEntry(uniqueId: string, patientId: string): DocumentEntry {
  return manifestEntry({ uniqueId, patientId, hash: undefined, size: undefined, repositoryUniqueId: undefined, logicalId: undefined, availabilityStatus: undefined, homeCommunityId: undefined, version: undefined });
}

export { fullDocumentEntry, folder, hasMember, submissionSet, PATIENT as FIXTURE_PATIENT } from '../../../lib/xds/test-fixtures.ts';
