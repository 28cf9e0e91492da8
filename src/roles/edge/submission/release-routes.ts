// Staff API of releases: `POST /api/edge/release` releases a study to its patient (issues or reuses the
// access code, starts the submission job and, with `wait`, answers once the manifest is registered);
// `GET /api/edge/release/:studyInstanceUid` shows the job's status history.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireStaff } from '../../../auth/staff-routes.ts';
import { ReleaseError } from './errors.ts';
import type { ReleaseResult, SubmissionService } from './submission-service.ts';

const releaseBody = z.object({
  studyInstanceUid: z.string().min(1).max(64),
  dateOfBirth: z.string().max(40).optional(),
  /** Answer only when the manifest is registered (or an attempt failed). */
  wait: z.boolean().default(false),
  /** Longest wait, seconds. */
  timeoutSeconds: z.number().int().min(1).max(3600).default(600),
});

function answer(r: ReleaseResult) {
  return {
    studyInstanceUid: r.studyInstanceUid,
    accessCode: r.accessCode,
    dateOfBirth: r.dateOfBirth,
    patientId: r.patientId,
    status: r.status.status,
    attempts: r.status.attempts,
    ...(r.status.error ? { lastError: r.status.error } : {}),
  };
}

export async function registerReleaseRoutes(app: FastifyInstance, service: SubmissionService): Promise<void> {
  app.post('/api/edge/release', { preHandler: requireStaff() }, async (request, reply) => {
    const parsed = releaseBody.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'studyInstanceUid is required (dateOfBirth, wait and timeoutSeconds are optional)' });
    const body = parsed.data;
    try {
      const released = await service.release({
        studyInstanceUid: body.studyInstanceUid,
        ...(body.dateOfBirth ? { dateOfBirth: body.dateOfBirth } : {}),
        requestedBy: request.staff!.username,
      });
      if (!body.wait) return reply.code(202).send(answer(released));
      const outcome = await service.waitForOutcome(released.releaseId, body.timeoutSeconds * 1000, released.status.seq);
      if (outcome.status.status === 'manifest-registered') return reply.code(200).send(answer(outcome));
      if (outcome.status.status === 'failed' || outcome.status.status === 'given-up') {
        return reply.code(502).send({
          ...answer(outcome),
          code: 'SUBMISSION_FAILED',
          error: `submission to the clearinghouse failed: ${outcome.status.error ?? 'unknown error'}`,
          retrying: outcome.status.status === 'failed',
        });
      }
      return reply.code(202).send(answer(outcome)); // still running after timeoutSeconds
    } catch (err) {
      if (err instanceof ReleaseError) return reply.code(err.httpStatus).send({ error: err.message, code: err.code });
      throw err;
    }
  });

  app.get('/api/edge/release/:studyInstanceUid', { preHandler: requireStaff() }, async (request, reply) => {
    const { studyInstanceUid } = request.params as { studyInstanceUid: string };
    const found = await service.statusOf(studyInstanceUid);
    if (!found) return reply.code(404).send({ error: 'this study has not been released' });
    return { ...answer(found.release), history: found.history };
  });
}
