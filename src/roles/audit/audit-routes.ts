// Staff console API of the audit role (JSON, admins only): search the stored audit records by
// patient, user, event and time, and read one patient's access log.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireStaff } from '../../auth/staff-routes.ts';
import { parseAuditXml } from '../../lib/audit/index.ts';
import type { AuditStore } from './audit-store.ts';

const searchQuery = z.object({
  patientId: z.string().max(256).optional(),
  studyUid: z.string().max(64).optional(),
  user: z.string().max(256).optional(),
  event: z.string().max(64).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export async function registerAuditRoutes(app: FastifyInstance, opts: { store: AuditStore }): Promise<void> {
  app.get('/api/audit/events', { preHandler: requireStaff('admin') }, async (request, reply) => {
    const parsed = searchQuery.safeParse(request.query);
    if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const q = parsed.data;
    const rows = await opts.store.search({
      ...(q.patientId ? { patientIds: [q.patientId] } : {}),
      ...(q.studyUid ? { studyUids: [q.studyUid] } : {}),
      ...(q.user ? { userId: q.user } : {}),
      ...(q.event ? { eventCodes: [q.event] } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
      ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      limit: q.limit,
      offset: q.offset,
    });
    return rows.map((r) => {
      const m = parseAuditXml(r.xml, { maxBytes: 1024 * 1024 }).message;
      const requestor = m.participants.find((p) => p.userIsRequestor) ?? m.participants[0];
      return {
        id: r.id,
        time: r.eventTime,
        receivedAt: r.receivedAt,
        event: { code: m.event.eventId.code, display: m.event.eventId.display ?? null },
        types: m.event.typeCodes.map((t) => ({ code: t.code, display: t.display ?? null })),
        action: m.event.action ?? null,
        outcome: m.event.outcome,
        who: requestor ? { id: requestor.userId, name: requestor.userName ?? null, from: requestor.networkAccessPointId ?? null } : null,
        source: m.source.sourceId,
        objects: m.objects.map((o) => ({ id: o.id, type: o.idTypeCode.code, role: o.role ?? null })),
        transport: r.transport,
      };
    });
  });

  app.get('/api/audit/access-log', { preHandler: requireStaff('admin') }, async (request, reply) => {
    const q = request.query as { patientId?: string | string[]; studyUid?: string | string[] };
    const patientIds = [q.patientId ?? []].flat().filter(Boolean);
    const studyUids = [q.studyUid ?? []].flat().filter(Boolean);
    if (patientIds.length === 0 && studyUids.length === 0) return reply.code(400).send({ error: 'patientId or studyUid is required' });
    return opts.store.accessLog({ patientIds, studyUids });
  });
}
