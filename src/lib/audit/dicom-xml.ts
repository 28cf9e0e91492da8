// AuditMessage -> DICOM PS3.15 A.5.1 XML (attribute style csd-code / codeSystemName / originalText).
// Elements are written in the order the A.5.1 schema requires.
import type { AuditCode } from './codes.ts';
import { AuditBuildError } from './errors.ts';
import type { AuditMessage, DicomObjectDescription, ParticipantObject } from './model.ts';

// Characters not allowed in XML 1.0 (C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE/F)
// are replaced, so that hostile values (user names, queries) can never make the document invalid.
// eslint-disable-next-line no-control-regex
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXmlText(value: string): string {
  return value.replace(INVALID_XML_CHARS, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function attrs(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  let out = '';
  for (const [name, value] of pairs) if (value !== undefined) out += ` ${name}="${escapeXmlAttribute(value)}"`;
  return out;
}

function codedValue(element: string, code: AuditCode): string {
  if (code.system === undefined || code.system === '') {
    throw new AuditBuildError(`${element} ${code.code}: a coded value needs a codeSystemName in the DICOM schema`);
  }
  return `<${element}${attrs([
    ['csd-code', code.code],
    ['codeSystemName', code.system],
    ['originalText', code.display ?? code.code],
  ])}/>`;
}

function description(d: DicomObjectDescription): string {
  let inner = '';
  for (const uid of d.mppsUids) inner += `<MPPS${attrs([['UID', uid]])}/>`;
  for (const n of d.accessionNumbers) inner += `<Accession${attrs([['Number', n]])}/>`;
  for (const c of d.sopClasses) {
    const instances = c.instanceUids.map((uid) => `<Instance${attrs([['UID', uid]])}/>`).join('');
    const head = `SOPClass${attrs([
      ['UID', c.uid],
      ['NumberOfInstances', String(c.numberOfInstances)],
    ])}`;
    inner += instances ? `<${head}>${instances}</SOPClass>` : `<${head}/>`;
  }
  if (d.containsStudyUids.length > 0) {
    inner += `<ParticipantObjectContainsStudy>${d.containsStudyUids.map((uid) => `<StudyIDs${attrs([['UID', uid]])}/>`).join('')}</ParticipantObjectContainsStudy>`;
  }
  if (d.encrypted !== undefined) inner += `<Encrypted>${String(d.encrypted)}</Encrypted>`;
  if (d.anonymized !== undefined) inner += `<Anonymized>${String(d.anonymized)}</Anonymized>`;
  return `<ParticipantObjectDescription>${inner}</ParticipantObjectDescription>`;
}

function participantObject(o: ParticipantObject): string {
  let inner = codedValue('ParticipantObjectIDTypeCode', o.idTypeCode);
  // The schema wants exactly one of Name / Query; a query object keeps its query.
  if (o.query !== undefined) inner += `<ParticipantObjectQuery>${escapeXmlText(o.query)}</ParticipantObjectQuery>`;
  else inner += `<ParticipantObjectName>${escapeXmlText(o.name ?? o.id)}</ParticipantObjectName>`;
  for (const d of o.details) inner += `<ParticipantObjectDetail${attrs([['type', d.type], ['value', d.value]])}/>`;
  // RFC 3881-style free-text descriptions have no place in the DICOM schema and are left out.
  for (const d of o.descriptions) {
    const structured = d.mppsUids.length + d.accessionNumbers.length + d.sopClasses.length + d.containsStudyUids.length > 0;
    if (structured || d.encrypted !== undefined || d.anonymized !== undefined) inner += description(d);
  }
  return `<ParticipantObjectIdentification${attrs([
    ['ParticipantObjectID', o.id],
    ['ParticipantObjectTypeCode', o.typeCode],
    ['ParticipantObjectTypeCodeRole', o.role],
    ['ParticipantObjectDataLifeCycle', o.lifeCycle],
    ['ParticipantObjectSensitivity', o.sensitivity],
  ])}>${inner}</ParticipantObjectIdentification>`;
}

/** The message as a DICOM PS3.15 A.5.1 XML document (UTF-8, with XML declaration, no pretty printing). */
export function toDicomXml(message: AuditMessage): string {
  const e = message.event;
  let xml = '<?xml version="1.0" encoding="UTF-8"?><AuditMessage>';
  xml += `<EventIdentification${attrs([
    ['EventActionCode', e.action],
    ['EventDateTime', e.dateTime],
    ['EventOutcomeIndicator', String(e.outcome)],
  ])}>`;
  xml += codedValue('EventID', e.eventId);
  for (const t of e.typeCodes) xml += codedValue('EventTypeCode', t);
  if (e.outcomeDescription !== undefined) xml += `<EventOutcomeDescription>${escapeXmlText(e.outcomeDescription)}</EventOutcomeDescription>`;
  xml += '</EventIdentification>';

  for (const p of message.participants) {
    let inner = p.roleIdCodes.map((r) => codedValue('RoleIDCode', r)).join('');
    if (p.mediaType) inner += `<MediaIdentifier>${codedValue('MediaType', p.mediaType)}</MediaIdentifier>`;
    xml += `<ActiveParticipant${attrs([
      ['UserID', p.userId],
      ['AlternativeUserID', p.alternativeUserId],
      ['UserName', p.userName],
      ['UserIsRequestor', String(p.userIsRequestor)],
      ['NetworkAccessPointID', p.networkAccessPointId],
      ['NetworkAccessPointTypeCode', p.networkAccessPointTypeCode],
    ])}${inner ? `>${inner}</ActiveParticipant>` : '/>'}`;
  }

  const s = message.source;
  const sourceTypes = s.typeCodes
    .map((t) => (t.system ? codedValue('AuditSourceTypeCode', t) : `<AuditSourceTypeCode${attrs([['csd-code', t.code]])}/>`))
    .join('');
  xml += `<AuditSourceIdentification${attrs([
    ['AuditEnterpriseSiteID', s.enterpriseSiteId],
    ['AuditSourceID', s.sourceId],
  ])}${sourceTypes ? `>${sourceTypes}</AuditSourceIdentification>` : '/>'}`;

  for (const o of message.objects) xml += participantObject(o);
  return `${xml}</AuditMessage>`;
}
