// AuditMessage -> FHIR R4 AuditEvent, following the DICOM-to-FHIR mapping of the R4 AuditEvent
// resource and IHE Basic Audit Log Patterns (BALP): EventID -> type, EventTypeCode -> subtype
// (IHE transactions as urn:ihe:event-type-code), ActiveParticipant -> agent, AuditSource -> source,
// ParticipantObject -> entity (what.identifier, type, role, lifecycle, query base64, detail).
import { fhirSystemFor, type AuditCode } from './codes.ts';
import type { AuditMessage, EventActionCode, EventOutcome, NetworkAccessPointTypeCode, ParticipantObject } from './model.ts';

export interface FhirCoding {
  system?: string;
  code: string;
  display?: string;
}

export interface FhirCodeableConcept {
  coding: FhirCoding[];
  text?: string;
}

export interface FhirIdentifier {
  type?: FhirCodeableConcept;
  system?: string;
  value: string;
}

export interface FhirReference {
  identifier?: FhirIdentifier;
  display?: string;
}

export interface FhirExtension {
  url: string;
  valueIdentifier?: FhirIdentifier;
  valueInteger?: number;
  valueBoolean?: boolean;
}

export interface FhirAuditEventAgent {
  type?: FhirCodeableConcept;
  role?: FhirCodeableConcept[];
  who: FhirReference;
  altId?: string;
  name?: string;
  requestor: boolean;
  media?: FhirCoding;
  network?: { address: string; type?: NetworkAccessPointTypeCode };
}

export interface FhirAuditEventSource {
  site?: string;
  observer: FhirReference;
  type?: FhirCoding[];
}

export interface FhirAuditEventEntityDetail {
  type: string;
  valueString?: string;
  valueBase64Binary?: string;
}

export interface FhirAuditEventEntity {
  extension?: FhirExtension[];
  what?: FhirReference;
  type?: FhirCoding;
  role?: FhirCoding;
  lifecycle?: FhirCoding;
  securityLabel?: FhirCoding[];
  name?: string;
  description?: string;
  query?: string;
  detail?: FhirAuditEventEntityDetail[];
}

/** The subset of the FHIR R4 AuditEvent resource this library produces. */
export interface FhirAuditEvent {
  resourceType: 'AuditEvent';
  type: FhirCoding;
  subtype?: FhirCoding[];
  action?: EventActionCode;
  recorded: string;
  outcome: `${EventOutcome}`;
  outcomeDesc?: string;
  agent: FhirAuditEventAgent[];
  source: FhirAuditEventSource;
  entity?: FhirAuditEventEntity[];
}

const ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';
const LIFECYCLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/dicom-audit-lifecycle';
const SOURCE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const EXTENSION_BASE = 'http://hl7.org/fhir/StructureDefinition/auditevent-';

const ENTITY_TYPES: Record<string, string> = { '1': 'Person', '2': 'System Object', '3': 'Organization', '4': 'Other' };
const OBJECT_ROLES: Record<string, string> = {
  '1': 'Patient', '2': 'Location', '3': 'Report', '4': 'Domain Resource', '5': 'Master file', '6': 'User',
  '7': 'List', '8': 'Doctor', '9': 'Subscriber', '10': 'Guarantor', '11': 'Security User Entity',
  '12': 'Security User Group', '13': 'Security Resource', '14': 'Security Granularity Definition',
  '15': 'Practitioner', '16': 'Data Destination', '17': 'Data Repository', '18': 'Schedule',
  '19': 'Customer', '20': 'Job', '21': 'Job Stream', '22': 'Table', '23': 'Routing Criteria',
  '24': 'Query', '25': 'Data Source', '26': 'Processing Element',
};
const SOURCE_TYPES: Record<string, string> = {
  '1': 'User Device', '2': 'Data Interface', '3': 'Web Server', '4': 'Application Server',
  '5': 'Database Server', '6': 'Security Server', '7': 'Network Device', '8': 'Network Router', '9': 'Other',
};

export function toFhirCoding(code: AuditCode): FhirCoding {
  const system = fhirSystemFor(code.system);
  return { ...(system ? { system } : {}), code: code.code, ...(code.display ? { display: code.display } : {}) };
}

/** FHIR instant needs a zone; an xsd:dateTime without one is read as UTC. */
function toInstant(dateTime: string): string {
  return /(Z|[+-]\d{2}:\d{2})$/.test(dateTime) ? dateTime : `${dateTime}Z`;
}

function entity(o: ParticipantObject): FhirAuditEventEntity {
  const extension: FhirExtension[] = [];
  const detail: FhirAuditEventEntityDetail[] = o.details.map((d) => ({ type: d.type, valueBase64Binary: d.value }));
  let description: string | undefined;
  for (const d of o.descriptions) {
    for (const uid of d.mppsUids) extension.push({ url: `${EXTENSION_BASE}MPPS`, valueIdentifier: { value: uid } });
    for (const n of d.accessionNumbers) extension.push({ url: `${EXTENSION_BASE}Accession`, valueIdentifier: { value: n } });
    for (const c of d.sopClasses) {
      if (c.uid) detail.push({ type: 'ContainsSOPClass', valueString: c.uid });
      extension.push({ url: `${EXTENSION_BASE}NumberOfInstances`, valueInteger: c.numberOfInstances });
      for (const uid of c.instanceUids) extension.push({ url: `${EXTENSION_BASE}Instance`, valueIdentifier: { value: uid } });
    }
    for (const uid of d.containsStudyUids) {
      extension.push({ url: `${EXTENSION_BASE}ParticipantObjectContainsStudy`, valueIdentifier: { value: uid } });
    }
    if (d.encrypted !== undefined) extension.push({ url: `${EXTENSION_BASE}Encrypted`, valueBoolean: d.encrypted });
    if (d.anonymized !== undefined) extension.push({ url: `${EXTENSION_BASE}Anonymized`, valueBoolean: d.anonymized });
    if (d.text) description = d.text;
  }
  return {
    ...(extension.length ? { extension } : {}),
    what: { identifier: { type: { coding: [toFhirCoding(o.idTypeCode)] }, value: o.id } },
    ...(o.typeCode ? { type: { system: ENTITY_TYPE_SYSTEM, code: o.typeCode, display: ENTITY_TYPES[o.typeCode] ?? o.typeCode } } : {}),
    ...(o.role ? { role: { system: OBJECT_ROLE_SYSTEM, code: o.role, ...(OBJECT_ROLES[o.role] ? { display: OBJECT_ROLES[o.role] } : {}) } } : {}),
    ...(o.lifeCycle ? { lifecycle: { system: LIFECYCLE_SYSTEM, code: o.lifeCycle } } : {}),
    ...(o.sensitivity ? { securityLabel: [{ code: o.sensitivity }] } : {}),
    // AuditEvent invariant sev-1: an entity has a name or a query, not both.
    ...(o.query !== undefined ? { query: o.query } : o.name !== undefined ? { name: o.name } : {}),
    ...(description ? { description } : {}),
    ...(detail.length ? { detail } : {}),
  };
}

/** The message as a FHIR R4 AuditEvent (no id: the server that stores it assigns one). */
export function toFhirAuditEvent(message: AuditMessage): FhirAuditEvent {
  const e = message.event;
  const agent: FhirAuditEventAgent[] = message.participants.map((p) => {
    const [first, ...rest] = p.roleIdCodes;
    return {
      ...(first ? { type: { coding: [toFhirCoding(first)] } } : {}),
      ...(rest.length ? { role: rest.map((r) => ({ coding: [toFhirCoding(r)] })) } : {}),
      who: { identifier: { value: p.userId }, ...(p.userName ? { display: p.userName } : {}) },
      ...(p.alternativeUserId ? { altId: p.alternativeUserId } : {}),
      ...(p.userName ? { name: p.userName } : {}),
      requestor: p.userIsRequestor,
      ...(p.mediaType ? { media: toFhirCoding(p.mediaType) } : {}),
      ...(p.networkAccessPointId
        ? { network: { address: p.networkAccessPointId, ...(p.networkAccessPointTypeCode ? { type: p.networkAccessPointTypeCode } : {}) } }
        : {}),
    };
  });
  const sourceTypes = message.source.typeCodes.map((t): FhirCoding =>
    t.system ? toFhirCoding(t) : { system: SOURCE_TYPE_SYSTEM, code: t.code, ...(SOURCE_TYPES[t.code] ? { display: SOURCE_TYPES[t.code] } : {}) },
  );
  return {
    resourceType: 'AuditEvent',
    type: toFhirCoding(e.eventId),
    ...(e.typeCodes.length ? { subtype: e.typeCodes.map(toFhirCoding) } : {}),
    ...(e.action ? { action: e.action } : {}),
    recorded: toInstant(e.dateTime),
    outcome: `${e.outcome}`,
    ...(e.outcomeDescription ? { outcomeDesc: e.outcomeDescription } : {}),
    agent,
    source: {
      ...(message.source.enterpriseSiteId ? { site: message.source.enterpriseSiteId } : {}),
      observer: { identifier: { value: message.source.sourceId }, display: message.source.sourceId },
      ...(sourceTypes.length ? { type: sourceTypes } : {}),
    },
    ...(message.objects.length ? { entity: message.objects.map(entity) } : {}),
  };
}
