// The audit message model: one shape for messages this library builds and for messages it parses
// from other vendors. It follows DICOM PS3.15 A.5.1 (itself derived from RFC 3881) field by field.
import type { AuditCode } from './codes.ts';

/** EventActionCode: Create, Read, Update, Delete, Execute. */
export type EventActionCode = 'C' | 'R' | 'U' | 'D' | 'E';

/** EventOutcomeIndicator: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type EventOutcome = 0 | 4 | 8 | 12;

/** Outcome as callers may give it to the builders. */
export type OutcomeInput = EventOutcome | 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';

/** NetworkAccessPointTypeCode: 1 machine name, 2 IP address, 3 telephone, 4 email, 5 URI. */
export type NetworkAccessPointTypeCode = '1' | '2' | '3' | '4' | '5';

/** ParticipantObjectTypeCode: 1 person, 2 system object, 3 organization, 4 other. */
export type ParticipantObjectTypeCode = '1' | '2' | '3' | '4';

export interface EventIdentification {
  readonly eventId: AuditCode;
  readonly action?: EventActionCode;
  /** xsd:dateTime as written; builders write UTC with milliseconds ("2024-05-01T10:00:00.000Z"). */
  readonly dateTime: string;
  readonly outcome: EventOutcome;
  readonly outcomeDescription?: string;
  readonly typeCodes: readonly AuditCode[];
}

export interface ActiveParticipant {
  readonly userId: string;
  readonly alternativeUserId?: string;
  readonly userName?: string;
  readonly userIsRequestor: boolean;
  readonly roleIdCodes: readonly AuditCode[];
  readonly networkAccessPointId?: string;
  readonly networkAccessPointTypeCode?: NetworkAccessPointTypeCode;
  /** MediaIdentifier/MediaType, for media participants (Export/Import to or from media). */
  readonly mediaType?: AuditCode;
}

export interface AuditSourceIdentification {
  readonly sourceId: string;
  readonly enterpriseSiteId?: string;
  /** AuditSourceTypeCode: a bare "1".."9" (no system) or a code from a terminology. */
  readonly typeCodes: readonly AuditCode[];
}

/** ParticipantObjectDetail: a type and a base64 value. */
export interface ObjectDetail {
  readonly type: string;
  /** base64 of the value bytes, as carried in XML. */
  readonly value: string;
}

export interface SopClassDescription {
  readonly uid?: string;
  readonly numberOfInstances: number;
  readonly instanceUids: readonly string[];
}

/** ParticipantObjectDescription in the DICOM schema: MPPS, Accession, SOPClass, ... */
export interface DicomObjectDescription {
  readonly mppsUids: readonly string[];
  readonly accessionNumbers: readonly string[];
  readonly sopClasses: readonly SopClassDescription[];
  readonly containsStudyUids: readonly string[];
  readonly encrypted?: boolean;
  readonly anonymized?: boolean;
  /** RFC 3881 style: free text description (the DICOM schema has none). */
  readonly text?: string;
}

export interface ParticipantObject {
  readonly id: string;
  readonly idTypeCode: AuditCode;
  readonly typeCode?: ParticipantObjectTypeCode;
  /** ParticipantObjectTypeCodeRole "1".."26" (1 patient, 3 report, 13 security resource, 20 job, 24 query). */
  readonly role?: string;
  /** ParticipantObjectDataLifeCycle "1".."15". */
  readonly lifeCycle?: string;
  readonly sensitivity?: string;
  readonly name?: string;
  /** base64 of the query, for query objects. */
  readonly query?: string;
  readonly details: readonly ObjectDetail[];
  readonly descriptions: readonly DicomObjectDescription[];
}

/** One audit message (the XML root AuditMessage). */
export interface AuditMessage {
  readonly event: EventIdentification;
  readonly participants: readonly ActiveParticipant[];
  readonly source: AuditSourceIdentification;
  readonly objects: readonly ParticipantObject[];
}

export const OUTCOME_BY_NAME: Readonly<Record<Exclude<OutcomeInput, EventOutcome>, EventOutcome>> = Object.freeze({
  success: 0,
  'minor-failure': 4,
  'serious-failure': 8,
  'major-failure': 12,
});

export function toEventOutcome(outcome: OutcomeInput): EventOutcome {
  return typeof outcome === 'number' ? outcome : OUTCOME_BY_NAME[outcome];
}

/** Patient IDs named in a message: objects with role 1 (patient), or person objects with ID type 2 (patient number). */
export function patientIdsOf(message: AuditMessage): string[] {
  const ids: string[] = [];
  for (const o of message.objects) {
    const isPatient = o.role === '1' || (o.typeCode === '1' && o.idTypeCode.code === '2');
    if (isPatient && !ids.includes(o.id)) ids.push(o.id);
  }
  return ids;
}
