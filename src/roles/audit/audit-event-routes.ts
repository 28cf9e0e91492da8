// FHIR AuditEvent search (`GET /fhir/R4/AuditEvent`) for admins: every stored record, other vendors'
// ones included, as an AuditEvent (IHE BALP form) carrying the message's original identifiers.
import type { FastifyInstance } from 'fastify';
import { requireStaff } from '../../auth/staff-routes.ts';
import { parseAuditXml, toFhirAuditEvent } from '../../lib/audit/index.ts';
import type { AuditSearch, AuditStore } from './audit-store.ts';

export interface AuditEventRoutesOptions {
  store: AuditStore;
}

function operationOutcome(diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics }] };
}

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);

/** FHIR token "system|code" or "code": we match on the code (and on the patient's id for patient refs). */
const tokenValue = (t: string) => (t.includes('|') ? t.slice(t.lastIndexOf('|') + 1) : t);

function parseDate(expr: string, q: AuditSearch): string | null {
  const m = /^(eq|ge|gt|le|lt)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/.exec(expr);
  if (!m) return `invalid date parameter "${expr}"`;
  const prefix = m[1] ?? 'eq';
  const value = m[2]!;
  const start = new Date(value.length === 4 ? `${value}-01-01` : value.length === 7 ? `${value}-01` : value);
  if (Number.isNaN(start.getTime())) return `invalid date parameter "${expr}"`;
  // The end of the period the value names (a day, a month, a year or an instant).
  const end = new Date(start);
  if (value.length === 4) end.setUTCFullYear(end.getUTCFullYear() + 1);
  else if (value.length === 7) end.setUTCMonth(end.getUTCMonth() + 1);
  else if (value.length === 10) end.setUTCDate(end.getUTCDate() + 1);
  else end.setTime(end.getTime() + 1);
  if (prefix === 'eq') {
    q.from = start.toISOString();
    q.to = end.toISOString();
    q.toExclusive = true;
  } else if (prefix === 'ge' || prefix === 'gt') {
    q.from = (prefix === 'gt' ? end : start).toISOString();
    q.fromExclusive = false;
  } else {
    q.to = (prefix === 'le' ? end : start).toISOString();
    q.toExclusive = true;
  }
  return null;
}

export async function registerAuditEventSearch(app: FastifyInstance, opts: AuditEventRoutesOptions): Promise<void> {
  app.get('/fhir/R4/AuditEvent', { preHandler: requireStaff('admin') }, async (request, reply) => {
    const params = request.query as Record<string, unknown>;
    const q: AuditSearch = {};
    const known = new Set(['patient', 'date', 'entity-id', 'type', 'subtype', '_count', '_offset', 'agent', 'user']);
    const unknown = Object.keys(params).filter((k) => !known.has(k));
    if (unknown.length > 0) return reply.code(400).type('application/fhir+json').send(operationOutcome(`unsupported search parameter(s): ${unknown.join(', ')}`));
    const patients = list(params.patient).map((p) => p.replace(/^Patient\//, ''));
    if (patients.length) q.patientIds = patients;
    const entities = list(params['entity-id']).map(tokenValue);
    if (entities.length) q.entityIds = entities;
    const types = [...list(params.type), ...list(params.subtype)].map(tokenValue);
    if (types.length) q.eventCodes = types;
    const agent = list(params.agent ?? params.user)[0];
    if (agent) q.userId = agent;
    for (const d of list(params.date)) {
      const err = parseDate(d, q);
      if (err) return reply.code(400).type('application/fhir+json').send(operationOutcome(err));
    }
    const count = params._count === undefined ? 100 : Number(params._count);
    if (!Number.isInteger(count) || count < 0 || count > 1000) return reply.code(400).type('application/fhir+json').send(operationOutcome('_count must be 0..1000'));
    q.limit = count;
    q.offset = params._offset === undefined ? 0 : Math.max(0, Number(params._offset) || 0);
    const rows = await opts.store.search(q);
    const entry = rows.map((r) => {
      const event = toFhirAuditEvent(parseAuditXml(r.xml, { maxBytes: 1024 * 1024 }).message);
      return { fullUrl: `AuditEvent/${encodeURIComponent(r.id)}`, resource: { ...event, id: r.id.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64) }, search: { mode: 'match' } };
    });
    return reply.type('application/fhir+json').send({ resourceType: 'Bundle', type: 'searchset', total: entry.length, entry });
  });
}
