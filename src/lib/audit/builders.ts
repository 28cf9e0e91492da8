// Typed builders for the audit messages this product emits. Each returns an AuditMessage that
// toDicomXml() turns into DICOM PS3.15 A.5 XML and toFhirAuditEvent() into a FHIR R4 AuditEvent.
//
// Conventions kept by every builder (so that every message validates against the A.5.1 schema):
// - exactly one ActiveParticipant has UserIsRequestor=true when the requestor is known (PS3.15 A.5.2:
//   "The system shall not identify multiple participants as UserIsRequestor"); a human user, when
//   given, is the requestor, otherwise the node that started the transaction;
// - the A.5.1 schema requires ParticipantObjectName or ParticipantObjectQuery on every participant
//   object, so when no name is known the object ID is repeated as its name;
// - EventDateTime is UTC with milliseconds.
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { createHash } from 'node:crypto';
import {
  EventIds,
  EventTypes,
  IheTransactions,
  MediaTypes,
  ObjectIdTypes,
  ProductEventTypes,
  RoleIds,
  type AuditCode,
  type IheTransactionId,
} from './codes.ts';
import { AuditBuildError } from './errors.ts';
import {
  toEventOutcome,
  type ActiveParticipant,
  type AuditMessage,
  type AuditSourceIdentification,
  type DicomObjectDescription,
  type EventActionCode,
  type NetworkAccessPointTypeCode,
  type ObjectDetail,
  type OutcomeInput,
  type ParticipantObject,
} from './model.ts';

// ---------------------------------------------------------------------------------------------
// Inputs

/** Where the audit message comes from (AuditSourceIdentification). */
export interface AuditSourceInput {
  readonly sourceId: string;
  readonly enterpriseSiteId?: string;
  /** AuditSourceTypeCode "1".."9" (PS3.15 A.5.1.2.1); default "4" application server. */
  readonly typeCode?: '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
}

/** A system participant: an application, an endpoint, an AE, an HL7 application|facility. */
export interface NodeRef {
  /** Endpoint URI, AE title, process name, "APP|FACILITY" ... */
  readonly userId: string;
  /** For the local process: its OS process id; for DICOM: "AETITLES=A;B". */
  readonly alternativeUserId?: string;
  readonly userName?: string;
  /** Host name or IP address (NetworkAccessPointID; its type code is derived). */
  readonly host?: string;
}

/** A person (staff member, patient account, admin). */
export interface UserRef {
  /** Login name, e.g. "jsmith@imageshare.example". */
  readonly userId: string;
  readonly userName?: string;
  readonly alternativeUserId?: string;
  /** The client's address as seen by the server. */
  readonly host?: string;
  /** Functional roles (RBAC) to record as RoleIDCode. */
  readonly roles?: readonly AuditCode[];
}

export type PatientRef = string | { readonly id: string; readonly name?: string };

export interface SopClassRef {
  readonly uid: string;
  readonly numberOfInstances?: number;
  readonly instanceUids?: readonly string[];
}

export interface StudyRef {
  readonly uid: string;
  readonly accessionNumbers?: readonly string[];
  readonly sopClasses?: readonly SopClassRef[];
  readonly mppsUids?: readonly string[];
  readonly encrypted?: boolean;
  readonly anonymized?: boolean;
}

export interface DocumentRef {
  readonly uniqueId: string;
  readonly repositoryUniqueId?: string;
  readonly homeCommunityId?: string;
}

interface CommonInput {
  /** Default "success". */
  readonly outcome?: OutcomeInput;
  readonly outcomeDescription?: string;
  /** Event time; default now. */
  readonly at?: Date;
  /** Overrides the builder context's audit source. */
  readonly auditSource?: AuditSourceInput;
}

export interface AuditBuilderContext {
  readonly auditSource?: AuditSourceInput;
  /** Recorded as AlternativeUserID of the local process participant; default process.pid. */
  readonly processId?: string;
  readonly clock?: () => Date;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export function base64Utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The identifier under which a share (or claim code) appears in audit messages: SHA-256 of the
 * token, hex. The token itself must never be audited. Callers that already store a token hash
 * should pass that stored value instead, so the audit trail matches the database.
 */
export function hashShareToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value.trim() === '') throw new AuditBuildError(`${what} is required`);
  return value;
}

function accessPointType(host: string): NetworkAccessPointTypeCode {
  return isIP(host) !== 0 ? '2' : '1';
}

function participant(
  ref: NodeRef | UserRef,
  roles: readonly AuditCode[],
  isRequestor: boolean,
  extra?: { mediaType?: AuditCode },
): ActiveParticipant {
  const host = ref.host;
  return {
    userId: required(ref.userId, 'participant userId'),
    ...(ref.alternativeUserId ? { alternativeUserId: ref.alternativeUserId } : {}),
    ...(ref.userName ? { userName: ref.userName } : {}),
    userIsRequestor: isRequestor,
    roleIdCodes: roles,
    ...(host ? { networkAccessPointId: host, networkAccessPointTypeCode: accessPointType(host) } : {}),
    ...(extra?.mediaType ? { mediaType: extra.mediaType } : {}),
  };
}

function userParticipant(user: UserRef, isRequestor: boolean, extraRoles: readonly AuditCode[] = []): ActiveParticipant {
  return participant(user, [...extraRoles, ...(user.roles ?? [])], isRequestor);
}

function patientIdOf(ref: PatientRef): { id: string; name?: string } {
  return typeof ref === 'string' ? { id: ref } : ref;
}

function detail(type: string, value: string): ObjectDetail {
  return { type, value: base64Utf8(value) };
}

/** Builders for participant objects, usable on their own for extensions. */
export const auditObjects = Object.freeze({
  /** Patient: type 1 (person), role 1 (patient), ID type 2 (patient number); ID in CX form. */
  patient(ref: PatientRef, details: readonly ObjectDetail[] = []): ParticipantObject {
    const p = patientIdOf(ref);
    const id = required(p.id, 'patient id');
    return { id, idTypeCode: ObjectIdTypes.patientNumber, typeCode: '1', role: '1', name: p.name ?? id, details, descriptions: [] };
  },

  /** Study: type 2, role 3 (report), ID type 110180, SOP classes in ParticipantObjectDescription. */
  study(study: StudyRef): ParticipantObject {
    const uid = required(study.uid, 'study instance UID');
    const hasDescription =
      (study.sopClasses?.length ?? 0) > 0 ||
      (study.accessionNumbers?.length ?? 0) > 0 ||
      (study.mppsUids?.length ?? 0) > 0 ||
      study.encrypted !== undefined ||
      study.anonymized !== undefined;
    const description: DicomObjectDescription = {
      mppsUids: study.mppsUids ?? [],
      accessionNumbers: study.accessionNumbers ?? [],
      sopClasses: (study.sopClasses ?? []).map((c) => ({
        uid: c.uid,
        numberOfInstances: c.numberOfInstances ?? c.instanceUids?.length ?? 0,
        instanceUids: c.instanceUids ?? [],
      })),
      containsStudyUids: [],
      ...(study.encrypted !== undefined ? { encrypted: study.encrypted } : {}),
      ...(study.anonymized !== undefined ? { anonymized: study.anonymized } : {}),
    };
    return {
      id: uid,
      idTypeCode: ObjectIdTypes.studyInstanceUid,
      typeCode: '2',
      role: '3',
      name: uid,
      details: [],
      descriptions: hasDescription ? [description] : [],
    };
  },

  /** XDS submission set: type 2, role 20 (job), ID type urn:uuid:a54d6aa5-... (IHE ITI TF-2 3.41.4.1.4). */
  submissionSet(uniqueId: string): ParticipantObject {
    const id = required(uniqueId, 'submission set uniqueId');
    return { id, idTypeCode: ObjectIdTypes.submissionSet, typeCode: '2', role: '20', name: id, details: [], descriptions: [] };
  },

  /** XDS document: type 2, role 3, ID type 9 (report number), details repositoryUniqueId / homeCommunityID (ITI TF-2 3.43.4.1.4). */
  document(doc: DocumentRef): ParticipantObject {
    const id = required(doc.uniqueId, 'document uniqueId');
    const details: ObjectDetail[] = [];
    if (doc.repositoryUniqueId) details.push(detail('Repository Unique Id', doc.repositoryUniqueId));
    if (doc.homeCommunityId) details.push(detail('ihe:homeCommunityID', doc.homeCommunityId));
    return { id, idTypeCode: ObjectIdTypes.reportNumber, typeCode: '2', role: '3', name: id, details, descriptions: [] };
  },

  /**
   * A query: type 2, role 24 (query), the query text base64 in ParticipantObjectQuery and its
   * character encoding in a "QueryEncoding" detail.
   */
  query(q: {
    id: string;
    idTypeCode: AuditCode;
    query: string | Uint8Array;
    encoding?: string;
    name?: string;
    homeCommunityId?: string;
  }): ParticipantObject {
    const id = required(q.id, 'query id');
    const bytes = typeof q.query === 'string' ? Buffer.from(q.query, 'utf8') : Buffer.from(q.query);
    const details: ObjectDetail[] = [detail('QueryEncoding', q.encoding ?? 'UTF-8')];
    if (q.homeCommunityId) details.push(detail('urn:ihe:iti:xca:2010:homeCommunityId', q.homeCommunityId));
    return {
      id,
      idTypeCode: q.idTypeCode,
      typeCode: '2',
      role: '24',
      query: bytes.toString('base64'),
      details,
      descriptions: [],
      ...(q.name ? { name: q.name } : {}),
    };
  },

  /** A DICOM C-FIND: ID type 110181 with the SOP Class UID, the identifier data set and its transfer syntax (PS3.15 A.5.3.12). */
  dicomQuery(q: { sopClassUid: string; dataset: Uint8Array; transferSyntaxUid: string }): ParticipantObject {
    const id = required(q.sopClassUid, 'query SOP class UID');
    return {
      id,
      idTypeCode: ObjectIdTypes.sopClassUid,
      typeCode: '2',
      role: '3',
      query: Buffer.from(q.dataset).toString('base64'),
      details: [detail('TransferSyntax', required(q.transferSyntaxUid, 'transfer syntax UID'))],
      descriptions: [],
    };
  },

  /** A user account as the object of an event: type 2, role 11 (security user entity), ID type 11 (user identifier). */
  userAccount(account: { userId: string; userName?: string }, details: readonly ObjectDetail[] = []): ParticipantObject {
    const id = required(account.userId, 'account userId');
    return { id, idTypeCode: ObjectIdTypes.userIdentifier, typeCode: '2', role: '11', name: account.userName ?? id, details, descriptions: [] };
  },

  /** A share, identified by its token hash (see hashShareToken): type 2, role 13 (security resource). */
  share(shareId: string, details: readonly ObjectDetail[] = []): ParticipantObject {
    const id = required(shareId, 'share id');
    return { id, idTypeCode: ObjectIdTypes.share, typeCode: '2', role: '13', name: id, details, descriptions: [] };
  },

  /** The audit log itself (PS3.15 A.5.3.2): type 2, role 13, ID type 12 (URI), name "Security Audit Log". */
  auditLog(uri: string): ParticipantObject {
    return {
      id: required(uri, 'audit log URI'),
      idTypeCode: ObjectIdTypes.uri,
      typeCode: '2',
      role: '13',
      name: 'Security Audit Log',
      details: [],
      descriptions: [],
    };
  },

  /** A Security Alert subject (PS3.15 A.5.3.13): type 2, with the mandatory "Alert Description" detail. */
  alertSubject(s: { id: string; idTypeCode?: AuditCode; role?: '5' | '13'; description: string; name?: string }): ParticipantObject {
    const id = required(s.id, 'alert subject id');
    return {
      id,
      idTypeCode: s.idTypeCode ?? ObjectIdTypes.uri,
      typeCode: '2',
      role: s.role ?? '13',
      name: s.name ?? id,
      details: [detail('Alert Description', s.description)],
      descriptions: [],
    };
  },
});

// ---------------------------------------------------------------------------------------------
// Event inputs

export interface ApplicationActivityInput extends CommonInput {
  readonly application: NodeRef;
  /** The person or process that started/stopped it (Application Launcher). */
  readonly launcher?: UserRef | NodeRef;
}

export interface UserAuthenticationInput extends CommonInput {
  /** The user authenticated or claimed; host (the client address) should be given (PS3.15 A.5.3.14: M). */
  readonly user: UserRef;
  /** The node performing the authentication. */
  readonly authenticator?: NodeRef;
}

export interface SecurityAlertInput extends CommonInput {
  /** EventTypeCode from CID 401, e.g. EventTypes.nodeAuthentication. */
  readonly type: AuditCode;
  readonly extraTypes?: readonly AuditCode[];
  readonly reporter: NodeRef;
  /** The person doing what raised the alert. */
  readonly performer?: UserRef;
  readonly subjects?: readonly ParticipantObject[];
}

interface TransferParties {
  readonly source: NodeRef;
  readonly destination: NodeRef;
  readonly user?: UserRef;
}

export interface PhiExportInput extends CommonInput {
  /** The local process exporting. */
  readonly exporter: NodeRef;
  readonly user?: UserRef;
  /** A remote receiver (network export). */
  readonly destination?: NodeRef;
  /** Media (PS3.15 A.5.3.4: Destination Media with MediaType). */
  readonly media?: { readonly id: string; readonly type: AuditCode; readonly host?: string };
  readonly patients: readonly PatientRef[];
  readonly studies?: readonly StudyRef[];
  readonly transaction?: IheTransactionId | AuditCode;
  readonly extraTypes?: readonly AuditCode[];
  readonly extraObjects?: readonly ParticipantObject[];
}

export interface PhiImportInput extends CommonInput {
  readonly importer: NodeRef;
  readonly user?: UserRef;
  readonly source?: NodeRef;
  readonly media?: { readonly id: string; readonly type: AuditCode; readonly host?: string };
  readonly patients: readonly PatientRef[];
  readonly studies?: readonly StudyRef[];
  readonly transaction?: IheTransactionId | AuditCode;
  readonly extraObjects?: readonly ParticipantObject[];
}

export interface InstancesTransferredInput extends CommonInput, TransferParties {
  /** C if the receiver did not hold copies, U if it updated them, R otherwise (PS3.15 A.5.3.6). Default R. */
  readonly action?: 'C' | 'R' | 'U';
  /** Which party started the transfer when no user is given. Default "source". */
  readonly requestor?: 'source' | 'destination' | 'none';
  readonly patient: PatientRef;
  readonly studies: readonly StudyRef[];
  /** e.g. "RAD-8" for C-STORE, "RAD-16" for C-MOVE. */
  readonly transaction?: IheTransactionId | AuditCode;
}

export interface InstancesAccessedInput extends CommonInput {
  readonly action: 'C' | 'R' | 'U' | 'D';
  readonly user?: UserRef;
  readonly application?: NodeRef;
  readonly patient: PatientRef;
  readonly studies: readonly StudyRef[];
  readonly extraTypes?: readonly AuditCode[];
  readonly extraObjects?: readonly ParticipantObject[];
}

export interface QueryInput extends CommonInput, TransferParties {
  /** The query object, from auditObjects.query() or auditObjects.dicomQuery(). */
  readonly query: ParticipantObject;
  readonly patient?: PatientRef;
  readonly transaction?: IheTransactionId | AuditCode;
  /** Which node is the requestor when no user is given. Default "source" (the querying side). */
  readonly requestor?: 'source' | 'destination';
}

export interface PatientRecordInput extends CommonInput {
  readonly action: 'C' | 'R' | 'U' | 'D';
  readonly user?: UserRef;
  readonly process?: NodeRef;
  /** For HL7 feeds: the sending application (Source Role). */
  readonly source?: NodeRef;
  /** For HL7 feeds: the receiving application (Destination Role). */
  readonly destination?: NodeRef;
  readonly patient: PatientRef;
  readonly transaction?: IheTransactionId | AuditCode;
  /** HL7 MSH-10 message control id, recorded as a "MSH-10" detail (ITI TF-2 3.8.5.1). */
  readonly messageControlId?: string;
}

export interface XdsSubmissionInput extends CommonInput, TransferParties {
  readonly patientId: string;
  readonly submissionSetUid: string;
  readonly documents?: readonly DocumentRef[];
  readonly studies?: readonly StudyRef[];
}

export interface XdsRetrieveInput extends CommonInput, TransferParties {
  readonly documents: readonly DocumentRef[];
  readonly patientId?: string;
}

export interface Iti18Input extends CommonInput, TransferParties {
  readonly role: 'consumer' | 'registry';
  /** The stored query id (urn:uuid:...). */
  readonly queryId: string;
  /** The AdhocQueryRequest XML as received/sent. */
  readonly queryRequest: string;
  readonly homeCommunityId?: string;
  readonly patientId?: string;
}

export interface ImagingRetrieveInput extends CommonInput, TransferParties {
  readonly studies: readonly StudyRef[];
  readonly patientId?: string;
}

export interface WebQueryInput extends CommonInput, TransferParties {
  /** The request path and query string as received, e.g. "/studies?PatientID=1". */
  readonly request: string;
  readonly patientId?: string;
  /** An IHE transaction code for the search (e.g. ITI-67), if one applies. */
  readonly transaction?: IheTransactionId | AuditCode;
  /** Which node is the requestor when no user is given. Default "source" (the client). */
  readonly requestor?: 'source' | 'destination';
}

export interface ShareEventInput extends CommonInput {
  /** The person acting (share creator / revoker). */
  readonly user: UserRef;
  /** The local application. */
  readonly application: NodeRef;
  /** The share's server-side id: the token hash (hashShareToken), never the token. */
  readonly shareId: string;
  readonly patient: PatientRef;
  readonly studies?: readonly StudyRef[];
  /** Free text for the alert description, e.g. "share created, expires 2024-06-01". */
  readonly description?: string;
}

export interface ShareUsedInput extends CommonInput {
  /** Who used the share: usually only an address is known. */
  readonly accessor: { readonly host: string; readonly userId?: string; readonly userName?: string };
  readonly application: NodeRef;
  readonly shareId: string;
  readonly patient: PatientRef;
  readonly studies: readonly StudyRef[];
}

export interface ClaimAttemptInput extends CommonInput {
  /** The patient account claiming. */
  readonly user: UserRef;
  readonly application: NodeRef;
  /** Hash of the claim code (never the code). */
  readonly claimCodeId?: string;
  readonly patient?: PatientRef;
  readonly studies?: readonly StudyRef[];
  readonly description?: string;
}

export interface DownloadInput extends CommonInput {
  readonly user: UserRef;
  /** The local process producing the download. */
  readonly application: NodeRef;
  readonly patient: PatientRef;
  readonly studies: readonly StudyRef[];
  /** What leaves the system, e.g. "zip", "dicomdir", "jpeg". */
  readonly format?: string;
  /** Download URI without any secret (no tokens in query strings). */
  readonly uri?: string;
}

export interface UserAccountChangeInput extends CommonInput {
  readonly action: 'C' | 'U' | 'D';
  /** Who changed the account. */
  readonly actor: UserRef;
  readonly application: NodeRef;
  readonly account: { readonly userId: string; readonly userName?: string };
  readonly description?: string;
}

export interface AuditLogUsedInput extends CommonInput {
  readonly user?: UserRef;
  readonly process?: NodeRef;
  readonly auditLogUri: string;
}

// ---------------------------------------------------------------------------------------------
// The builders

export type AuditEventBuilders = ReturnType<typeof createAuditEvents>;

/** Builders bound to one audit source (this node) and clock. */
export function createAuditEvents(context: AuditBuilderContext = {}) {
  const clock = context.clock ?? (() => new Date());
  const processId = context.processId ?? String(process.pid);
  const defaultSource: AuditSourceInput = context.auditSource ?? { sourceId: hostname(), typeCode: '4' };

  function sourceOf(input: CommonInput): AuditSourceIdentification {
    const s = input.auditSource ?? defaultSource;
    return {
      sourceId: required(s.sourceId, 'audit source id'),
      ...(s.enterpriseSiteId ? { enterpriseSiteId: s.enterpriseSiteId } : {}),
      typeCodes: [{ code: s.typeCode ?? '4' }],
    };
  }

  /** The local process participant gets our process id as AlternativeUserID unless one is given. */
  function local(node: NodeRef): NodeRef {
    return node.alternativeUserId ? node : { ...node, alternativeUserId: processId };
  }

  function transactionCode(t: IheTransactionId | AuditCode | undefined): AuditCode[] {
    if (t === undefined) return [];
    return [typeof t === 'string' ? IheTransactions[t] : t];
  }

  function message(
    input: CommonInput,
    eventId: AuditCode,
    action: EventActionCode,
    typeCodes: readonly AuditCode[],
    participants: readonly ActiveParticipant[],
    objects: readonly ParticipantObject[],
  ): AuditMessage {
    if (participants.length === 0) throw new AuditBuildError('an audit message needs at least one active participant');
    if (participants.filter((p) => p.userIsRequestor).length > 1) {
      throw new AuditBuildError('at most one active participant may be the requestor');
    }
    return {
      event: {
        eventId,
        action,
        dateTime: (input.at ?? clock()).toISOString(),
        outcome: toEventOutcome(input.outcome ?? 'success'),
        ...(input.outcomeDescription ? { outcomeDescription: input.outcomeDescription } : {}),
        typeCodes,
      },
      participants,
      source: sourceOf(input),
      objects,
    };
  }

  /** Source + destination (+ user): the user, if any, is the requestor, else the named side. */
  function transferParticipants(
    p: TransferParties,
    requestor: 'source' | 'destination' | 'none',
    localSide: 'source' | 'destination',
  ): ActiveParticipant[] {
    const hasUser = p.user !== undefined;
    const src = localSide === 'source' ? local(p.source) : p.source;
    const dst = localSide === 'destination' ? local(p.destination) : p.destination;
    const list = [
      participant(src, [RoleIds.source], !hasUser && requestor === 'source'),
      participant(dst, [RoleIds.destination], !hasUser && requestor === 'destination'),
    ];
    if (p.user) list.push(userParticipant(p.user, true));
    return list;
  }

  function xdsSubmission(
    input: XdsSubmissionInput,
    isSender: boolean,
    transaction: IheTransactionId,
  ): AuditMessage {
    const objects = [
      auditObjects.patient(input.patientId),
      auditObjects.submissionSet(input.submissionSetUid),
      ...(input.documents ?? []).map((d) => auditObjects.document(d)),
      ...(input.studies ?? []).map((s) => auditObjects.study(s)),
    ];
    return message(
      input,
      isSender ? EventIds.export : EventIds.import,
      isSender ? 'R' : 'C',
      [IheTransactions[transaction]],
      transferParticipants(input, 'source', isSender ? 'source' : 'destination'),
      objects,
    );
  }

  /** Retrieve: the source (repository) sends, the destination (consumer) requested. */
  function retrieve(
    input: CommonInput & TransferParties & { patientId?: string },
    isSender: boolean,
    transaction: IheTransactionId,
    objects: ParticipantObject[],
  ): AuditMessage {
    const all = [...(input.patientId ? [auditObjects.patient(input.patientId)] : []), ...objects];
    return message(
      input,
      isSender ? EventIds.export : EventIds.import,
      isSender ? 'R' : 'C',
      [IheTransactions[transaction]],
      transferParticipants(input, 'destination', isSender ? 'source' : 'destination'),
      all,
    );
  }

  function instancesTransferred(input: InstancesTransferredInput, localSide: 'source' | 'destination'): AuditMessage {
    if (input.studies.length === 0) throw new AuditBuildError('at least one study is required');
    return message(
      input,
      EventIds.dicomInstancesTransferred,
      input.action ?? 'R',
      transactionCode(input.transaction),
      transferParticipants(input, input.requestor ?? 'source', localSide),
      [...input.studies.map((s) => auditObjects.study(s)), auditObjects.patient(input.patient)],
    );
  }

  function webQuery(input: WebQueryInput, localSide: 'source' | 'destination', defaultTransaction?: IheTransactionId): AuditMessage {
    const queryObject = auditObjects.query({
      id: required(input.request, 'request').split('?')[0] || input.request,
      idTypeCode: ObjectIdTypes.searchCriteria,
      query: input.request,
    });
    return message(
      input,
      EventIds.query,
      'E',
      transactionCode(input.transaction ?? defaultTransaction),
      transferParticipants(input, input.requestor ?? 'source', localSide),
      [queryObject, ...(input.patientId ? [auditObjects.patient(input.patientId)] : [])],
    );
  }

  function securityAlertMessage(input: SecurityAlertInput): AuditMessage {
    const participants = [participant(local(input.reporter), [], input.performer === undefined)];
    if (input.performer) participants.push(userParticipant(input.performer, true));
    return message(input, EventIds.securityAlert, 'E', [input.type, ...(input.extraTypes ?? [])], participants, input.subjects ?? []);
  }

  const builders = {
    /** Application Activity / Application Start (110100 + 110120), PS3.15 A.5.3.1. */
    applicationStart(input: ApplicationActivityInput): AuditMessage {
      return applicationActivity(input, EventTypes.applicationStart);
    },
    /** Application Activity / Application Stop (110100 + 110121). */
    applicationStop(input: ApplicationActivityInput): AuditMessage {
      return applicationActivity(input, EventTypes.applicationStop);
    },

    /** User Authentication / Login (110114 + 110122); a failed login is outcome 4 (or 8, 12 on lockout). */
    userLogin(input: UserAuthenticationInput): AuditMessage {
      return userAuthentication(input, EventTypes.login);
    },
    /** User Authentication / Logout (110114 + 110123). */
    userLogout(input: UserAuthenticationInput): AuditMessage {
      return userAuthentication(input, EventTypes.logout);
    },

    /** Security Alert (110113), PS3.15 A.5.3.13. */
    securityAlert: securityAlertMessage,

    /** Export (110106), PS3.15 A.5.3.4: PHI leaves this system's control. */
    phiExport(input: PhiExportInput): AuditMessage {
      if (input.patients.length === 0) throw new AuditBuildError('at least one patient is required');
      const hasUser = input.user !== undefined;
      const participants = [participant(local(input.exporter), [RoleIds.source], !hasUser && input.destination === undefined)];
      if (input.user) participants.push(userParticipant(input.user, true, [RoleIds.source]));
      if (input.destination) participants.push(participant(input.destination, [RoleIds.destination], false));
      if (input.media) {
        participants.push(
          participant({ userId: input.media.id, ...(input.media.host ? { host: input.media.host } : {}) }, [RoleIds.destinationMedia], false, {
            mediaType: input.media.type,
          }),
        );
      }
      // With a remote destination and no user, the remote side pulled the data: it is the requestor.
      if (!hasUser && input.destination) {
        const i = participants.findIndex((p) => p.roleIdCodes.includes(RoleIds.destination));
        const p = participants[i];
        if (p) participants[i] = { ...p, userIsRequestor: true };
      }
      return message(
        input,
        EventIds.export,
        'R',
        [...transactionCode(input.transaction), ...(input.extraTypes ?? [])],
        participants,
        [...(input.studies ?? []).map((s) => auditObjects.study(s)), ...input.patients.map((p) => auditObjects.patient(p)), ...(input.extraObjects ?? [])],
      );
    },

    /** Import (110107), PS3.15 A.5.3.5: PHI enters this system from outside its control. */
    phiImport(input: PhiImportInput): AuditMessage {
      if (input.patients.length === 0) throw new AuditBuildError('at least one patient is required');
      const hasUser = input.user !== undefined;
      const participants = [participant(local(input.importer), [RoleIds.destination], !hasUser && input.source === undefined)];
      if (input.user) participants.push(userParticipant(input.user, true, [RoleIds.destination]));
      if (input.source) participants.push(participant(input.source, [RoleIds.source], !hasUser));
      if (input.media) {
        participants.push(
          participant({ userId: input.media.id, ...(input.media.host ? { host: input.media.host } : {}) }, [RoleIds.sourceMedia], false, {
            mediaType: input.media.type,
          }),
        );
      }
      return message(
        input,
        EventIds.import,
        'C',
        transactionCode(input.transaction),
        participants,
        [...(input.studies ?? []).map((s) => auditObjects.study(s)), ...input.patients.map((p) => auditObjects.patient(p)), ...(input.extraObjects ?? [])],
      );
    },

    /** Begin Transferring DICOM Instances (110102), PS3.15 A.5.3.3. Optional companion of instancesTransferred. */
    beginTransferringDicomInstances(input: Omit<InstancesTransferredInput, 'action'>): AuditMessage {
      if (input.studies.length === 0) throw new AuditBuildError('at least one study is required');
      return message(
        input,
        EventIds.beginTransferringDicomInstances,
        'E',
        transactionCode(input.transaction),
        transferParticipants(input, input.requestor ?? 'source', 'source'),
        [...input.studies.map((s) => auditObjects.study(s)), auditObjects.patient(input.patient)],
      );
    },

    /** DICOM Instances Transferred (110104), PS3.15 A.5.3.6, reported by the sending side (C-STORE SCU, C-MOVE SCP). */
    dicomInstancesSent(input: InstancesTransferredInput): AuditMessage {
      return instancesTransferred(input, 'source');
    },
    /** DICOM Instances Transferred (110104) reported by the receiving side (C-STORE SCP). */
    dicomInstancesReceived(input: InstancesTransferredInput): AuditMessage {
      return instancesTransferred({ ...input, action: input.action ?? 'C' }, 'destination');
    },

    /** DICOM Instances Accessed (110103), PS3.15 A.5.3.7: viewing (R), editing (U), deleting (D). */
    dicomInstancesAccessed(input: InstancesAccessedInput): AuditMessage {
      if (input.studies.length === 0) throw new AuditBuildError('at least one study is required');
      const participants: ActiveParticipant[] = [];
      if (input.user) participants.push(userParticipant(input.user, true));
      if (input.application) participants.push(participant(local(input.application), [RoleIds.application], input.user === undefined));
      return message(input, EventIds.dicomInstancesAccessed, input.action, input.extraTypes ?? [], participants, [
        ...input.studies.map((s) => auditObjects.study(s)),
        auditObjects.patient(input.patient),
        ...(input.extraObjects ?? []),
      ]);
    },

    /** Query (110112), PS3.15 A.5.3.12, any protocol; see the specific ones below. */
    query(input: QueryInput): AuditMessage {
      return message(
        input,
        EventIds.query,
        'E',
        transactionCode(input.transaction),
        transferParticipants(input, input.requestor ?? 'source', 'destination'),
        [input.query, ...(input.patient ? [auditObjects.patient(input.patient)] : [])],
      );
    },

    /** Query (110112) for a DICOM C-FIND (RAD-14 by default), reported by either side. */
    dicomFind(
      input: CommonInput &
        TransferParties & {
          role: 'scu' | 'scp';
          sopClassUid: string;
          dataset: Uint8Array;
          transferSyntaxUid: string;
          transaction?: IheTransactionId | AuditCode;
        },
    ): AuditMessage {
      return message(
        input,
        EventIds.query,
        'E',
        transactionCode(input.transaction ?? 'RAD-14'),
        transferParticipants(input, 'source', input.role === 'scu' ? 'source' : 'destination'),
        [auditObjects.dicomQuery(input)],
      );
    },

    /** Query (110112) for QIDO-RS (RAD-129), reported by the client ("source") or the server ("destination"). */
    qidoRsQuery(input: WebQueryInput & { readonly role: 'client' | 'server' }): AuditMessage {
      return webQuery(input, input.role === 'client' ? 'source' : 'destination', 'RAD-129');
    },

    /** Query (110112) for a FHIR search (BALP Query), e.g. transaction ITI-67. */
    fhirSearch(input: WebQueryInput & { readonly role: 'client' | 'server' }): AuditMessage {
      return webQuery(input, input.role === 'client' ? 'source' : 'destination');
    },

    /** Patient Record (110110), PS3.15 A.5.3.11: HL7 feeds, enrolment, merges (C/R/U/D). */
    patientRecord(input: PatientRecordInput): AuditMessage {
      const participants: ActiveParticipant[] = [];
      const hasUser = input.user !== undefined;
      if (input.source) participants.push(participant(input.source, [RoleIds.source], !hasUser));
      if (input.destination) participants.push(participant(input.destination, [RoleIds.destination], false));
      if (input.process) participants.push(participant(local(input.process), [], !hasUser && input.source === undefined));
      if (input.user) participants.push(userParticipant(input.user, true));
      const details = input.messageControlId ? [detail('MSH-10', input.messageControlId)] : [];
      return message(input, EventIds.patientRecord, input.action, transactionCode(input.transaction), participants, [
        auditObjects.patient(input.patient, details),
      ]);
    },

    /**
     * ITI-8 Patient Identity Feed (Patient Record 110110): C for A01/A04/A05, U for A08/A40. For a
     * merge (A40) send one message with U for the surviving patient and one with D for the merged one.
     */
    iti8PatientIdentityFeed(
      input: CommonInput &
        TransferParties & { role: 'source' | 'receiver'; action: 'C' | 'U' | 'D'; patientId: string; messageControlId?: string },
    ): AuditMessage {
      const isSender = input.role === 'source';
      return builders.patientRecord({
        ...input,
        source: isSender ? local(input.source) : input.source,
        destination: isSender ? input.destination : local(input.destination),
        patient: input.patientId,
        transaction: 'ITI-8',
      });
    },

    /** ITI-41 Provide and Register Document Set-b: Export at the Document Source, Import at the Repository. */
    iti41ProvideAndRegister(input: XdsSubmissionInput & { readonly role: 'source' | 'repository' }): AuditMessage {
      return xdsSubmission(input, input.role === 'source', 'ITI-41');
    },

    /** ITI-42 Register Document Set-b: Export at the Repository, Import at the Registry. */
    iti42RegisterDocumentSet(input: XdsSubmissionInput & { readonly role: 'repository' | 'registry' }): AuditMessage {
      return xdsSubmission(input, input.role === 'repository', 'ITI-42');
    },

    /** RAD-68 Provide and Register Imaging Document Set: as ITI-41 (Export at the Imaging Document Source, Import at the Repository). */
    rad68ProvideAndRegisterImaging(input: XdsSubmissionInput & { readonly role: 'imaging-source' | 'repository' }): AuditMessage {
      return xdsSubmission(input, input.role === 'imaging-source', 'RAD-68');
    },

    /**
     * ITI-43 Retrieve Document Set: Export at the Repository (source), Import at the Consumer
     * (destination, the requestor). Documents as report number objects with repository/community details.
     */
    iti43RetrieveDocumentSet(input: XdsRetrieveInput & { readonly role: 'repository' | 'consumer' }): AuditMessage {
      if (input.documents.length === 0) throw new AuditBuildError('at least one document is required');
      return retrieve(input, input.role === 'repository', 'ITI-43', input.documents.map((d) => auditObjects.document(d)));
    },

    /**
     * RAD-69 Retrieve Imaging Document Set. Shaped like ITI-43 (Export at the Imaging Document
     * Source, Import at the Consumer) with the studies retrieved as 110180 objects whose
     * ParticipantObjectDescription lists SOP classes and instances (the RAD TF-3 4.69 audit refers
     * to the ITI-43 record; dcm4chee reports the same transfer as 110104 instead).
     */
    rad69RetrieveImagingDocumentSet(input: ImagingRetrieveInput & { readonly role: 'imaging-source' | 'consumer' }): AuditMessage {
      if (input.studies.length === 0) throw new AuditBuildError('at least one study is required');
      return retrieve(input, input.role === 'imaging-source', 'RAD-69', input.studies.map((s) => auditObjects.study(s)));
    },

    /** RAD-55 WADO (URI) retrieve, as DICOM Instances Transferred (110104, R) between the server and the client. */
    rad55WadoRetrieve(input: ImagingRetrieveInput & { readonly role: 'server' | 'client'; readonly patientId: string }): AuditMessage {
      return instancesTransferred(
        { ...input, action: 'R', requestor: 'destination', patient: input.patientId, transaction: 'RAD-55' },
        input.role === 'server' ? 'source' : 'destination',
      );
    },

    /** RAD-107 WADO-RS Retrieve, as DICOM Instances Transferred (110104, R). */
    rad107WadoRsRetrieve(input: ImagingRetrieveInput & { readonly role: 'server' | 'client'; readonly patientId: string }): AuditMessage {
      return instancesTransferred(
        { ...input, action: 'R', requestor: 'destination', patient: input.patientId, transaction: 'RAD-107' },
        input.role === 'server' ? 'source' : 'destination',
      );
    },

    /** RAD-108 Store Instances over the Web (STOW-RS), as DICOM Instances Transferred (110104, C at the receiver). */
    rad108StoreInstances(
      input: ImagingRetrieveInput & { readonly role: 'sender' | 'receiver'; readonly patientId: string; readonly action?: 'C' | 'U' | 'R' },
    ): AuditMessage {
      return instancesTransferred(
        { ...input, action: input.action ?? 'C', requestor: 'source', patient: input.patientId, transaction: 'RAD-108' },
        input.role === 'sender' ? 'source' : 'destination',
      );
    },

    /** ITI-18 Registry Stored Query (Query 110112, E): query object type 2 role 24, ID type ITI-18 (ITI TF-2 3.18.5.1). */
    iti18RegistryStoredQuery(input: Iti18Input): AuditMessage {
      const queryObject = auditObjects.query({
        id: input.queryId,
        idTypeCode: IheTransactions['ITI-18'],
        query: input.queryRequest,
        ...(input.homeCommunityId ? { homeCommunityId: input.homeCommunityId } : {}),
      });
      return message(
        input,
        EventIds.query,
        'E',
        [IheTransactions['ITI-18']],
        transferParticipants(input, 'source', input.role === 'consumer' ? 'source' : 'destination'),
        [...(input.patientId ? [auditObjects.patient(input.patientId)] : []), queryObject],
      );
    },

    /**
     * Audit recording started/stopped (ITI-20 itself): Security Alert (110113) with 110134 / 110133
     * and EventTypeCode ITI-20, reported by the Audit Record Repository (or a node whose audit
     * sending starts or stops). The audit trail is the alert subject.
     */
    auditRecording(input: CommonInput & { readonly state: 'started' | 'stopped'; readonly reporter: NodeRef; readonly auditTrailUri: string }): AuditMessage {
      return securityAlertMessage({
        ...input,
        type: input.state === 'started' ? EventTypes.auditRecordingStarted : EventTypes.auditRecordingStopped,
        extraTypes: [IheTransactions['ITI-20']],
        subjects: [auditObjects.alertSubject({ id: input.auditTrailUri, name: 'Security Audit Log', description: `audit recording ${input.state}` })],
      });
    },

    /** Audit Log Used (110101, R), PS3.15 A.5.3.2: someone read the audit trail (e.g. the admin audit view, ITI-81). */
    auditLogUsed(input: AuditLogUsedInput): AuditMessage {
      const participants: ActiveParticipant[] = [];
      if (input.user) participants.push(userParticipant(input.user, true));
      if (input.process) participants.push(participant(local(input.process), [], input.user === undefined));
      return message(input, EventIds.auditLogUsed, 'R', [], participants, [auditObjects.auditLog(input.auditLogUri)]);
    },

    // --- product events -----------------------------------------------------------------------

    /** Share created: Security Alert (110113) / Object Security Attributes Changed (110135) + share-created. */
    shareCreated(input: ShareEventInput): AuditMessage {
      return shareChange(input, ProductEventTypes.shareCreated, input.description ?? 'share created');
    },

    /** Share revoked: Security Alert (110113) / Object Security Attributes Changed (110135) + share-revoked. */
    shareRevoked(input: ShareEventInput): AuditMessage {
      return shareChange(input, ProductEventTypes.shareRevoked, input.description ?? 'share revoked');
    },

    /** Share used: DICOM Instances Accessed (110103, R) + share-used; the share appears by its hash. */
    shareUsed(input: ShareUsedInput): AuditMessage {
      const accessor: UserRef = {
        userId: input.accessor.userId ?? `share-recipient@${input.accessor.host}`,
        host: input.accessor.host,
        ...(input.accessor.userName ? { userName: input.accessor.userName } : {}),
      };
      return builders.dicomInstancesAccessed({
        ...input,
        action: 'R',
        user: accessor,
        extraTypes: [ProductEventTypes.shareUsed],
        extraObjects: [auditObjects.share(input.shareId)],
      });
    },

    /**
     * Claim attempt (a patient attaches an exam to their account with a code): Security Alert
     * (110113) / Authorization Decision (110144) + claim-attempt. Failure: outcome 4, or 8 once
     * locked out.
     */
    claimAttempt(input: ClaimAttemptInput): AuditMessage {
      const description = input.description ?? (toEventOutcome(input.outcome ?? 'success') === 0 ? 'claim accepted' : 'claim refused');
      const subjects: ParticipantObject[] = [
        input.claimCodeId
          ? auditObjects.alertSubject({ id: input.claimCodeId, idTypeCode: ObjectIdTypes.claimCode, description })
          : auditObjects.userAccount(input.user, [detail('Alert Description', description)]),
        ...(input.studies ?? []).map((s) => auditObjects.study(s)),
        ...(input.patient ? [auditObjects.patient(input.patient)] : []),
      ];
      return securityAlertMessage({
        ...input,
        type: EventTypes.authorizationDecision,
        extraTypes: [ProductEventTypes.claimAttempt],
        reporter: input.application,
        performer: input.user,
        subjects,
      });
    },

    /** Download: Export (110106, R) + download, to a Destination Media of type URI (110037). */
    download(input: DownloadInput): AuditMessage {
      return builders.phiExport({
        ...input,
        exporter: input.application,
        media: {
          id: input.uri ?? `download:${input.format ?? 'file'}`,
          type: MediaTypes.uri,
          ...(input.user.host ? { host: input.user.host } : {}),
        },
        patients: [input.patient],
        extraTypes: [ProductEventTypes.download],
      });
    },

    /** User account created / changed / deleted: Security Alert (110113) / User Security Attributes Changed (110137). */
    userAccountChanged(input: UserAccountChangeInput): AuditMessage {
      const verb = input.action === 'C' ? 'created' : input.action === 'U' ? 'updated' : 'deleted';
      return securityAlertMessage({
        ...input,
        type: EventTypes.userSecurityAttributesChanged,
        extraTypes: [ProductEventTypes.userAccountChanged],
        reporter: input.application,
        performer: input.actor,
        subjects: [auditObjects.userAccount(input.account, [detail('Alert Description', input.description ?? `account ${verb}`)])],
      });
    },
  };
  return builders;

  function applicationActivity(input: ApplicationActivityInput, type: AuditCode): AuditMessage {
    const participants = [participant(local(input.application), [RoleIds.application], input.launcher === undefined)];
    if (input.launcher) participants.push(participant(input.launcher, [RoleIds.applicationLauncher], true));
    return message(input, EventIds.applicationActivity, 'E', [type], participants, []);
  }

  function userAuthentication(input: UserAuthenticationInput, type: AuditCode): AuditMessage {
    const participants = [userParticipant(input.user, true)];
    if (input.authenticator) participants.push(participant(local(input.authenticator), [], false));
    return message(input, EventIds.userAuthentication, 'E', [type], participants, []);
  }

  function shareChange(input: ShareEventInput, productType: AuditCode, description: string): AuditMessage {
    return securityAlertMessage({
      ...input,
      type: EventTypes.objectSecurityAttributesChanged,
      extraTypes: [productType],
      reporter: input.application,
      performer: input.user,
      subjects: [
        auditObjects.share(input.shareId, [detail('Alert Description', description)]),
        ...(input.studies ?? []).map((s) => auditObjects.study(s)),
        auditObjects.patient(input.patient),
      ],
    });
  }
}

/** Builders with a default audit source (this host, type 4 application server). */
export const auditEvents: AuditEventBuilders = createAuditEvents();
