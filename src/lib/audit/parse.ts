// Parser and validator for incoming audit messages from any vendor. Accepts both attribute styles:
// DICOM PS3.15 A.5.1 (csd-code / codeSystemName / originalText) and RFC 3881
// (code / codeSystemName / displayName), and RFC 3881 free-text or DICOM structured
// ParticipantObjectDescription, and returns the same normalized AuditMessage.
//
// Security: the input is bounded in size, must be UTF-8, and may not contain a DOCTYPE (so no
// external entities, no entity expansion). Only the five predefined XML entities and character
// references are decoded, by this module itself.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AuditCode } from './codes.ts';
import { AuditParseError, type AuditRejectCode } from './errors.ts';
import {
  patientIdsOf,
  type ActiveParticipant,
  type AuditMessage,
  type AuditSourceIdentification,
  type DicomObjectDescription,
  type EventActionCode,
  type EventOutcome,
  type NetworkAccessPointTypeCode,
  type ObjectDetail,
  type ParticipantObject,
  type ParticipantObjectTypeCode,
  type SopClassDescription,
} from './model.ts';

export const DEFAULT_MAX_AUDIT_MESSAGE_BYTES = 64 * 1024;

export interface ParseAuditOptions {
  /** Largest accepted document in bytes (UTF-8). Default 64 KiB. */
  readonly maxBytes?: number;
}

/** Which attribute style the coded values used. */
export type AttributeStyle = 'dicom' | 'rfc3881' | 'mixed' | 'none';

/** A parsed, validated audit message. */
export interface AuditRecord {
  readonly message: AuditMessage;
  /** Patient IDs named by the message's participant objects. */
  readonly patientIds: readonly string[];
  readonly attributeStyle: AttributeStyle;
  /** The XML as received (decoded as UTF-8, BOM removed). */
  readonly xml: string;
}

type XNode = { readonly [key: string]: unknown };

const utf8 = new TextDecoder('utf-8', { fatal: true });

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: false, // entity references are decoded below, after the DOCTYPE check
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: true,
  trimValues: true,
  alwaysCreateTextNode: true,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (_name: string, _path: unknown, _isLeaf: boolean, isAttribute: boolean) => !isAttribute,
});

function fail(code: AuditRejectCode, message: string): never {
  throw new AuditParseError(code, message);
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{1,32});/g, (_m, ref: string) => {
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!Number.isInteger(cp) || !isXmlChar(cp) || !/^#(x[0-9a-fA-F]+|[0-9]+)$/i.test(ref)) fail('not-well-formed', `invalid character reference &${ref};`);
      return String.fromCodePoint(cp);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) fail('not-well-formed', `undeclared entity &${ref};`);
    return value;
  });
}

function isNode(v: unknown): v is XNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(node: XNode, name: string): XNode[] {
  const v = node[name];
  return Array.isArray(v) ? v.filter(isNode) : [];
}

function attr(node: XNode, name: string): string | undefined {
  const v = node[`@${name}`];
  return typeof v === 'string' ? decodeEntities(v) : undefined;
}

function text(node: XNode): string {
  let out = typeof node['#text'] === 'string' ? decodeEntities(node['#text']) : '';
  // CDATA content is literal: no entity decoding.
  for (const c of children(node, '#cdata')) if (typeof c['#text'] === 'string') out += c['#text'];
  return out.trim();
}

/** Reads one coded value in either style and notes which style it was. */
class CodeReader {
  dicom = 0;
  rfc3881 = 0;

  read(node: XNode, where: string): AuditCode {
    const csd = attr(node, 'csd-code');
    const plain = attr(node, 'code');
    if (csd !== undefined) this.dicom++;
    else if (plain !== undefined) this.rfc3881++;
    const code = csd ?? plain;
    if (code === undefined || code.trim() === '') fail('invalid-field', `${where} has no code`);
    const system = attr(node, 'codeSystemName') ?? attr(node, 'codeSystem');
    const display = attr(node, 'originalText') ?? attr(node, 'displayName');
    return { code: code.trim(), ...(system ? { system } : {}), ...(display ? { display } : {}) };
  }

  get style(): AttributeStyle {
    if (this.dicom && this.rfc3881) return 'mixed';
    if (this.dicom) return 'dicom';
    if (this.rfc3881) return 'rfc3881';
    return 'none';
  }
}

// xsd:dateTime: date, 'T', time, optional fraction, optional zone.
const XSD_DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const ACTIONS: readonly string[] = ['C', 'R', 'U', 'D', 'E'];
const OUTCOMES: readonly string[] = ['0', '4', '8', '12'];

function parseBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

function eventIdentification(root: XNode, codes: CodeReader): AuditMessage['event'] {
  const events = children(root, 'EventIdentification');
  const ev = events[0];
  if (!ev || events.length > 1) fail('missing-event-identification', 'exactly one EventIdentification is required');
  const eventIdNode = children(ev, 'EventID')[0];
  if (!eventIdNode) fail('missing-event-identification', 'EventIdentification has no EventID');
  const dateTime = attr(ev, 'EventDateTime')?.trim();
  if (!dateTime || !XSD_DATE_TIME.test(dateTime) || Number.isNaN(Date.parse(dateTime.endsWith('Z') || /[+-]\d{2}:\d{2}$/.test(dateTime) ? dateTime : `${dateTime}Z`))) {
    fail('invalid-field', `EventDateTime is missing or not an xsd:dateTime: ${JSON.stringify(dateTime ?? null)}`);
  }
  const outcome = attr(ev, 'EventOutcomeIndicator')?.trim();
  if (outcome === undefined || !OUTCOMES.includes(outcome)) fail('invalid-field', `EventOutcomeIndicator must be 0, 4, 8 or 12: ${JSON.stringify(outcome ?? null)}`);
  const action = attr(ev, 'EventActionCode')?.trim();
  if (action !== undefined && !ACTIONS.includes(action)) fail('invalid-field', `EventActionCode must be one of C R U D E: ${JSON.stringify(action)}`);
  const description = children(ev, 'EventOutcomeDescription')[0];
  return {
    eventId: codes.read(eventIdNode, 'EventID'),
    ...(action ? { action: action as EventActionCode } : {}),
    dateTime,
    outcome: Number(outcome) as EventOutcome,
    ...(description && text(description) ? { outcomeDescription: text(description) } : {}),
    typeCodes: children(ev, 'EventTypeCode').map((t) => codes.read(t, 'EventTypeCode')),
  };
}

function activeParticipant(node: XNode, codes: CodeReader): ActiveParticipant {
  const userId = attr(node, 'UserID');
  if (userId === undefined || userId.trim() === '') fail('invalid-field', 'ActiveParticipant without UserID');
  const alternativeUserId = attr(node, 'AlternativeUserID');
  const userName = attr(node, 'UserName');
  const napId = attr(node, 'NetworkAccessPointID');
  const napType = attr(node, 'NetworkAccessPointTypeCode')?.trim();
  const media = children(node, 'MediaIdentifier')[0];
  const mediaTypeNode = media ? children(media, 'MediaType')[0] : undefined;
  return {
    userId,
    ...(alternativeUserId ? { alternativeUserId } : {}),
    ...(userName ? { userName } : {}),
    // RFC 3881 lets UserIsRequestor default; an unreadable value counts as "not the requestor".
    userIsRequestor: parseBoolean(attr(node, 'UserIsRequestor')) ?? false,
    roleIdCodes: children(node, 'RoleIDCode').map((r) => codes.read(r, 'RoleIDCode')),
    ...(napId ? { networkAccessPointId: napId } : {}),
    ...(napType && ['1', '2', '3', '4', '5'].includes(napType) ? { networkAccessPointTypeCode: napType as NetworkAccessPointTypeCode } : {}),
    ...(mediaTypeNode ? { mediaType: codes.read(mediaTypeNode, 'MediaType') } : {}),
  };
}

function auditSource(root: XNode, codes: CodeReader): AuditSourceIdentification {
  // RFC 3881's XSD allows several; the first one is the reporting source.
  const node = children(root, 'AuditSourceIdentification')[0];
  if (!node) fail('missing-audit-source', 'AuditSourceIdentification is required');
  const sourceId = attr(node, 'AuditSourceID');
  if (sourceId === undefined || sourceId.trim() === '') fail('missing-audit-source', 'AuditSourceIdentification without AuditSourceID');
  const siteId = attr(node, 'AuditEnterpriseSiteID');
  return {
    sourceId,
    ...(siteId ? { enterpriseSiteId: siteId } : {}),
    typeCodes: children(node, 'AuditSourceTypeCode').map((t) => codes.read(t, 'AuditSourceTypeCode')),
  };
}

/** DICOM structured description contents, found inside ParticipantObjectDescription or (some vendors) directly in the object. */
function structuredDescription(node: XNode): DicomObjectDescription | undefined {
  const sopClasses: SopClassDescription[] = children(node, 'SOPClass').map((c) => {
    const uid = attr(c, 'UID');
    const count = Number.parseInt(attr(c, 'NumberOfInstances') ?? '', 10);
    const instanceUids = children(c, 'Instance').map((i) => attr(i, 'UID')).filter((u): u is string => !!u);
    return { ...(uid ? { uid } : {}), numberOfInstances: Number.isFinite(count) ? count : instanceUids.length, instanceUids };
  });
  const containsStudyUids = children(node, 'ParticipantObjectContainsStudy')
    .flatMap((s) => children(s, 'StudyIDs'))
    .map((s) => attr(s, 'UID'))
    .filter((u): u is string => !!u);
  const encrypted = children(node, 'Encrypted')[0];
  const anonymized = children(node, 'Anonymized')[0];
  const d: DicomObjectDescription = {
    mppsUids: children(node, 'MPPS').map((m) => attr(m, 'UID')).filter((u): u is string => !!u),
    accessionNumbers: children(node, 'Accession').map((a) => attr(a, 'Number')).filter((u): u is string => !!u),
    sopClasses,
    containsStudyUids,
    ...(encrypted && parseBoolean(text(encrypted)) !== undefined ? { encrypted: parseBoolean(text(encrypted)) } : {}),
    ...(anonymized && parseBoolean(text(anonymized)) !== undefined ? { anonymized: parseBoolean(text(anonymized)) } : {}),
  };
  const empty = !d.mppsUids.length && !d.accessionNumbers.length && !sopClasses.length && !containsStudyUids.length && d.encrypted === undefined && d.anonymized === undefined;
  return empty ? undefined : d;
}

function participantObject(node: XNode, codes: CodeReader): ParticipantObject {
  const id = attr(node, 'ParticipantObjectID');
  if (id === undefined || id.trim() === '') fail('invalid-field', 'ParticipantObjectIdentification without ParticipantObjectID');
  const idTypeNode = children(node, 'ParticipantObjectIDTypeCode')[0];
  if (!idTypeNode) fail('invalid-field', `ParticipantObject ${id} has no ParticipantObjectIDTypeCode`);
  const typeCode = attr(node, 'ParticipantObjectTypeCode')?.trim();
  const role = attr(node, 'ParticipantObjectTypeCodeRole')?.trim();
  const lifeCycle = attr(node, 'ParticipantObjectDataLifeCycle')?.trim();
  const sensitivity = attr(node, 'ParticipantObjectSensitivity');
  const nameNode = children(node, 'ParticipantObjectName')[0];
  const queryNode = children(node, 'ParticipantObjectQuery')[0];
  const details: ObjectDetail[] = children(node, 'ParticipantObjectDetail').map((d) => ({ type: attr(d, 'type') ?? '', value: (attr(d, 'value') ?? '').trim() }));
  const descriptions: DicomObjectDescription[] = [];
  for (const d of children(node, 'ParticipantObjectDescription')) {
    const structured = structuredDescription(d);
    const freeText = text(d);
    if (structured) descriptions.push(freeText ? { ...structured, text: freeText } : structured);
    else if (freeText) descriptions.push({ mppsUids: [], accessionNumbers: [], sopClasses: [], containsStudyUids: [], text: freeText });
  }
  const sibling = structuredDescription(node);
  if (sibling) descriptions.push(sibling);
  return {
    id,
    idTypeCode: codes.read(idTypeNode, 'ParticipantObjectIDTypeCode'),
    ...(typeCode && ['1', '2', '3', '4'].includes(typeCode) ? { typeCode: typeCode as ParticipantObjectTypeCode } : {}),
    ...(role ? { role } : {}),
    ...(lifeCycle ? { lifeCycle } : {}),
    ...(sensitivity ? { sensitivity } : {}),
    ...(nameNode ? { name: text(nameNode) } : {}),
    ...(queryNode ? { query: text(queryNode).replace(/\s+/g, '') } : {}),
    details,
    descriptions,
  };
}

/** Decodes and checks the raw bytes (or string) of an XML audit message; returns its text. */
export function decodeAuditXml(input: string | Uint8Array, options: ParseAuditOptions = {}): string {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_AUDIT_MESSAGE_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) fail('too-large', `audit message of ${size} bytes exceeds the limit of ${maxBytes}`);
  let xml: string;
  if (typeof input === 'string') xml = input;
  else {
    try {
      xml = utf8.decode(input);
    } catch {
      fail('invalid-utf8', 'audit message is not valid UTF-8');
    }
  }
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  const declared = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']/.exec(xml)?.[1]?.toLowerCase();
  if (declared !== undefined && !['utf-8', 'utf8', 'us-ascii', 'ascii'].includes(declared)) {
    fail('unsupported-encoding', `declared encoding ${declared} is not UTF-8`);
  }
  // No DTD at all: this is what keeps out XXE and entity-expansion ("billion laughs") attacks.
  if (/<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST/i.test(xml)) fail('dtd-forbidden', 'DOCTYPE and entity declarations are not accepted');
  return xml;
}

/** Parses and validates one XML audit message (either attribute style). Throws AuditParseError. */
export function parseAuditXml(input: string | Uint8Array, options: ParseAuditOptions = {}): AuditRecord {
  const xml = decodeAuditXml(input, options);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) fail('not-well-formed', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  let doc: unknown;
  try {
    doc = xmlParser.parse(xml);
  } catch (e) {
    fail('not-well-formed', `not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isNode(doc)) fail('not-audit-message', 'empty document');
  const rootNames = Object.keys(doc).filter((k) => !k.startsWith('#') && !k.startsWith('?'));
  const roots = children(doc, 'AuditMessage');
  if (rootNames.length > 1 || roots.length > 1) fail('not-well-formed', 'more than one root element');
  const root = roots[0];
  if (rootNames.length !== 1 || roots.length !== 1 || !root) {
    fail('not-audit-message', `root element must be AuditMessage, found ${rootNames.join(', ') || 'none'}`);
  }
  const codes = new CodeReader();
  const event = eventIdentification(root, codes);
  const participantNodes = children(root, 'ActiveParticipant');
  if (participantNodes.length === 0) fail('missing-active-participant', 'at least one ActiveParticipant is required');
  const participants = participantNodes.map((p) => activeParticipant(p, codes));
  const source = auditSource(root, codes);
  const objects = children(root, 'ParticipantObjectIdentification').map((o) => participantObject(o, codes));
  const message: AuditMessage = { event, participants, source, objects };
  return { message, patientIds: patientIdsOf(message), attributeStyle: codes.style, xml };
}
