// Validation of ITI-41 / ITI-42 submissions (ihe-protocols.md §3.2, §4, §13 A-PNR-*):
// every failure becomes a RegistryError with the standard code for the transaction.
//
// Message-level rules need nothing but the message (validateSubmissionMetadata); the rules
// that need the registry's state take caller-provided lookups (validateAgainstRegistry), so this
// library stays independent of storage.
import { isOid, organizationProblem, parseCx, patientIdProblem, personProblem } from './hl7-datatypes.ts';
import type { Code, DocumentEntry, Folder, MetadataProblem, SubmissionSet, XdsMetadata } from './metadata.ts';
import { isUuidUrn } from './metadata.ts';
import { registryError, type RegistryError } from './registry-response.ts';
import { isXdsTimestamp, normalizeXdsTimestamp } from './timestamps.ts';
import { ASSOCIATION_TYPE, KNOWN_ASSOCIATION_TYPES, type XdsErrorCode } from './vocabulary.ts';

export type SubmissionTransaction = 'ITI-41' | 'ITI-42';

/** What the repository measured while storing one attached document. */
export interface ReceivedDocument {
  readonly size: number;
  /** Hex SHA-1 (any case). */
  readonly sha1: string;
}

export interface SubmissionToValidate {
  readonly transaction: SubmissionTransaction;
  readonly metadata: XdsMetadata;
  /** Problems reported while reading the ebRIM (readXdsMetadata). */
  readonly problems?: readonly MetadataProblem[];
  /** ITI-41: the attached documents by xdsb:Document id (= the DocumentEntry's id in the message). */
  readonly documents?: ReadonlyMap<string, ReceivedDocument>;
}

const HASH = /^[0-9a-fA-F]{40}$/;
const LANGUAGE = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

class ErrorLog {
  readonly errors: RegistryError[] = [];
  add(code: XdsErrorCode, context: string, location?: string): void {
    this.errors.push(registryError(code, context, location));
  }
}

function checkCode(log: ErrorLog, owner: string, name: string, code: Code | undefined, required: boolean): void {
  if (!code) {
    if (required) log.add('XDSRegistryMetadataError', `${name} is required`, owner);
    return;
  }
  if (code.code === '') log.add('XDSRegistryMetadataError', `${name} has an empty code`, owner);
  if (code.scheme === '') log.add('XDSRegistryMetadataError', `${name} '${code.code}' has no coding scheme`, owner);
}

function checkTimestamp(log: ErrorLog, owner: string, name: string, value: string | undefined, required: boolean): void {
  if (value === undefined || value === '') {
    if (required) log.add('XDSRegistryMetadataError', `${name} is required`, owner);
  } else if (!isXdsTimestamp(value)) {
    log.add('XDSRegistryMetadataError', `${name} '${value.slice(0, 30)}' is not a UTC timestamp YYYY[MM[DD[hh[mm[ss]]]]]`, owner);
  }
}

function checkPatientId(log: ErrorLog, owner: string, name: string, value: string): void {
  if (value === '') {
    log.add('XDSRegistryMetadataError', `${name} is required`, owner);
    return;
  }
  const problem = patientIdProblem(value);
  if (problem) log.add('XDSRegistryMetadataError', `${name} '${value.slice(0, 80)}' is not a valid XDS patient ID: ${problem}`, owner);
}

function checkOid(log: ErrorLog, owner: string, name: string, value: string | undefined, required: boolean, code: XdsErrorCode = 'XDSRegistryMetadataError'): void {
  if (value === undefined || value === '') {
    if (required) log.add(code, `${name} is required`, owner);
  } else if (!isOid(value)) {
    log.add(code, `${name} '${value.slice(0, 80)}' is not an OID (at most 64 characters)`, owner);
  }
}

function checkAuthors(log: ErrorLog, owner: string, authors: DocumentEntry['authors']): void {
  for (const a of authors) {
    const p = a.person !== undefined ? personProblem(a.person) : undefined;
    if (p) log.add('XDSRegistryMetadataError', `authorPerson '${a.person ?? ''}': ${p}`, owner);
    for (const inst of a.institutions) {
      const o = organizationProblem(inst);
      if (o) log.add('XDSRegistryMetadataError', `authorInstitution '${inst}': ${o}`, owner);
    }
  }
}

function checkSubmissionSet(log: ErrorLog, ss: SubmissionSet): void {
  const id = ss.entryUUID;
  checkOid(log, id, 'SubmissionSet.uniqueId', ss.uniqueId, true);
  checkOid(log, id, 'SubmissionSet.sourceId', ss.sourceId, true);
  checkPatientId(log, id, 'SubmissionSet.patientId', ss.patientId);
  checkTimestamp(log, id, 'SubmissionSet.submissionTime', ss.submissionTime, true);
  checkCode(log, id, 'SubmissionSet.contentTypeCode', ss.contentTypeCode, true);
  checkAuthors(log, id, ss.authors);
}

function checkDocumentEntry(log: ErrorLog, de: DocumentEntry, transaction: SubmissionTransaction): void {
  const id = de.entryUUID;
  // hash/size/repositoryUniqueId are the repository's to check in ITI-41 and the registry's in ITI-42.
  const repositoryCode: XdsErrorCode = transaction === 'ITI-41' ? 'XDSRepositoryMetadataError' : 'XDSRegistryMetadataError';
  if (de.uniqueId === '') log.add('XDSRegistryMetadataError', 'DocumentEntry.uniqueId is required', id);
  else if (de.uniqueId.length > 128) log.add('XDSRegistryMetadataError', 'DocumentEntry.uniqueId is longer than 128 characters', id);
  checkPatientId(log, id, 'DocumentEntry.patientId', de.patientId);
  if (de.mimeType === '') log.add('XDSRegistryMetadataError', 'DocumentEntry.mimeType is required', id);
  checkCode(log, id, 'DocumentEntry.classCode', de.classCode, true);
  checkCode(log, id, 'DocumentEntry.typeCode', de.typeCode, true);
  checkCode(log, id, 'DocumentEntry.formatCode', de.formatCode, true);
  checkCode(log, id, 'DocumentEntry.practiceSettingCode', de.practiceSettingCode, true);
  checkCode(log, id, 'DocumentEntry.healthcareFacilityTypeCode', de.healthcareFacilityTypeCode, true);
  if (de.confidentialityCodes.length === 0) log.add('XDSRegistryMetadataError', 'DocumentEntry.confidentialityCode is required', id);
  for (const c of de.confidentialityCodes) checkCode(log, id, 'DocumentEntry.confidentialityCode', c, true);
  for (const c of de.eventCodes) checkCode(log, id, 'DocumentEntry.eventCodeList', c, true);
  checkTimestamp(log, id, 'DocumentEntry.creationTime', de.creationTime, true);
  checkTimestamp(log, id, 'DocumentEntry.serviceStartTime', de.serviceStartTime, false);
  checkTimestamp(log, id, 'DocumentEntry.serviceStopTime', de.serviceStopTime, false);
  if (de.serviceStartTime && de.serviceStopTime) {
    const start = normalizeXdsTimestamp(de.serviceStartTime, 'start');
    const stop = normalizeXdsTimestamp(de.serviceStopTime, 'start');
    if (start !== undefined && stop !== undefined && start > stop) log.add('XDSRegistryMetadataError', 'serviceStartTime is after serviceStopTime', id);
  }
  if (de.languageCode === undefined || de.languageCode === '') log.add('XDSRegistryMetadataError', 'DocumentEntry.languageCode is required', id);
  else if (!LANGUAGE.test(de.languageCode)) log.add('XDSRegistryMetadataError', `languageCode '${de.languageCode.slice(0, 20)}' is not a language tag`, id);
  if (de.sourcePatientId === undefined || de.sourcePatientId === '') {
    log.add('XDSRegistryMetadataError', 'DocumentEntry.sourcePatientId is required', id);
  } else {
    const cx = parseCx(de.sourcePatientId);
    if (cx.id === '' || (cx.assigningAuthority.universalId === '' && cx.assigningAuthority.namespaceId === '')) {
      log.add('XDSRegistryMetadataError', 'sourcePatientId must be a CX with an ID and an assigning authority', id);
    }
  }
  if (de.hash === undefined) {
    if (transaction === 'ITI-42') log.add('XDSRegistryMetadataError', 'DocumentEntry.hash is required in Register Document Set', id);
  } else if (!HASH.test(de.hash)) {
    log.add(repositoryCode, `hash '${de.hash.slice(0, 50)}' is not 40 hexadecimal characters (SHA-1)`, id);
  }
  if (de.size === undefined && transaction === 'ITI-42') log.add('XDSRegistryMetadataError', 'DocumentEntry.size is required in Register Document Set', id);
  checkOid(log, id, 'DocumentEntry.repositoryUniqueId', de.repositoryUniqueId, transaction === 'ITI-42', repositoryCode);
  if (de.title !== undefined && de.title.length > 128) log.add('XDSRegistryMetadataError', 'DocumentEntry.title is longer than 128 characters', id);
  checkAuthors(log, id, de.authors);
  if (de.legalAuthenticator !== undefined) {
    const p = personProblem(de.legalAuthenticator);
    if (p) log.add('XDSRegistryMetadataError', `legalAuthenticator: ${p}`, id);
  }
}

function checkFolder(log: ErrorLog, f: Folder): void {
  const id = f.entryUUID;
  checkOid(log, id, 'Folder.uniqueId', f.uniqueId, true);
  checkPatientId(log, id, 'Folder.patientId', f.patientId);
  if (f.codeList.length === 0) log.add('XDSRegistryMetadataError', 'Folder.codeList needs at least one code', id);
  for (const c of f.codeList) checkCode(log, id, 'Folder.codeList', c, true);
  if (f.title === undefined || f.title === '') log.add('XDSRegistryMetadataError', 'Folder.title (Name) is required', id);
}

function problemCode(p: MetadataProblem, transaction: SubmissionTransaction): XdsErrorCode {
  const repositoryConcern = p.attribute === 'hash' || p.attribute === 'size' || p.attribute === 'document';
  return transaction === 'ITI-41' && repositoryConcern ? 'XDSRepositoryMetadataError' : 'XDSRegistryMetadataError';
}

/** All message-level rules. An empty result means the submission may be registered. */
export function validateSubmissionMetadata(input: SubmissionToValidate): RegistryError[] {
  const { metadata: m, transaction } = input;
  const log = new ErrorLog();
  for (const p of input.problems ?? []) log.add(problemCode(p, transaction), p.message, p.location);

  // A-PNR-15: exactly one SubmissionSet.
  if (m.submissionSets.length !== 1) {
    log.add('XDSRegistryMetadataError', `a submission must contain exactly one SubmissionSet, found ${m.submissionSets.length}`);
  }
  const ss = m.submissionSets[0];
  for (const s of m.submissionSets) checkSubmissionSet(log, s);
  for (const de of m.documentEntries) checkDocumentEntry(log, de, transaction);
  for (const f of m.folders) checkFolder(log, f);

  // Entry ids (symbolic or urn:uuid) must be unique within the message.
  const ids = new Map<string, number>();
  for (const id of [...m.submissionSets, ...m.documentEntries, ...m.folders, ...m.associations].map((e) => e.entryUUID)) {
    ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  for (const [id, n] of ids) {
    if (id === '') log.add('XDSRegistryMetadataError', 'a registry object has no id');
    else if (n > 1) log.add('XDSRegistryMetadataError', `id '${id}' is used by ${n} objects in the submission`, id);
  }

  // A-PNR-08: uniqueIds unique within the message.
  const seenDocUniqueIds = new Map<string, string>();
  for (const de of m.documentEntries) {
    if (de.uniqueId === '') continue;
    const other = seenDocUniqueIds.get(de.uniqueId);
    if (other !== undefined) {
      log.add(
        transaction === 'ITI-41' ? 'XDSRepositoryDuplicateUniqueIdInMessage' : 'XDSRegistryDuplicateUniqueIdInMessage',
        `DocumentEntries ${other} and ${de.entryUUID} have the same uniqueId ${de.uniqueId}`,
        de.uniqueId,
      );
    } else {
      seenDocUniqueIds.set(de.uniqueId, de.entryUUID);
    }
  }
  const seenOther = new Map<string, string>();
  for (const e of [...m.submissionSets, ...m.folders]) {
    if (e.uniqueId === '') continue;
    const other = seenOther.get(e.uniqueId) ?? seenDocUniqueIds.get(e.uniqueId);
    if (other !== undefined) log.add('XDSRegistryDuplicateUniqueIdInMessage', `objects ${other} and ${e.entryUUID} have the same uniqueId ${e.uniqueId}`, e.uniqueId);
    else seenOther.set(e.uniqueId, e.entryUUID);
  }

  // A-PNR-10: every DocumentEntry and Folder belongs to the SubmissionSet's patient.
  if (ss && ss.patientId !== '') {
    for (const e of [...m.documentEntries, ...m.folders]) {
      if (e.patientId !== '' && e.patientId !== ss.patientId) {
        log.add('XDSPatientIdDoesNotMatch', `patientId ${e.patientId} of ${e.entryUUID} differs from the SubmissionSet's ${ss.patientId}`, e.entryUUID);
      }
    }
  }

  // Associations: known types, resolvable endpoints, SubmissionSetStatus, membership.
  const submitted = new Set(ids.keys());
  const docIds = new Set(m.documentEntries.map((d) => d.entryUUID));
  const folderIds = new Set(m.folders.map((f) => f.entryUUID));
  const members = new Set<string>();
  for (const a of m.associations) {
    const id = a.entryUUID;
    if (!KNOWN_ASSOCIATION_TYPES.has(a.type)) {
      log.add('XDSRegistryMetadataError', `association type '${a.type.slice(0, 80)}' is not supported`, id);
      continue;
    }
    for (const [end, ref] of [
      ['sourceObject', a.sourceUUID],
      ['targetObject', a.targetUUID],
    ] as const) {
      if (ref === '') log.add('XDSRegistryMetadataError', `association ${end} is missing`, id);
      else if (!submitted.has(ref) && !isUuidUrn(ref)) log.add('XDSRegistryMetadataError', `association ${end} '${ref}' is neither in the submission nor a urn:uuid`, id);
    }
    if (a.type === ASSOCIATION_TYPE.hasMember) {
      if (ss && a.sourceUUID === ss.entryUUID) {
        members.add(a.targetUUID);
        if (docIds.has(a.targetUUID) || (!submitted.has(a.targetUUID) && isUuidUrn(a.targetUUID))) {
          if (a.submissionSetStatus !== 'Original' && a.submissionSetStatus !== 'Reference') {
            log.add('XDSRegistryMetadataError', 'a SubmissionSet-to-DocumentEntry HasMember association needs SubmissionSetStatus Original or Reference', id);
          }
        }
      }
    } else if (a.type !== ASSOCIATION_TYPE.isSnapshotOf && !docIds.has(a.sourceUUID)) {
      // RPLC, APND, XFRM, XFRM_RPLC, signs: the new document is the source.
      log.add('XDSRegistryMetadataError', `the source of a ${a.type.split(':').pop() ?? ''} association must be a DocumentEntry of this submission`, id);
    }
  }
  if (ss) {
    for (const id of [...docIds, ...folderIds]) {
      if (!members.has(id)) log.add('XDSRegistryMetadataError', `${id} is not linked from the SubmissionSet by a HasMember association`, id);
    }
  }

  // ITI-41: one document per DocumentEntry and the declared hash/size must match the bytes.
  if (transaction === 'ITI-41') {
    const docs = input.documents ?? new Map<string, ReceivedDocument>();
    for (const de of m.documentEntries) {
      if (de.objectType === 'on-demand') continue;
      const doc = docs.get(de.entryUUID);
      if (!doc) {
        log.add('XDSMissingDocument', `DocumentEntry ${de.entryUUID} has no attached document`, de.entryUUID);
        continue;
      }
      // Gazelle ITI41-23 / NIST 11981: hash compared case-insensitively, size exactly.
      if (de.hash !== undefined && HASH.test(de.hash) && de.hash.toLowerCase() !== doc.sha1.toLowerCase()) {
        log.add('XDSRepositoryMetadataError', `hash ${de.hash} in the metadata differs from the document's SHA-1 ${doc.sha1.toLowerCase()}`, de.entryUUID);
      }
      if (de.size !== undefined && de.size !== doc.size) {
        log.add('XDSRepositoryMetadataError', `size ${de.size} in the metadata differs from the document's ${doc.size} bytes`, de.entryUUID);
      }
    }
    for (const id of docs.keys()) {
      if (!docIds.has(id)) log.add('XDSMissingDocumentMetadata', `document ${id} has no DocumentEntry`, id);
    }
  }
  return log.errors;
}

/** What the registry knows about an existing uniqueId. */
export interface RegisteredObject {
  readonly kind: 'DocumentEntry' | 'SubmissionSet' | 'Folder';
  readonly hash?: string;
  readonly size?: number;
}

type MaybePromise<T> = T | Promise<T>;

/** Registry state, provided by the caller (storage stays out of this library). */
export interface RegistryLookups {
  /** Patient identity feed: is this patient ID registered? (A-PNR-09) */
  isKnownPatientId?(patientId: string): MaybePromise<boolean>;
  /** An object already registered with this uniqueId, if any (A-PNR-13). */
  findByUniqueId?(uniqueId: string): MaybePromise<RegisteredObject | undefined>;
  /** Does a registry object with this urn:uuid id exist? (A-PNR-14) */
  entryUuidExists?(entryUuid: string): MaybePromise<boolean>;
}

/** Rules that depend on the registry's content. */
export async function validateAgainstRegistry(metadata: XdsMetadata, lookups: RegistryLookups): Promise<RegistryError[]> {
  const log = new ErrorLog();
  if (lookups.isKnownPatientId) {
    const patientIds = new Set([...metadata.submissionSets, ...metadata.documentEntries, ...metadata.folders].map((e) => e.patientId).filter((p) => p !== ''));
    for (const pid of patientIds) {
      if (!(await lookups.isKnownPatientId(pid))) log.add('XDSUnknownPatientId', `patient ID ${pid} is not known to the registry`, pid);
    }
  }
  if (lookups.findByUniqueId) {
    for (const de of metadata.documentEntries) {
      if (de.uniqueId === '') continue;
      const existing = await lookups.findByUniqueId(de.uniqueId);
      if (!existing) continue;
      if (existing.kind !== 'DocumentEntry') {
        log.add('XDSDuplicateUniqueIdInRegistry', `uniqueId ${de.uniqueId} is already used by a ${existing.kind}`, de.uniqueId);
      } else if (existing.hash !== undefined && de.hash !== undefined && existing.hash.toLowerCase() !== de.hash.toLowerCase()) {
        log.add('XDSNonIdenticalHash', `DocumentEntry ${de.uniqueId} was registered before with another hash`, de.uniqueId);
      } else if (existing.size !== undefined && de.size !== undefined && existing.size !== de.size) {
        log.add('XDSNonIdenticalSize', `DocumentEntry ${de.uniqueId} was registered before with another size`, de.uniqueId);
      }
    }
    for (const e of [...metadata.submissionSets, ...metadata.folders]) {
      if (e.uniqueId === '') continue;
      const existing = await lookups.findByUniqueId(e.uniqueId);
      if (existing) log.add('XDSDuplicateUniqueIdInRegistry', `uniqueId ${e.uniqueId} is already registered (${existing.kind})`, e.uniqueId);
    }
  }
  if (lookups.entryUuidExists) {
    for (const e of [...metadata.submissionSets, ...metadata.documentEntries, ...metadata.folders, ...metadata.associations]) {
      if (isUuidUrn(e.entryUUID) && (await lookups.entryUuidExists(e.entryUUID))) {
        log.add('XDSRegistryMetadataError', `id ${e.entryUUID} already exists in the registry`, e.entryUUID);
      }
    }
  }
  return log.errors;
}

/** Message-level rules, then (only when those pass) the registry-state rules. */
export async function validateSubmission(input: SubmissionToValidate, lookups: RegistryLookups = {}): Promise<RegistryError[]> {
  const errors = validateSubmissionMetadata(input);
  if (errors.some((e) => e.severity === 'Error')) return errors;
  return [...errors, ...(await validateAgainstRegistry(input.metadata, lookups))];
}
