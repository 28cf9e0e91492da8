// STOW-RS (PS3.18 10.5, IHE RAD-108): POST /dicomweb/studies[/{study}] with a multipart/related body of
// application/dicom parts. Each part streams into the blob store as it arrives; the index rows of the
// whole request are written together at the end, so a truncated or malformed body leaves nothing
// indexed. A part that cannot be stored is listed in the Failed SOP Sequence and the others still are.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore } from '../../../storage/blob/blob-store.ts';
import type { ClearinghouseInstanceTable } from '../../../storage/db/tables/clearinghouse-images.ts';
import type { Logger } from '../../../util/log.ts';
import { isValidUid } from '../../../lib/dicom/uid.ts';
import {
  MultipartError,
  negotiateStowResponseType,
  parseMultipartRelatedContentType,
  readMultipartRelated,
  renderStowResponse,
  stowHttpStatus,
  StowFailureReason,
  type StowFailedInstance,
  type StowResult,
  type StowStoredInstance,
} from '../../../lib/dicomweb/index.ts';
import type { ImageIndex, RecordOutcome } from './image-index.ts';
import { finishDicomPart, streamDicomPart, type PartIntake } from './dicom-part-intake.ts';
import { identifyRequester, requesterLabel, requireNodeOrStaff, type Requester } from './requester.ts';

export interface StoredStudySummary {
  studyInstanceUid: string;
  patientId: string | null;
  /** SOP Class UID → SOP Instance UIDs stored (or already there) in this request. */
  sopClasses: Map<string, string[]>;
}

export interface StowRoutesOptions {
  index: ImageIndex;
  blobs: BlobStore;
  log: Logger;
  /** Most parts in one request (default 100,000). */
  maxParts?: number;
  /** Called once per study of a request that stored something (audit RAD-108). */
  onStudyStored?: (event: { requester: Requester; study: StoredStudySummary }) => void;
}

const DICOM_MEDIA_TYPE = 'application/dicom';
/** Parts whose commit (fsync) may still be running while the next ones arrive; bounds open files. */
const MAX_COMMITS_IN_FLIGHT = 16;

export async function registerStowRoutes(app: FastifyInstance, opts: StowRoutesOptions): Promise<void> {
  // An encapsulated scope: its body parsers apply to these routes only (the SOAP/MTOM routes keep theirs).
  await app.register(async (scope) => {
    if (scope.hasContentTypeParser('multipart/related')) scope.removeContentTypeParser('multipart/related');
    // The raw request stream goes to the handler, which reads it part by part.
    scope.addContentTypeParser('multipart/related', (_request, payload, done) => done(null, payload));
    // Any other type reaches the handler too, so that it answers 415 the DICOMweb way.
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.addHook('onRequest', requireNodeOrStaff);
    scope.post('/dicomweb/studies', (request, reply) => handleStow(request, reply, null, opts));
    scope.post<{ Params: { study: string } }>('/dicomweb/studies/:study', (request, reply) => handleStow(request, reply, request.params.study, opts));
  });
}

interface PendingInstance {
  row: ClearinghouseInstanceTable;
}

async function handleStow(request: FastifyRequest, reply: FastifyReply, targetStudy: string | null, opts: StowRoutesOptions): Promise<FastifyReply> {
  const requester = identifyRequester(request)!;
  const refuse = (status: number, error: string) => {
    reply.header('Connection', 'close');
    return reply.code(status).type('application/json').send({ error });
  };
  if (targetStudy !== null && !isValidUid(targetStudy)) return refuse(400, 'the study in the URL is not a valid UID');
  const responseType = negotiateStowResponseType(request.headers.accept);
  if (responseType === null) return refuse(406, 'the response is available as application/dicom+json or application/dicom+xml');
  let boundary: string;
  try {
    const contentType = parseMultipartRelatedContentType(request.headers['content-type']);
    if (contentType.type !== null && contentType.type !== DICOM_MEDIA_TYPE) {
      return refuse(415, `type=${contentType.type} is not supported: only application/dicom parts are accepted`);
    }
    boundary = contentType.boundary;
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    return refuse(err.code === 'unsupported-media-type' ? 415 : 400, err.message);
  }

  const body = request.body as Readable;
  const pending: PendingInstance[] = [];
  const failed: StowFailedInstance[] = [];
  const seenInRequest = new Set<string>();
  const blobsWritten = new Set<string>();
  const receivedAt = new Date().toISOString();
  const storedBy = requesterLabel(requester);
  let partCount = 0;

  // Commits (fsync) overlap with receiving the next parts; results are handled in part order after.
  const intakes: Array<Promise<PartIntake>> = [];
  const inFlight = new Set<Promise<unknown>>();
  const settleAll = () => Promise.all(intakes);
  try {
    for await (const part of readMultipartRelated(body, boundary, { maxParts: opts.maxParts ?? 100_000 })) {
      partCount++;
      if (part.contentType !== null && part.contentType !== DICOM_MEDIA_TYPE) {
        intakes.push(Promise.resolve({ kind: 'refused', failureReason: StowFailureReason.CannotUnderstand, reason: `part of type ${part.contentType}`, sopClassUid: null, sopInstanceUid: null }));
        continue; // the reader drains the part
      }
      const streamed = await streamDicomPart(opts.blobs, part.body);
      if (streamed.kind === 'interrupted') continue; // the reader reports why on the next step
      if (streamed.kind === 'refused') {
        intakes.push(Promise.resolve(streamed));
        continue;
      }
      const intake = finishDicomPart(opts.blobs, streamed);
      intakes.push(intake);
      const tracked: Promise<unknown> = intake.catch(() => undefined).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= MAX_COMMITS_IN_FLIGHT) await Promise.race(inFlight);
    }
  } catch (err) {
    // Whatever went wrong, nothing of this request is indexed: drop the bytes it wrote.
    for (const intake of await settleAll()) if (intake.kind === 'received' && !intake.blob.alreadyStored) blobsWritten.add(intake.blob.key);
    await dropBlobs(opts, blobsWritten);
    if (!(err instanceof MultipartError)) throw err;
    opts.log.warn({ code: err.code, parts: partCount }, 'STOW request refused: bad multipart body; nothing indexed');
    return refuse(400, err.message);
  }

  const intakeResults = await settleAll();
  for (const intake of intakeResults) if (intake.kind === 'received' && !intake.blob.alreadyStored) blobsWritten.add(intake.blob.key);
  for (const [index, intake] of intakeResults.entries()) {
    if (intake.kind === 'interrupted') continue;
    if (intake.kind === 'refused') {
      opts.log.warn({ part: index, reason: intake.reason }, 'STOW part refused');
      failed.push({ sopClassUid: intake.sopClassUid, sopInstanceUid: intake.sopInstanceUid, failureReason: intake.failureReason });
      continue;
    }
    if (targetStudy !== null && intake.studyInstanceUid !== targetStudy) {
      failed.push({ sopClassUid: intake.sopClassUid, sopInstanceUid: intake.sopInstanceUid, failureReason: StowFailureReason.DataSetDoesNotMatchSopClass });
      continue;
    }
    // Sent twice in one request: the first copy is kept, the second is still a success.
    if (seenInRequest.has(intake.sopInstanceUid)) continue;
    const { patient } = intake.attributes;
    const entry: PendingInstance = {
      row: {
        sop_instance_uid: intake.sopInstanceUid,
        study_uid: intake.studyInstanceUid,
        series_uid: intake.seriesInstanceUid,
        sop_class_uid: intake.sopClassUid,
        transfer_syntax_uid: intake.layout.transferSyntaxUid,
        patient_id: patient.id,
        issuer_of_patient_id: patient.issuerOfPatientId,
        blob_key: intake.blob.key,
        size_bytes: intake.blob.size,
        received_at: receivedAt,
        stored_by: storedBy,
      },
    };
    seenInRequest.add(intake.sopInstanceUid);
    pending.push(entry);
  }
  // Blobs written by this request that no accepted part uses (refused study, second copies).
  const used = new Set(pending.map((p) => p.row.blob_key));
  const unused = new Set([...blobsWritten].filter((key) => !used.has(key)));
  await dropBlobs(opts, unused);
  for (const key of unused) blobsWritten.delete(key);
  if (partCount === 0) return refuse(400, 'the multipart body has no parts');

  let outcomes: RecordOutcome[];
  try {
    outcomes = await opts.index.recordInstances(pending.map((p) => p.row));
  } catch (err) {
    await dropBlobs(opts, blobsWritten);
    opts.log.error({ err: (err as Error).message }, 'cannot index STOW instances');
    for (const p of pending) failed.push({ sopClassUid: p.row.sop_class_uid, sopInstanceUid: p.row.sop_instance_uid, failureReason: StowFailureReason.OutOfResources });
    pending.length = 0;
    outcomes = [];
  }
  for (let i = 0; i < pending.length; i++) {
    const outcome = outcomes[i]!;
    const row = pending[i]!.row;
    if (outcome.kind === 'duplicate' && outcome.keptBlobKey !== row.blob_key) {
      opts.log.warn({ sopInstanceUid: row.sop_instance_uid, keptBlob: outcome.keptBlobKey }, 'instance stored again with different bytes; first copy kept');
      if (blobsWritten.has(row.blob_key) && !(await opts.index.isBlobReferenced(row.blob_key))) await opts.blobs.delete(row.blob_key).catch(() => undefined);
    }
  }

  const base = `${request.protocol}://${request.host}/dicomweb`;
  const studyUrl = (study: string) => `${base}/studies/${study}`;
  const stored: StowStoredInstance[] = pending.map((p) => ({
    sopClassUid: p.row.sop_class_uid,
    sopInstanceUid: p.row.sop_instance_uid,
    retrieveUrl: `${studyUrl(p.row.study_uid)}/series/${p.row.series_uid}/instances/${p.row.sop_instance_uid}`,
  }));
  const studies = new Set(pending.map((p) => p.row.study_uid));
  const studyOfResponse = targetStudy ?? (studies.size === 1 ? [...studies][0]! : null);
  const result: StowResult = { retrieveUrl: studyOfResponse === null ? null : studyUrl(studyOfResponse), stored, failed };

  for (const summary of summariseStudies(pending)) opts.onStudyStored?.({ requester, study: summary });
  opts.log.info({ stored: stored.length, failed: failed.length, storedBy }, 'STOW request done');
  return reply.code(stowHttpStatus(result)).type(responseType).send(renderStowResponse(result, responseType));
}

function summariseStudies(pending: readonly PendingInstance[]): StoredStudySummary[] {
  const studies = new Map<string, StoredStudySummary>();
  for (const { row } of pending) {
    const study = studies.get(row.study_uid) ?? { studyInstanceUid: row.study_uid, patientId: row.patient_id, sopClasses: new Map<string, string[]>() };
    studies.set(row.study_uid, study);
    study.sopClasses.set(row.sop_class_uid, [...(study.sopClasses.get(row.sop_class_uid) ?? []), row.sop_instance_uid]);
  }
  return [...studies.values()];
}

/** After a refused request: deletes what it wrote that nothing indexed refers to. */
async function dropBlobs(opts: StowRoutesOptions, written: Set<string>): Promise<void> {
  for (const key of written) {
    if (!(await opts.index.isBlobReferenced(key))) await opts.blobs.delete(key).catch(() => undefined);
  }
  written.clear();
}
