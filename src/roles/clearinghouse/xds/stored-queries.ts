// ITI-18 stored queries executed against the registry tables. Parameters arrive parsed and typed by
// lib/xds (readStoredQueryRequest); every value is bound. Semantics (ITI TF-2a 3.18.4.1.2.3.7):
// parameters AND together, values of one parameter OR; eventCodeList / confidentialityCode /
// folder codeList given in several Slots are AND of OR-lists; time ranges are From ≤ t < To;
// without $XDSDocumentEntryType only stable entries are returned.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import {
  ASSOCIATION_TYPE,
  DOCUMENT_ENTRY_TYPE,
  normalizeXdsTimestamp,
  QUERY_PARAM as P,
  queryCodeGroups,
  queryString,
  queryStringGroups,
  queryStrings,
  queryTimestamp,
  registryError,
  XdsError,
  type Code,
  type DocumentEntry,
  type Folder,
  type StoredQuery,
  type SubmissionSet,
  type XdsAssociation,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';
import { codeKey, RegistryStore } from './registry-store.ts';

/** A condition no row meets (an empty OR-list). */
const NOTHING = sql<SqlBool>`1 = 0`;

/** More objects than this in one answer → XDSTooManyResults. */
export const MAX_QUERY_RESULTS = 5000;

type ObjectQuery = ReturnType<typeof baseObjects>;
type CodeKind = 'eventCode' | 'confidentialityCode' | 'authorPerson' | 'referenceId' | 'folderCode';
type CodeColumn = 'class_code' | 'type_code' | 'practice_setting_code' | 'hcft_code' | 'format_code' | 'content_type_code';
type TimeColumn = 'creation_time' | 'service_start_time' | 'service_stop_time' | 'submission_time' | 'last_update_time';

function baseObjects(db: Kysely<Database>, kind: 'DocumentEntry' | 'SubmissionSet' | 'Folder') {
  return db.selectFrom('xds_object').select(['entry_uuid', 'object_type', 'json', 'status']).where('object_type', '=', kind);
}

function withCodes(qb: ObjectQuery, column: CodeColumn, codes: readonly Code[] | undefined): ObjectQuery {
  if (codes === undefined) return qb;
  if (codes.length === 0) return qb.where(NOTHING);
  return qb.where(column, 'in', codes.map(codeKey));
}

/** AND over groups, OR within a group, of values in xds_object_code. */
function withCodeGroups(qb: ObjectQuery, kind: CodeKind, groups: readonly (readonly string[])[] | undefined): ObjectQuery {
  let out = qb;
  for (const group of groups ?? []) {
    if (group.length === 0) return out.where(NOTHING);
    out = out.where((eb) =>
      eb.exists(
        eb
          .selectFrom('xds_object_code')
          .select('xds_object_code.entry_uuid')
          .whereRef('xds_object_code.entry_uuid', '=', 'xds_object.entry_uuid')
          .where('xds_object_code.kind', '=', kind)
          .where('xds_object_code.value', 'in', [...group]),
      ),
    );
  }
  return out;
}

/** authorPerson: OR of LIKE patterns (% and _ are the TF's wildcards). */
function withAuthor(qb: ObjectQuery, patterns: readonly string[] | undefined): ObjectQuery {
  if (patterns === undefined) return qb;
  if (patterns.length === 0) return qb.where(NOTHING);
  return qb.where((eb) =>
    eb.exists(
      eb
        .selectFrom('xds_object_code')
        .select('xds_object_code.entry_uuid')
        .whereRef('xds_object_code.entry_uuid', '=', 'xds_object.entry_uuid')
        .where('xds_object_code.kind', '=', 'authorPerson')
        .where((inner) => inner.or(patterns.map((p) => inner('xds_object_code.value', 'like', p)))),
    ),
  );
}

function withRange(qb: ObjectQuery, column: TimeColumn, from: string | undefined, to: string | undefined): ObjectQuery {
  let out = qb;
  const f = from !== undefined ? normalizeXdsTimestamp(from, 'start') : undefined;
  const t = to !== undefined ? normalizeXdsTimestamp(to, 'start') : undefined;
  if (f !== undefined) out = out.where(column, '>=', f);
  if (t !== undefined) out = out.where(column, '<', t);
  return out;
}

function withStatus(qb: ObjectQuery, statuses: readonly string[] | undefined): ObjectQuery {
  // Unknown status values were dropped by the parser (Gazelle ITI18-8); none left → nothing matches.
  if (!statuses || statuses.length === 0) return qb.where(NOTHING);
  return qb.where('status', 'in', [...statuses]);
}

function withEntryType(qb: ObjectQuery, q: StoredQuery): ObjectQuery {
  const types = queryStrings(q, P.documentEntryType);
  return qb.where('entry_type', 'in', types && types.length > 0 ? [...types] : [DOCUMENT_ENTRY_TYPE.stable]);
}

const codeStrings = (groups: readonly (readonly Code[])[] | undefined): (readonly string[])[] | undefined => groups?.map((g) => g.map(codeKey));
const flatCodes = (groups: readonly (readonly Code[])[] | undefined): readonly Code[] | undefined => groups?.flat();

class Result {
  readonly submissionSets: SubmissionSet[] = [];
  readonly documentEntries: DocumentEntry[] = [];
  readonly folders: Folder[] = [];
  readonly associations: XdsAssociation[] = [];
  private readonly seen = new Set<string>();

  addRows(rows: ReadonlyArray<{ entry_uuid: string; object_type: string; json: string; status: string }>): void {
    for (const row of rows) {
      if (this.seen.has(row.entry_uuid)) continue;
      this.seen.add(row.entry_uuid);
      const o = RegistryStore.toStored(row);
      if (o.kind === 'DocumentEntry') this.documentEntries.push(o.entry);
      else if (o.kind === 'SubmissionSet') this.submissionSets.push(o.entry);
      else this.folders.push(o.entry);
    }
    this.check();
  }

  addAssociations(rows: ReadonlyArray<{ entry_uuid: string; json: string; status: string }>): void {
    for (const row of rows) {
      if (this.seen.has(row.entry_uuid)) continue;
      this.seen.add(row.entry_uuid);
      this.associations.push(RegistryStore.toAssociation(row));
    }
    this.check();
  }

  private check(): void {
    if (this.seen.size > MAX_QUERY_RESULTS) {
      throw new XdsError(registryError('XDSTooManyResults', `the query matches more than ${MAX_QUERY_RESULTS} objects; narrow it`));
    }
  }

  metadata(): XdsMetadata {
    return { submissionSets: this.submissionSets, documentEntries: this.documentEntries, folders: this.folders, associations: this.associations, objectRefs: [] };
  }
}

async function objectsById(db: Kysely<Database>, kind: 'DocumentEntry' | 'SubmissionSet' | 'Folder', q: StoredQuery, params: { uuid: string; uniqueId: string; lid?: string }) {
  const uuids = queryStrings(q, params.uuid);
  const uniqueIds = queryStrings(q, params.uniqueId);
  const lids = params.lid ? queryStrings(q, params.lid) : undefined;
  let qb = baseObjects(db, kind);
  if (uuids) qb = uuids.length > 0 ? qb.where('entry_uuid', 'in', [...uuids]) : qb.where(NOTHING);
  else if (uniqueIds) qb = uniqueIds.length > 0 ? qb.where('unique_id', 'in', [...uniqueIds]) : qb.where(NOTHING);
  else if (lids) qb = lids.length > 0 ? qb.where('lid', 'in', [...lids]) : qb.where(NOTHING);
  return qb.limit(MAX_QUERY_RESULTS + 1).execute();
}

async function associationsTouching(db: Kysely<Database>, uuids: readonly string[], types?: readonly string[]) {
  if (uuids.length === 0) return [];
  let qb = db.selectFrom('xds_association').select(['entry_uuid', 'json', 'status', 'source_uuid', 'target_uuid', 'type']).where((eb) => eb.or([eb('source_uuid', 'in', [...uuids]), eb('target_uuid', 'in', [...uuids])]));
  if (types) qb = qb.where('type', 'in', [...types]);
  return qb.limit(MAX_QUERY_RESULTS + 1).execute();
}

async function findDocuments(db: Kysely<Database>, q: StoredQuery, out: Result): Promise<void> {
  let qb = baseObjects(db, 'DocumentEntry').where('patient_id', '=', queryString(q, P.documentEntryPatientId) ?? '');
  qb = withStatus(qb, queryStrings(q, P.documentEntryStatus));
  qb = withEntryType(qb, q);
  qb = withCodes(qb, 'class_code', flatCodes(queryCodeGroups(q, P.documentEntryClassCode)));
  qb = withCodes(qb, 'type_code', flatCodes(queryCodeGroups(q, P.documentEntryTypeCode)));
  qb = withCodes(qb, 'practice_setting_code', flatCodes(queryCodeGroups(q, P.documentEntryPracticeSettingCode)));
  qb = withCodes(qb, 'hcft_code', flatCodes(queryCodeGroups(q, P.documentEntryHealthcareFacilityTypeCode)));
  qb = withCodes(qb, 'format_code', flatCodes(queryCodeGroups(q, P.documentEntryFormatCode)));
  qb = withCodeGroups(qb, 'eventCode', codeStrings(queryCodeGroups(q, P.documentEntryEventCodeList)));
  qb = withCodeGroups(qb, 'confidentialityCode', codeStrings(queryCodeGroups(q, P.documentEntryConfidentialityCode)));
  qb = withCodeGroups(qb, 'referenceId', queryStringGroups(q, P.documentEntryReferenceIdList));
  qb = withAuthor(qb, queryStrings(q, P.documentEntryAuthorPerson));
  qb = withRange(qb, 'creation_time', queryTimestamp(q, P.documentEntryCreationTimeFrom), queryTimestamp(q, P.documentEntryCreationTimeTo));
  qb = withRange(qb, 'service_start_time', queryTimestamp(q, P.documentEntryServiceStartTimeFrom), queryTimestamp(q, P.documentEntryServiceStartTimeTo));
  qb = withRange(qb, 'service_stop_time', queryTimestamp(q, P.documentEntryServiceStopTimeFrom), queryTimestamp(q, P.documentEntryServiceStopTimeTo));
  out.addRows(await qb.orderBy('created_at').limit(MAX_QUERY_RESULTS + 1).execute());
}

async function findSubmissionSets(db: Kysely<Database>, q: StoredQuery, out: Result): Promise<void> {
  let qb = baseObjects(db, 'SubmissionSet').where('patient_id', '=', queryString(q, P.submissionSetPatientId) ?? '');
  qb = withStatus(qb, queryStrings(q, P.submissionSetStatus));
  qb = withCodes(qb, 'content_type_code', flatCodes(queryCodeGroups(q, P.submissionSetContentType)));
  const sources = queryStrings(q, P.submissionSetSourceId);
  if (sources) qb = sources.length > 0 ? qb.where('source_id', 'in', [...sources]) : qb.where(NOTHING);
  qb = withAuthor(qb, queryStrings(q, P.submissionSetAuthorPerson));
  qb = withRange(qb, 'submission_time', queryTimestamp(q, P.submissionSetSubmissionTimeFrom), queryTimestamp(q, P.submissionSetSubmissionTimeTo));
  out.addRows(await qb.orderBy('created_at').limit(MAX_QUERY_RESULTS + 1).execute());
}

async function findFolders(db: Kysely<Database>, q: StoredQuery, out: Result): Promise<void> {
  let qb = baseObjects(db, 'Folder').where('patient_id', '=', queryString(q, P.folderPatientId) ?? '');
  qb = withStatus(qb, queryStrings(q, P.folderStatus));
  qb = withCodeGroups(qb, 'folderCode', codeStrings(queryCodeGroups(q, P.folderCodeList)));
  qb = withRange(qb, 'last_update_time', queryTimestamp(q, P.folderLastUpdateTimeFrom), queryTimestamp(q, P.folderLastUpdateTimeTo));
  out.addRows(await qb.orderBy('created_at').limit(MAX_QUERY_RESULTS + 1).execute());
}

/** Members (HasMember targets) of a SubmissionSet or Folder, with the content filters of ITI-18. */
async function contentsOf(db: Kysely<Database>, q: StoredQuery, ownerUuid: string, out: Result, withFolders: boolean): Promise<void> {
  const memberships = await db
    .selectFrom('xds_association')
    .select(['entry_uuid', 'json', 'status', 'target_uuid'])
    .where('source_uuid', '=', ownerUuid)
    .where('type', '=', ASSOCIATION_TYPE.hasMember)
    .limit(MAX_QUERY_RESULTS + 1)
    .execute();
  const targets = memberships.map((m) => m.target_uuid);
  if (targets.length === 0) return;
  let docs = baseObjects(db, 'DocumentEntry').where('entry_uuid', 'in', targets);
  docs = withEntryType(docs, q);
  docs = withCodes(docs, 'format_code', flatCodes(queryCodeGroups(q, P.documentEntryFormatCode)));
  docs = withCodeGroups(docs, 'confidentialityCode', codeStrings(queryCodeGroups(q, P.documentEntryConfidentialityCode)));
  const docRows = await docs.execute();
  const folderRows = withFolders ? await baseObjects(db, 'Folder').where('entry_uuid', 'in', targets).execute() : [];
  out.addRows(docRows);
  out.addRows(folderRows);
  const kept = new Set([...docRows, ...folderRows].map((r) => r.entry_uuid));
  out.addAssociations(memberships.filter((m) => kept.has(m.target_uuid)));
  if (withFolders && folderRows.length > 0) {
    // Folder → DocumentEntry memberships between returned objects.
    const inner = await db
      .selectFrom('xds_association')
      .select(['entry_uuid', 'json', 'status', 'source_uuid', 'target_uuid'])
      .where('type', '=', ASSOCIATION_TYPE.hasMember)
      .where('source_uuid', 'in', folderRows.map((f) => f.entry_uuid))
      .execute();
    out.addAssociations(inner.filter((a) => kept.has(a.target_uuid)));
  }
}

async function singleObject(db: Kysely<Database>, kind: 'DocumentEntry' | 'SubmissionSet' | 'Folder', uuid: string | undefined, uniqueId: string | undefined) {
  let qb = baseObjects(db, kind);
  qb = uuid !== undefined ? qb.where('entry_uuid', '=', uuid) : qb.where('unique_id', '=', uniqueId ?? '');
  return qb.executeTakeFirst();
}

/** Runs a parsed stored query. Throws XdsError for queries this registry does not support. */
export async function executeStoredQuery(db: Kysely<Database>, q: StoredQuery): Promise<XdsMetadata> {
  const out = new Result();
  switch (q.name) {
    case 'FindDocuments':
    case 'FindDocumentsByReferenceId':
      await findDocuments(db, q, out);
      break;
    case 'FindSubmissionSets':
      await findSubmissionSets(db, q, out);
      break;
    case 'FindFolders':
      await findFolders(db, q, out);
      break;
    case 'GetDocuments':
      out.addRows(await objectsById(db, 'DocumentEntry', q, { uuid: P.documentEntryEntryUUID, uniqueId: P.documentEntryUniqueId, lid: P.documentEntryLogicalId }));
      break;
    case 'GetFolders':
      out.addRows(await objectsById(db, 'Folder', q, { uuid: P.folderEntryUUID, uniqueId: P.folderUniqueId, lid: P.folderLogicalId }));
      break;
    case 'GetAssociations':
      out.addAssociations(await associationsTouching(db, queryStrings(q, P.uuid) ?? []));
      break;
    case 'GetDocumentsAndAssociations': {
      const docs = await objectsById(db, 'DocumentEntry', q, { uuid: P.documentEntryEntryUUID, uniqueId: P.documentEntryUniqueId });
      out.addRows(docs);
      out.addAssociations(await associationsTouching(db, docs.map((d) => d.entry_uuid)));
      break;
    }
    case 'GetSubmissionSets': {
      const uuids = queryStrings(q, P.uuid) ?? [];
      if (uuids.length === 0) break;
      const memberships = await db
        .selectFrom('xds_association')
        .select(['entry_uuid', 'json', 'status', 'source_uuid'])
        .where('type', '=', ASSOCIATION_TYPE.hasMember)
        .where('target_uuid', 'in', [...uuids])
        .execute();
      const sets = memberships.length > 0 ? await baseObjects(db, 'SubmissionSet').where('entry_uuid', 'in', memberships.map((m) => m.source_uuid)).execute() : [];
      out.addRows(sets);
      const setIds = new Set(sets.map((s) => s.entry_uuid));
      out.addAssociations(memberships.filter((m) => setIds.has(m.source_uuid)));
      break;
    }
    case 'GetSubmissionSetAndContents': {
      const ss = await singleObject(db, 'SubmissionSet', queryString(q, P.submissionSetEntryUUID), queryString(q, P.submissionSetUniqueId));
      if (!ss) break;
      out.addRows([ss]);
      await contentsOf(db, q, ss.entry_uuid, out, true);
      break;
    }
    case 'GetFolderAndContents': {
      const folder = await singleObject(db, 'Folder', queryString(q, P.folderEntryUUID), queryString(q, P.folderUniqueId));
      if (!folder) break;
      out.addRows([folder]);
      await contentsOf(db, q, folder.entry_uuid, out, false);
      break;
    }
    case 'GetFoldersForDocument': {
      const de = await singleObject(db, 'DocumentEntry', queryString(q, P.documentEntryEntryUUID), queryString(q, P.documentEntryUniqueId));
      if (!de) break;
      const memberships = await db.selectFrom('xds_association').select(['source_uuid']).where('type', '=', ASSOCIATION_TYPE.hasMember).where('target_uuid', '=', de.entry_uuid).execute();
      if (memberships.length > 0) out.addRows(await baseObjects(db, 'Folder').where('entry_uuid', 'in', memberships.map((m) => m.source_uuid)).execute());
      break;
    }
    case 'GetRelatedDocuments': {
      const de = await singleObject(db, 'DocumentEntry', queryString(q, P.documentEntryEntryUUID), queryString(q, P.documentEntryUniqueId));
      if (!de) break;
      const assocs = await associationsTouching(db, [de.entry_uuid], queryStrings(q, P.associationTypes) ?? []);
      if (assocs.length === 0) break;
      const others = assocs.map((a) => (a.source_uuid === de.entry_uuid ? a.target_uuid : a.source_uuid));
      out.addRows([de]);
      out.addRows(await withEntryType(baseObjects(db, 'DocumentEntry').where('entry_uuid', 'in', others), q).execute());
      out.addAssociations(assocs);
      break;
    }
    case 'GetAll': {
      const pid = queryString(q, P.patientId) ?? '';
      let docs = withEntryType(withStatus(baseObjects(db, 'DocumentEntry').where('patient_id', '=', pid), queryStrings(q, P.documentEntryStatus)), q);
      docs = withCodes(docs, 'format_code', flatCodes(queryCodeGroups(q, P.documentEntryFormatCode)));
      docs = withCodeGroups(docs, 'confidentialityCode', codeStrings(queryCodeGroups(q, P.documentEntryConfidentialityCode)));
      const sets = withStatus(baseObjects(db, 'SubmissionSet').where('patient_id', '=', pid), queryStrings(q, P.submissionSetStatus));
      const folders = withStatus(baseObjects(db, 'Folder').where('patient_id', '=', pid), queryStrings(q, P.folderStatus));
      const rows = [...(await sets.limit(MAX_QUERY_RESULTS + 1).execute()), ...(await folders.limit(MAX_QUERY_RESULTS + 1).execute()), ...(await docs.limit(MAX_QUERY_RESULTS + 1).execute())];
      out.addRows(rows);
      // Associations between the returned objects (membership of memberships included).
      const ids = new Set(rows.map((r) => r.entry_uuid));
      const assocs = await associationsTouching(db, [...ids]);
      const kept = assocs.filter((a) => ids.has(a.source_uuid) && ids.has(a.target_uuid));
      for (const a of kept) ids.add(a.entry_uuid);
      out.addAssociations([...kept, ...assocs.filter((a) => ids.has(a.source_uuid) && ids.has(a.target_uuid) && !kept.includes(a))]);
      break;
    }
    default:
      throw new XdsError(registryError('XDSUnknownStoredQuery', `stored query ${q.name} (${q.queryId}) is not supported by this registry`));
  }
  return out.metadata();
}
