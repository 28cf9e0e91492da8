// The XDS.b registry's storage: registering a validated submission (in the caller's transaction, so
// that the repository can add its document rows to the same commit), the lookups submission
// validation needs, and loading objects back for stored queries. Every value is bound, never
// concatenated into SQL.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import type { XdsObjectTable } from '../../../storage/db/tables/xds.ts';
import {
  ASSOCIATION_TYPE,
  AVAILABILITY_STATUS,
  DOCUMENT_ENTRY_TYPE,
  assignEntryUuids,
  formatXdsTimestamp,
  normalizeXdsTimestamp,
  parsePatientId,
  type Code,
  type DocumentEntry,
  type Folder,
  type RegisteredObject,
  type RegistryLookups,
  type SubmissionSet,
  type XdsAssociation,
  type XdsMetadata,
} from '../../../lib/xds/index.ts';

export type Db = Kysely<Database> | Transaction<Database>;

export type XdsObjectKind = 'DocumentEntry' | 'SubmissionSet' | 'Folder';

/** A registry object as stored: the model object with its registry state applied. */
export type StoredObject =
  | { readonly kind: 'DocumentEntry'; readonly entry: DocumentEntry }
  | { readonly kind: 'SubmissionSet'; readonly entry: SubmissionSet }
  | { readonly kind: 'Folder'; readonly entry: Folder };

export interface RegistryStoreOptions {
  /** Home community OID (without urn:oid:). */
  readonly homeCommunityId: string;
  /** The network's assigning authority: its patient IDs are derived, so they need no feed. */
  readonly patientIdAuthority: string;
  /** Conformance mode (IMAGESHARE_XDS_OPEN_PATIENT_IDS): any well-formed patient ID is accepted. */
  readonly openPatientIds: boolean;
}

export interface RegisteredSubmission {
  readonly submissionSetUuid: string;
  /** Entries inserted (a resubmitted identical DocumentEntry reuses the registered one). */
  readonly inserted: readonly string[];
}

export function codeKey(c: Code): string {
  return `${c.code}^^${c.scheme}`;
}

function time(value: string | undefined): string | null {
  return value === undefined ? null : (normalizeXdsTimestamp(value, 'start') ?? null);
}

export class RegistryStore {
  readonly homeCommunityUrn: string;

  constructor(
    readonly db: Kysely<Database>,
    private readonly opts: RegistryStoreOptions,
  ) {
    this.homeCommunityUrn = `urn:oid:${opts.homeCommunityId}`;
  }

  /** A-PNR-09: derived IDs of our authority, fed IDs (ITI-8), or anything in conformance mode. */
  async isKnownPatientId(patientId: string, db: Db = this.db): Promise<boolean> {
    const parsed = parsePatientId(patientId);
    if (!parsed) return false;
    if (this.opts.openPatientIds || parsed.assigningAuthorityOid === this.opts.patientIdAuthority) return true;
    const row = await db.selectFrom('xds_patient').select('patient_id').where('patient_id', '=', patientId).executeTakeFirst();
    return row !== undefined;
  }

  /** Patient Identity Feed (ITI-8) or an administrator registers a patient ID. */
  async addPatient(patientId: string, source: string, now = new Date()): Promise<void> {
    await this.db
      .insertInto('xds_patient')
      .values({ patient_id: patientId, source, created_at: now.toISOString() })
      .onConflict((oc) => oc.column('patient_id').doNothing())
      .execute();
  }

  lookups(db: Db = this.db): RegistryLookups {
    return {
      isKnownPatientId: (pid) => this.isKnownPatientId(pid, db),
      findByUniqueId: async (uniqueId): Promise<RegisteredObject | undefined> => {
        const row = await db.selectFrom('xds_object').select(['object_type', 'hash', 'size']).where('unique_id', '=', uniqueId).executeTakeFirst();
        if (!row) return undefined;
        return {
          kind: row.object_type as XdsObjectKind,
          ...(row.hash !== null ? { hash: row.hash } : {}),
          ...(row.size !== null ? { size: Number(row.size) } : {}),
        };
      },
      entryUuidExists: async (id) => {
        const obj = await db.selectFrom('xds_object').select('entry_uuid').where('entry_uuid', '=', id).executeTakeFirst();
        if (obj) return true;
        const assoc = await db.selectFrom('xds_association').select('entry_uuid').where('entry_uuid', '=', id).executeTakeFirst();
        return assoc !== undefined;
      },
    };
  }

  /**
   * Replay detection: 'replay' when this SubmissionSet uniqueId was registered from the same
   * content, 'conflict' when it was registered from other content, undefined when new.
   */
  async replayState(submissionSetUniqueId: string, fingerprint: string): Promise<'replay' | 'conflict' | undefined> {
    const row = await this.db
      .selectFrom('xds_object')
      .select(['fingerprint', 'object_type'])
      .where('unique_id', '=', submissionSetUniqueId)
      .executeTakeFirst();
    if (!row) return undefined;
    return row.object_type === 'SubmissionSet' && row.fingerprint === fingerprint ? 'replay' : 'conflict';
  }

  /**
   * Registers a validated submission inside `trx`. Symbolic ids become urn:uuids; a DocumentEntry
   * whose uniqueId is registered already (same hash, checked by validation) is not inserted again:
   * the new associations point to the registered entry. RPLC / XFRM_RPLC deprecate their target.
   */
  async register(trx: Transaction<Database>, metadata: XdsMetadata, fingerprint: string, now: Date): Promise<RegisteredSubmission> {
    const createdAt = now.toISOString();
    const { metadata: m } = assignEntryUuids(metadata);
    const reuse = new Map<string, string>();
    for (const de of m.documentEntries) {
      const existing = await trx.selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', de.uniqueId).where('object_type', '=', 'DocumentEntry').executeTakeFirst();
      if (existing) reuse.set(de.entryUUID, existing.entry_uuid);
    }
    const approved = AVAILABILITY_STATUS.approved;
    const home = this.homeCommunityUrn;
    const common = <T extends SubmissionSet | Folder | DocumentEntry>(e: T): T => ({
      ...e,
      logicalId: e.logicalId !== undefined && e.logicalId.startsWith('urn:uuid:') ? e.logicalId : e.entryUUID,
      version: '1',
      availabilityStatus: approved,
      homeCommunityId: home,
    });
    const inserted: string[] = [];
    const ss = m.submissionSets[0];
    if (!ss) throw new Error('a submission without SubmissionSet reached register()');
    const ssEntry = common(ss);
    await this.insertObject(trx, 'SubmissionSet', ssEntry, {
      content_type_code: ss.contentTypeCode ? codeKey(ss.contentTypeCode) : null,
      source_id: ss.sourceId,
      submission_time: time(ss.submissionTime),
      fingerprint,
      created_at: createdAt,
    });
    await this.insertCodes(trx, ssEntry.entryUUID, 'authorPerson', ss.authors.flatMap((a) => (a.person ? [a.person] : [])));
    inserted.push(ssEntry.entryUUID);
    for (const f of m.folders) {
      // The registry sets lastUpdateTime whenever a Folder changes.
      const entry = common({ ...f, lastUpdateTime: formatXdsTimestamp(now) });
      await this.insertObject(trx, 'Folder', entry, { last_update_time: time(entry.lastUpdateTime), created_at: createdAt });
      await this.insertCodes(trx, entry.entryUUID, 'folderCode', f.codeList.map(codeKey));
      inserted.push(entry.entryUUID);
    }
    for (const de of m.documentEntries) {
      if (reuse.has(de.entryUUID)) continue;
      const entry = common(de);
      await this.insertObject(trx, 'DocumentEntry', entry, {
        entry_type: de.objectType === 'on-demand' ? DOCUMENT_ENTRY_TYPE.onDemand : DOCUMENT_ENTRY_TYPE.stable,
        class_code: de.classCode ? codeKey(de.classCode) : null,
        type_code: de.typeCode ? codeKey(de.typeCode) : null,
        practice_setting_code: de.practiceSettingCode ? codeKey(de.practiceSettingCode) : null,
        hcft_code: de.healthcareFacilityTypeCode ? codeKey(de.healthcareFacilityTypeCode) : null,
        format_code: de.formatCode ? codeKey(de.formatCode) : null,
        creation_time: time(de.creationTime),
        service_start_time: time(de.serviceStartTime),
        service_stop_time: time(de.serviceStopTime),
        mime_type: de.mimeType,
        hash: de.hash?.toLowerCase() ?? null,
        size: de.size ?? null,
        repository_unique_id: de.repositoryUniqueId ?? null,
        created_at: createdAt,
      });
      await this.insertCodes(trx, entry.entryUUID, 'eventCode', de.eventCodes.map(codeKey));
      await this.insertCodes(trx, entry.entryUUID, 'confidentialityCode', de.confidentialityCodes.map(codeKey));
      await this.insertCodes(trx, entry.entryUUID, 'authorPerson', de.authors.flatMap((a) => (a.person ? [a.person] : [])));
      await this.insertCodes(trx, entry.entryUUID, 'referenceId', de.referenceIdList);
      inserted.push(entry.entryUUID);
    }
    for (const a of m.associations) {
      const assoc: XdsAssociation = {
        ...a,
        sourceUUID: reuse.get(a.sourceUUID) ?? a.sourceUUID,
        targetUUID: reuse.get(a.targetUUID) ?? a.targetUUID,
        availabilityStatus: approved,
        homeCommunityId: home,
      };
      await trx
        .insertInto('xds_association')
        .values({
          entry_uuid: assoc.entryUUID,
          type: assoc.type,
          source_uuid: assoc.sourceUUID,
          target_uuid: assoc.targetUUID,
          status: approved,
          json: JSON.stringify(assoc),
          created_at: createdAt,
        })
        .execute();
      inserted.push(assoc.entryUUID);
      if (assoc.type === ASSOCIATION_TYPE.replace || assoc.type === ASSOCIATION_TYPE.transformAndReplace) {
        await trx.updateTable('xds_object').set({ status: AVAILABILITY_STATUS.deprecated }).where('entry_uuid', '=', assoc.targetUUID).where('object_type', '=', 'DocumentEntry').execute();
      }
    }
    return { submissionSetUuid: ssEntry.entryUUID, inserted };
  }

  private async insertObject(
    trx: Transaction<Database>,
    kind: XdsObjectKind,
    entry: SubmissionSet | Folder | DocumentEntry,
    columns: Partial<XdsObjectTable> & { created_at: string },
  ): Promise<void> {
    const row: XdsObjectTable = {
      entry_uuid: entry.entryUUID,
      object_type: kind,
      unique_id: entry.uniqueId,
      lid: entry.logicalId ?? entry.entryUUID,
      version: entry.version ?? '1',
      patient_id: entry.patientId,
      status: entry.availabilityStatus ?? AVAILABILITY_STATUS.approved,
      home_community_id: entry.homeCommunityId ?? null,
      entry_type: null,
      class_code: null,
      type_code: null,
      practice_setting_code: null,
      hcft_code: null,
      format_code: null,
      content_type_code: null,
      source_id: null,
      creation_time: null,
      service_start_time: null,
      service_stop_time: null,
      submission_time: null,
      last_update_time: null,
      mime_type: null,
      hash: null,
      size: null,
      repository_unique_id: null,
      fingerprint: null,
      json: JSON.stringify(entry),
      ...columns,
    };
    await trx.insertInto('xds_object').values(row).execute();
  }

  private async insertCodes(trx: Transaction<Database>, entryUuid: string, kind: string, values: readonly string[]): Promise<void> {
    const unique = [...new Set(values)];
    if (unique.length === 0) return;
    await trx
      .insertInto('xds_object_code')
      .values(unique.map((value) => ({ entry_uuid: entryUuid, kind, value })))
      .execute();
  }

  /** Rows → model objects, with the registry's current status. */
  static toStored(row: Pick<XdsObjectTable, 'object_type' | 'json' | 'status'>): StoredObject {
    const parsed = { ...(JSON.parse(row.json) as Record<string, unknown>), availabilityStatus: row.status };
    switch (row.object_type) {
      case 'DocumentEntry':
        return { kind: 'DocumentEntry', entry: parsed as unknown as DocumentEntry };
      case 'SubmissionSet':
        return { kind: 'SubmissionSet', entry: parsed as unknown as SubmissionSet };
      default:
        return { kind: 'Folder', entry: parsed as unknown as Folder };
    }
  }

  static toAssociation(row: { json: string; status: string }): XdsAssociation {
    return { ...(JSON.parse(row.json) as XdsAssociation), availabilityStatus: row.status };
  }
}
