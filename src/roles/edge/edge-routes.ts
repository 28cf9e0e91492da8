// Staff API of the edge (JSON): the study list and the pull from the site PACS.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireStaff } from '../../auth/staff-routes.ts';
import type { EdgeIndex } from './edge-index.ts';
import { PullError, type PacsPuller } from './pacs-pull.ts';

const studiesQuery = z.object({
  patientId: z.string().max(64).optional(),
  accession: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});

const retrieveBody = z.object({
  patientId: z.string().min(1).max(64),
  accessionNumber: z.string().min(1).max(64),
});

export interface EdgeRoutesOptions {
  index: EdgeIndex;
  puller: PacsPuller;
  onStudiesQueried?: (event: { staff: string; ip: string; url: string; patientId?: string; accession?: string; count: number }) => void;
}

export async function registerEdgeRoutes(app: FastifyInstance, opts: EdgeRoutesOptions): Promise<void> {
  app.get('/api/edge/studies', { preHandler: requireStaff() }, async (request, reply) => {
    const parsed = studiesQuery.safeParse(request.query);
    if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const q = parsed.data;
    const studies = await opts.index.listStudies({
      patientId: q.patientId || undefined,
      accession: q.accession || undefined,
      limit: q.limit,
      offset: q.offset,
    });
    opts.onStudiesQueried?.({ staff: request.staff!.username, ip: request.ip, url: request.url, patientId: q.patientId, accession: q.accession, count: studies.length });
    return studies.map((s) => ({
      studyInstanceUid: s.studyInstanceUid,
      patientId: s.patientId,
      patientName: s.patientName,
      patientBirthDate: s.patientBirthDate,
      patientSex: s.patientSex,
      accessionNumber: s.accessionNumber,
      studyDate: s.studyDate,
      studyTime: s.studyTime,
      studyDescription: s.studyDescription,
      modalities: s.modalities,
      numberOfSeries: s.numberOfSeries,
      numberOfInstances: s.numberOfInstances,
    }));
  });

  app.post('/api/edge/retrieve', { preHandler: requireStaff() }, async (request, reply) => {
    const parsed = retrieveBody.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'patientId and accessionNumber are required' });
    try {
      const result = await opts.puller.pull(parsed.data);
      return result;
    } catch (err) {
      if (err instanceof PullError) return reply.code(err.httpStatus).send({ error: err.message, code: err.code });
      throw err;
    }
  });
}
