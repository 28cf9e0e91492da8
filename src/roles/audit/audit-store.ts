// The Audit Record Repository's store: every validated message (ours and other vendors') is kept with
// its original XML, plus the identifiers it names as search keys (patient, study, document, user).
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/db/schema.ts';
import { patientIdsOf, type AuditMessage } from '../../lib/audit/index.ts';

export interface StoredAuditInput {
  message: AuditMessage;
  xml: string;
  messageId?: string;
  attributeStyle: string;
  transport: string;
  peerAddress?: string;
  receivedAt: Date;
}

export interface AuditSearch {
  patientIds?: string[];
  studyUids?: string[];
  /** Any identifier the record names (FHIR entity-id). */
  entityIds?: string[];
  userId?: string;
  /** Event ID or event type code (FHIR type / subtype). */
  eventCodes?: string[];
  from?: string;
  to?: string;
  /** Strictness of the bounds (FHIR gt/lt versus ge/le). */
  fromExclusive?: boolean;
  toExclusive?: boolean;
  limit?: number;
  offset?: number;
}

export interface AuditRow {
  id: string;
  receivedAt: string;
  eventTime: string;
  xml: string;
  transport: string;
  peerAddress: string | null;
}

export interface AccessLogEntry {
  at: string;
  event: string;
  action: string | null;
  outcome: 'success' | 'failure';
  who: string | null;
  whoName: string | null;
  from: string | null;
  studies: string[];
  documents: string[];
}

const idKinds: Record<string, string> = { '110180': 'study', '9': 'document', '11': 'user' };

function requestorOf(m: AuditMessage) {
  return m.participants.find((p) => p.userIsRequestor) ?? m.participants[0];
}

export class AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a record; returns false when it was already there (a repeat delivery). */
  async store(input: StoredAuditInput): Promise<boolean> {
    const m = input.message;
    const id = input.messageId ?? `sha256:${createHash('sha256').update(input.xml).digest('hex')}`;
    const requestor = requestorOf(m);
    const entities: Array<{ kind: string; value: string }> = [];
    for (const pid of patientIdsOf(m)) entities.push({ kind: 'patient', value: pid });
    for (const o of m.objects) {
      if (o.role === '1' || (o.typeCode === '1' && o.idTypeCode.code === '2')) continue;
      entities.push({ kind: idKinds[o.idTypeCode.code] ?? 'object', value: o.id });
    }
    for (const p of m.participants) if (p.userId) entities.push({ kind: 'user', value: p.userId });
    return this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('audit_record')
        .values({
          id,
          received_at: input.receivedAt.toISOString(),
          event_time: new Date(m.event.dateTime).toISOString(),
          event_id_code: m.event.eventId.code,
          event_id_system: m.event.eventId.system ?? null,
          event_id_display: m.event.eventId.display ?? null,
          event_action: m.event.action ?? null,
          outcome: m.event.outcome,
          event_types: m.event.typeCodes.map((t) => `${t.system ?? ''}|${t.code}|${t.display ?? ''}`).join('\n'),
          source_id: m.source.sourceId,
          user_id: requestor?.userId ?? null,
          user_name: requestor?.userName ?? null,
          user_host: requestor?.networkAccessPointId ?? null,
          attribute_style: input.attributeStyle,
          transport: input.transport,
          peer_address: input.peerAddress ?? null,
          xml: input.xml,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return false;
      const unique = [...new Map(entities.map((e) => [`${e.kind}\u0000${e.value}`, e])).values()];
      if (unique.length > 0) await tx.insertInto('audit_entity').values(unique.map((e) => ({ record_id: id, ...e }))).execute();
      return true;
    });
  }

  async search(q: AuditSearch): Promise<AuditRow[]> {
    let query = this.db.selectFrom('audit_record').select(['id', 'received_at', 'event_time', 'xml', 'transport', 'peer_address']);
    const byEntity = (kinds: string[] | null, values: string[]) =>
      query.where('id', 'in', (eb) => {
        let sub = eb.selectFrom('audit_entity').select('record_id').where('value', 'in', values);
        if (kinds) sub = sub.where('kind', 'in', kinds);
        return sub;
      });
    if (q.patientIds?.length) query = byEntity(['patient'], q.patientIds);
    if (q.studyUids?.length) query = byEntity(['study'], q.studyUids);
    if (q.entityIds?.length) query = byEntity(null, q.entityIds);
    if (q.userId) query = query.where('user_id', '=', q.userId);
    if (q.eventCodes?.length) {
      const codes = q.eventCodes;
      query = query.where((eb) => eb.or([eb('event_id_code', 'in', codes), ...codes.map((c) => eb('event_types', 'like', `%|${c.replace(/[%_]/g, '')}|%`))]));
    }
    if (q.from) query = query.where('event_time', q.fromExclusive ? '>' : '>=', q.from);
    if (q.to) query = query.where('event_time', q.toExclusive ? '<' : '<=', q.to);
    const rows = await query
      .orderBy('event_time', 'desc')
      .orderBy('id')
      .limit(q.limit ?? 100)
      .offset(q.offset ?? 0)
      .execute();
    return rows.map((r) => ({ id: r.id, receivedAt: r.received_at, eventTime: r.event_time, xml: r.xml, transport: r.transport, peerAddress: r.peer_address }));
  }

  /**
   * The patient's access log: every recorded access to the exams of these registry patient IDs (or
   * these studies), newest first, with who, when, what and from where.
   */
  async accessLog(q: { patientIds?: string[]; studyUids?: string[]; limit?: number }): Promise<AccessLogEntry[]> {
    const values = [...(q.patientIds ?? []), ...(q.studyUids ?? [])];
    if (values.length === 0) return [];
    const rows = await this.db
      .selectFrom('audit_record')
      .select(['id', 'event_time', 'event_id_display', 'event_id_code', 'event_types', 'event_action', 'outcome', 'user_id', 'user_name', 'user_host'])
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('audit_entity')
          .select('record_id')
          .where((w) => w.or([w.and([w('kind', '=', 'patient'), w('value', 'in', q.patientIds?.length ? q.patientIds : [''])]), w.and([w('kind', '=', 'study'), w('value', 'in', q.studyUids?.length ? q.studyUids : [''])])])),
      )
      .orderBy('event_time', 'desc')
      .limit(q.limit ?? 500)
      .execute();
    const ids = rows.map((r) => r.id);
    const entities = ids.length
      ? await this.db.selectFrom('audit_entity').select(['record_id', 'kind', 'value']).where('record_id', 'in', ids).where('kind', 'in', ['study', 'document']).execute()
      : [];
    return rows.map((r) => {
      const firstType = r.event_types.split('\n')[0]?.split('|')[2];
      return {
        at: r.event_time,
        event: firstType || r.event_id_display || r.event_id_code,
        action: r.event_action,
        outcome: r.outcome === 0 ? 'success' : 'failure',
        who: r.user_id,
        whoName: r.user_name,
        from: r.user_host,
        studies: entities.filter((e) => e.record_id === r.id && e.kind === 'study').map((e) => e.value),
        documents: entities.filter((e) => e.record_id === r.id && e.kind === 'document').map((e) => e.value),
      };
    });
  }
}
