// The edge's release jobs (DESIGN.md "The main flow" step 3): for a study released to its patient,
// (a) send every instance to the clearinghouse by STOW-RS, streamed from the blob store, skipping the
// ones it already confirmed; (b) build the KOS manifest; (c) build the XDS-I.b metadata; (d) register
// manifest (+ report) by RAD-68 LAST, so no consumer ever sees a manifest whose images are missing.
// Every step appends a status row; failures retry with exponential backoff; unfinished jobs resume
// when the edge starts. Identifiers (access code, UIDs) are fixed when the release is created, so a
// retry or a restart never mints a second manifest.
import { setTimeout as delay } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../../config/schema.ts';
import type { Database, EdgeStudy } from '../../../storage/db/schema.ts';
import type { BlobStore } from '../../../storage/blob/blob-store.ts';
import type { Logger } from '../../../util/log.ts';
import type { AuditTrail } from '../../../server/audit-trail.ts';
import type { NetworkIdentity } from '../../../server/identity.ts';
import type { EdgeIndex } from '../edge-index.ts';
import { buildFileMetaInformation } from '../../../lib/dicom/part10.ts';
import { uidFromName } from '../../../lib/dicom/uid.ts';
import { buildKosManifest, kosUidsFromName } from '../../../lib/dicom/kos.ts';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME } from '../../../lib/dimse/uids.ts';
import { callSoap, newContentId, type TlsClientOptions } from '../../../lib/soap/index.ts';
import { PROVIDE_AND_REGISTER_ACTION, readRegistryResponseEnvelope, writeProvideAndRegisterRequest, type DocumentToProvide } from '../../../lib/xds/index.ts';
import { formatAccessCode, generateAccessCode, normalizeAccessCode } from '../../../identifiers/access-code.ts';
import { BirthDateError, normalizeBirthDate } from '../../../identifiers/birth-date.ts';
import { deriveRegistryPatientId } from '../../../identifiers/patient-id.ts';
import { destinationKey, endpoint, type ClearinghouseTarget } from './clearinghouse-target.ts';
import { ReleaseError, SubmissionStepError } from './errors.ts';
import { anatomicRegionsOf, buildManifestMetadata, MANIFEST_ENTRY_ID, REPORT_PDF_ENTRY_ID, REPORT_TEXT_ENTRY_ID, type ReleaseReport } from './manifest-metadata.ts';
import { isFinal, ReleaseStore, type Release, type StatusRow } from './release-store.ts';
import { stowInstances, type StowPart } from './stow-client.ts';

/** The exam's report, when the edge has one (HL7 ORU intake comes later; until then none). */
export interface ReportSource {
  reportFor(studyInstanceUid: string): Promise<{ pdf?: Uint8Array; text?: string } | null>;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface SubmissionServiceOptions {
  config: Config;
  db: Kysely<Database>;
  blobs: BlobStore;
  index: EdgeIndex;
  audit: AuditTrail;
  log: Logger;
  identity: NetworkIdentity;
  /** Resolved for each attempt (the own HTTP port is known only once the server listens). */
  target: () => ClearinghouseTarget;
  reportSource?: ReportSource;
  retry?: Partial<RetryPolicy>;
  /** Instances per STOW-RS request. */
  stowBatchSize?: number;
}

export interface ReleaseRequest {
  studyInstanceUid: string;
  dateOfBirth?: string;
  requestedBy: string;
}

export interface ReleaseResult {
  releaseId: string;
  studyInstanceUid: string;
  /** Display form XXXX-XXXX-XXXX. */
  accessCode: string;
  dateOfBirth: string;
  /** Registry patient ID (CX). */
  patientId: string;
  status: StatusRow;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 5 * 60_000 };

export class SubmissionService {
  private readonly store: ReleaseStore;
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly retry: RetryPolicy;
  private closed = false;

  constructor(private readonly opts: SubmissionServiceOptions) {
    this.store = new ReleaseStore(opts.db);
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.events.setMaxListeners(0);
  }

  /** Creates (or finds) the study's release and starts its job. */
  async release(req: ReleaseRequest): Promise<ReleaseResult> {
    if (this.closed) throw new ReleaseError('SHUTTING_DOWN', 'the edge is shutting down', 503);
    const study = await this.opts.db.selectFrom('edge_study').selectAll().where('study_uid', '=', req.studyInstanceUid).executeTakeFirst();
    if (!study) throw new ReleaseError('STUDY_NOT_FOUND', `study ${req.studyInstanceUid} is not on the edge`, 404);
    let release = await this.store.findByStudy(req.studyInstanceUid);
    if (!release) release = (await this.store.create(await this.newRelease(study, req))).release;
    else if (req.dateOfBirth?.trim() && normalizeBirthDateOrThrow(req.dateOfBirth) !== release.birth_date) {
      // The patient ID was derived from the first date of birth: a different one would not find the exam.
      throw new ReleaseError('BIRTH_DATE_CONFLICT', 'this study was already released with another date of birth', 409);
    }
    let status = (await this.store.latestStatus(release.release_id))!;
    if (status.status === 'given-up') {
      // Staff asked again: a fresh round of attempts.
      status = await this.store.appendStatus(release.release_id, 'queued', 0, null, `requeued by ${req.requestedBy}`);
    }
    // The status before the job (re)starts: waitForOutcome(…, status.seq) then sees only this run's outcome.
    this.startJob(release);
    return this.resultOf(release, status);
  }

  /**
   * Resolves when the job registered its manifest, gave up, or had an attempt fail after status row
   * `sinceSeq` (or, after timeoutMs, with the status then).
   */
  async waitForOutcome(releaseId: string, timeoutMs: number, sinceSeq = 0): Promise<ReleaseResult> {
    const release = await this.store.get(releaseId);
    if (!release) throw new ReleaseError('STUDY_NOT_FOUND', `no release ${releaseId}`, 404);
    const settled = (s: StatusRow) => isFinal(s.status) || (s.status === 'failed' && s.seq > sinceSeq);
    const outcome = await new Promise<StatusRow>((resolve, reject) => {
      let done = false;
      const finish = (s: StatusRow) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.events.off(releaseId, onStatus);
        resolve(s);
      };
      const onStatus = (s: StatusRow) => {
        if (settled(s)) finish(s);
      };
      const timer = setTimeout(() => void this.store.latestStatus(releaseId).then((s) => finish(s!), reject), timeoutMs);
      this.events.on(releaseId, onStatus);
      // Rows appended before we listened.
      void this.store.history(releaseId).then((rows) => {
        const hit = rows.find((r) => isFinal(r.status)) ?? rows.find(settled);
        if (hit) finish(hit);
      }, reject);
    });
    return this.resultOf(release, outcome);
  }

  async statusOf(studyInstanceUid: string): Promise<{ release: ReleaseResult; history: StatusRow[] } | null> {
    const release = await this.store.findByStudy(studyInstanceUid);
    if (!release) return null;
    const history = await this.store.history(release.release_id);
    return { release: this.resultOf(release, history[history.length - 1]!), history };
  }

  /** Starts every unfinished job (after a restart). */
  async resume(): Promise<number> {
    const pending = await this.store.unfinished();
    for (const r of pending) this.startJob(r);
    return pending.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  // -------------------------------------------------------------------------------------------

  private resultOf(release: Release, status: StatusRow): ReleaseResult {
    return {
      releaseId: release.release_id,
      studyInstanceUid: release.study_uid,
      accessCode: formatAccessCode(release.access_code),
      dateOfBirth: release.birth_date,
      patientId: release.registry_patient_id,
      status,
    };
  }

  private async newRelease(study: EdgeStudy, req: ReleaseRequest): Promise<Release> {
    let birthDate: string;
    const given = req.dateOfBirth?.trim();
    try {
      if (given) birthDate = normalizeBirthDate(given);
      else if (study.patient_birth_date) birthDate = normalizeBirthDate(study.patient_birth_date);
      else throw new ReleaseError('NO_BIRTH_DATE', 'the images carry no date of birth: give the patient\'s date of birth (dateOfBirth / --dob YYYYMMDD)', 422);
    } catch (err) {
      if (err instanceof BirthDateError) {
        throw new ReleaseError('INVALID_BIRTH_DATE', given ? `the date of birth is not valid: ${err.message}` : `the images' date of birth is not valid (${err.message}): give it explicitly`, given ? 400 : 422);
      }
      throw err;
    }
    if (!study.patient_id) throw new ReleaseError('NO_PATIENT_ID', 'the study has no Patient ID: it cannot be released to a patient', 422);
    const { identity } = this.opts;
    const accessCode = await this.store.accessCodeFor(`${study.issuer_of_patient_id ?? ''}|${study.patient_id}`, normalizeAccessCode(generateAccessCode()));
    const releaseId = randomUUID();
    // Names include this install's root so UIDs never collide across edges.
    const name = `${identity.oids.root}/release/${releaseId}`;
    const kos = kosUidsFromName(name);
    return {
      release_id: releaseId,
      study_uid: study.study_uid,
      site_patient_id: study.patient_id,
      site_issuer: study.issuer_of_patient_id,
      access_code: accessCode,
      birth_date: birthDate,
      registry_patient_id: deriveRegistryPatientId(birthDate, accessCode, {
        networkKey: identity.networkKey,
        authority: identity.oids.patientIdAuthority,
        legacyRsna: this.opts.config.network.legacyRsnaPatientIds,
      }),
      kos_series_uid: kos.seriesInstanceUid,
      kos_sop_instance_uid: kos.sopInstanceUid,
      submission_set_uid: uidFromName(`${name}/submission-set`),
      created_at: new Date().toISOString(),
      created_by: req.requestedBy,
    };
  }

  private startJob(release: Release): void {
    if (this.running.has(release.release_id) || this.closed) return;
    const job = this.runJob(release)
      .catch((err: Error) => this.opts.log.error({ releaseId: release.release_id, err: err.message }, 'release job crashed'))
      .finally(() => this.running.delete(release.release_id));
    this.running.set(release.release_id, job);
  }

  private async append(releaseId: string, status: StatusRow['status'], attempts: number, error: string | null = null, detail: string | null = null): Promise<StatusRow> {
    const row = await this.store.appendStatus(releaseId, status, attempts, error, detail);
    this.events.emit(releaseId, row);
    return row;
  }

  private async runJob(release: Release): Promise<void> {
    const log = this.opts.log.child({ releaseId: release.release_id, studyInstanceUid: release.study_uid });
    for (;;) {
      const last = await this.store.latestStatus(release.release_id);
      if (!last || isFinal(last.status) || this.abort.signal.aborted) return;
      const attempt = last.attempts + 1;
      try {
        await this.attempt(release, attempt, log);
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return; // shutting down: the next start resumes the job
        const permanent = err instanceof SubmissionStepError && err.permanent;
        const message = (err as Error).message;
        log.warn({ attempt, err: message, permanent }, 'release attempt failed');
        await this.append(release.release_id, 'failed', attempt, message);
        if (permanent || attempt >= this.retry.maxAttempts) {
          await this.append(release.release_id, 'given-up', attempt, message, permanent ? 'permanent error' : `${attempt} attempts`);
          return;
        }
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async attempt(release: Release, attempt: number, log: Logger): Promise<void> {
    const target = this.opts.target();
    const destination = destinationKey(target);
    const signal = this.abort.signal;
    const study = await this.opts.db.selectFrom('edge_study').selectAll().where('study_uid', '=', release.study_uid).executeTakeFirst();
    const instances = await this.opts.index.listInstances(release.study_uid);
    if (!study || instances.length === 0) throw new SubmissionStepError('stow', 'the study has no instances on the edge', true);

    // (a) images, never the same object twice
    await this.append(release.release_id, 'sending-images', attempt);
    const confirmed = await this.store.confirmedInstances(destination, instances.map((i) => i.sop_instance_uid));
    const pending = instances.filter((i) => !confirmed.has(i.sop_instance_uid));
    const batchSize = this.opts.stowBatchSize ?? 50;
    for (let i = 0; i < pending.length; i += batchSize) {
      const batch = pending.slice(i, i + batchSize);
      const parts: StowPart[] = batch.map((inst) => ({
        sopInstanceUid: inst.sop_instance_uid,
        open: () =>
          part10Stream(
            buildFileMetaInformation({
              mediaStorageSopClassUid: inst.sop_class_uid,
              mediaStorageSopInstanceUid: inst.sop_instance_uid,
              transferSyntaxUid: inst.transfer_syntax_uid,
              implementationClassUid: DEFAULT_IMPLEMENTATION_CLASS_UID,
              implementationVersionName: DEFAULT_IMPLEMENTATION_VERSION_NAME,
              ...(inst.calling_aet ? { sourceApplicationEntityTitle: inst.calling_aet } : {}),
            }),
            this.opts.blobs.openRead(inst.blob_key),
          ),
      }));
      const result = await stowInstances(target, parts, { signal });
      const inBatch = new Set(batch.map((b) => b.sop_instance_uid));
      const stored = result.stored.filter((uid) => inBatch.has(uid));
      await this.store.recordConfirmed(destination, release.release_id, stored);
      if (stored.length < batch.length) {
        const storedSet = new Set(stored);
        const missing = batch.filter((b) => !storedSet.has(b.sop_instance_uid));
        const reasons = result.failed.map((f) => (f.reason === null ? 'unknown' : `0x${f.reason.toString(16).padStart(4, '0')}`));
        throw new SubmissionStepError('stow', `the clearinghouse did not store ${missing.length} of ${batch.length} instances (HTTP ${result.httpStatus}${reasons.length ? `, failure reasons ${[...new Set(reasons)].join(', ')}` : ''})`, false);
      }
    }
    const studyRef = {
      uid: release.study_uid,
      ...(study.accession_number ? { accessionNumbers: [study.accession_number] } : {}),
      sopClasses: [...groupBy(instances, (i) => i.sop_class_uid)].map(([uid, list]) => ({ uid, numberOfInstances: list.length })),
    };
    const remote = { userId: endpoint(target, '/dicomweb/studies'), host: new URL(target.baseUrl).hostname };
    if (pending.length > 0) {
      this.opts.audit.emit(() => this.opts.audit.events.phiExport({ exporter: this.opts.audit.node, destination: remote, patients: [release.site_patient_id], studies: [studyRef] }));
    }
    await this.append(release.release_id, 'images-sent', attempt, null, `${instances.length} instances (${pending.length} sent now)`);

    // (b) manifest, (c) metadata, (d) RAD-68 last
    const { identity, config } = this.opts;
    const kos = buildKosManifest({
      source: {
        patientName: study.patient_name,
        patientId: study.patient_id,
        issuerOfPatientId: study.issuer_of_patient_id,
        patientBirthDate: study.patient_birth_date,
        patientSex: study.patient_sex,
        studyInstanceUid: study.study_uid,
        studyDate: study.study_date,
        studyTime: study.study_time,
        accessionNumber: study.accession_number,
        referringPhysicianName: study.referring_physician,
        studyId: study.study_id,
        studyDescription: study.study_description,
      },
      instances: instances.map((i) => ({ seriesInstanceUid: i.series_uid, sopClassUid: i.sop_class_uid, sopInstanceUid: i.sop_instance_uid })),
      retrieveAeTitle: config.dicom.aet,
      retrieveLocationUid: identity.oids.repositoryUniqueId,
      seriesInstanceUid: release.kos_series_uid,
      sopInstanceUid: release.kos_sop_instance_uid,
      contentTime: new Date(release.created_at),
      manufacturer: 'ImageShare',
      implementationClassUid: DEFAULT_IMPLEMENTATION_CLASS_UID,
      implementationVersionName: DEFAULT_IMPLEMENTATION_VERSION_NAME,
    });
    const report = await this.reportOf(release);
    const series = await this.opts.db.selectFrom('edge_series').select(['modality', 'body_part']).where('study_uid', '=', release.study_uid).execute();
    const metadata = buildManifestMetadata({
      registryPatientId: release.registry_patient_id,
      sitePatientId: release.site_patient_id,
      sitePatientIdAuthority: `${identity.oids.root}.10`,
      accessionNumber: study.accession_number,
      accessionIssuer: `${identity.oids.root}.11`,
      studyInstanceUid: study.study_uid,
      studyDate: study.study_date,
      studyDescription: study.study_description,
      modalities: series.map((s) => s.modality ?? '').filter((m) => m !== ''),
      anatomicRegions: anatomicRegionsOf(series.map((s) => s.body_part)),
      kosSopInstanceUid: release.kos_sop_instance_uid,
      submissionSetUniqueId: release.submission_set_uid,
      sourceId: identity.oids.sourceId,
      creationTime: new Date(release.created_at),
      submissionTime: new Date(),
      ...(report ? { report } : {}),
    });
    const attach = (entryId: string, contentType: string, content: Uint8Array): DocumentToProvide => ({ entryId, attachment: { contentId: newContentId(), contentType, content } });
    const documents: DocumentToProvide[] = [attach(MANIFEST_ENTRY_ID, 'application/dicom', kos)];
    if (report?.pdf) documents.push(attach(REPORT_PDF_ENTRY_ID, 'application/pdf', report.pdf.bytes));
    if (report?.text) documents.push(attach(REPORT_TEXT_ENTRY_ID, 'text/plain', Buffer.from(report.text.text, 'utf8')));
    const repositoryUrl = endpoint(target, '/xds/repository');
    const auditRegistration = (outcome: 'success' | 'serious-failure', description?: string) =>
      this.opts.audit.emit(() =>
        this.opts.audit.events.rad68ProvideAndRegisterImaging({
          role: 'imaging-source',
          source: this.opts.audit.node,
          destination: { userId: repositoryUrl, host: new URL(repositoryUrl).hostname },
          patientId: release.registry_patient_id,
          submissionSetUid: release.submission_set_uid,
          documents: [{ uniqueId: release.kos_sop_instance_uid }],
          studies: [studyRef],
          outcome,
          ...(description ? { outcomeDescription: description } : {}),
        }),
      );
    let registered: { alreadyRegistered: boolean };
    try {
      registered = await this.provideAndRegister(target, repositoryUrl, metadata, documents, signal);
    } catch (err) {
      if (!signal.aborted) auditRegistration('serious-failure', (err as Error).message.slice(0, 200));
      throw err;
    }
    auditRegistration('success');
    await this.append(release.release_id, 'manifest-registered', attempt, null, registered.alreadyRegistered ? 'registered by an earlier attempt' : null);
    log.info({ instances: instances.length }, 'release registered');
  }

  private async reportOf(release: Release): Promise<ReleaseReport | undefined> {
    const found = await this.opts.reportSource?.reportFor(release.study_uid);
    if (!found || (!found.pdf && !found.text)) return undefined;
    const name = `${this.opts.identity.oids.root}/release/${release.release_id}`;
    return {
      ...(found.pdf ? { pdf: { uniqueId: uidFromName(`${name}/report-pdf`), bytes: found.pdf } } : {}),
      ...(found.text ? { text: { uniqueId: uidFromName(`${name}/report-text`), text: found.text } } : {}),
    };
  }

  private async provideAndRegister(
    target: ClearinghouseTarget,
    repositoryUrl: string,
    metadata: ReturnType<typeof buildManifestMetadata>,
    documents: readonly DocumentToProvide[],
    signal: AbortSignal,
  ): Promise<{ alreadyRegistered: boolean }> {
    let response;
    try {
      const result = await callSoap({
        endpoint: repositoryUrl,
        action: PROVIDE_AND_REGISTER_ACTION,
        bodyXml: writeProvideAndRegisterRequest(metadata, documents),
        attachments: documents.map((d) => d.attachment),
        mtom: true,
        signal,
        ...(target.tls ? { tls: target.tls } : {}),
        ...(target.headers ? { headers: target.headers } : {}),
      });
      response = readRegistryResponseEnvelope(result.message.envelope);
    } catch (err) {
      throw new SubmissionStepError('register', `RAD-68 to ${repositoryUrl} failed: ${(err as Error).message}`, false, { cause: err });
    }
    if (response.status === 'Success') return { alreadyRegistered: false };
    // An earlier attempt registered it but its answer was lost: the same uniqueIds are now known.
    if (response.errors.length > 0 && response.errors.every((e) => e.errorCode === 'XDSDuplicateUniqueIdInRegistry')) return { alreadyRegistered: true };
    const first = response.errors[0];
    const text = first ? `${first.errorCode}: ${first.codeContext}` : `status ${response.status ?? 'unknown'}`;
    const permanent = response.errors.some((e) => ['XDSRegistryMetadataError', 'XDSRepositoryMetadataError', 'XDSPatientIdDoesNotMatch', 'XDSNonIdenticalHash'].includes(e.errorCode));
    throw new SubmissionStepError('register', `the clearinghouse refused the manifest (${text})`, permanent);
  }
}

function normalizeBirthDateOrThrow(input: string): string {
  try {
    return normalizeBirthDate(input);
  } catch (err) {
    if (err instanceof BirthDateError) throw new ReleaseError('INVALID_BIRTH_DATE', `the date of birth is not valid: ${err.message}`, 400);
    throw err;
  }
}

/** File Meta + dataset as one stream; closing it early (a failed request) also closes the blob. */
function part10Stream(meta: Buffer, dataset: Readable): Readable {
  return Readable.from(
    (async function* () {
      yield meta;
      yield* dataset;
    })(),
    { objectMode: false },
  );
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k) ?? [];
    list.push(item);
    map.set(k, list);
  }
  return map;
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}

/** The clearinghouse this edge submits to: configured, or this process's own over loopback HTTP. */
export function clearinghouseTargetFor(config: Config, identity: NetworkIdentity, app: FastifyInstance): () => ClearinghouseTarget {
  const sub = config.edgeSubmission;
  const tls: TlsClientOptions = {
    key: sub.clientKeyFile ? readFileSync(sub.clientKeyFile) : identity.tls.keyPem,
    cert: sub.clientCertFile ? readFileSync(sub.clientCertFile) : identity.tls.certPem,
    ca: sub.caFile ? readFileSync(sub.caFile) : identity.tls.clientCaPem,
  };
  const configured = sub.clearinghouseUrl;
  if (configured) return () => ({ baseUrl: configured, tls });
  return () => {
    const address = app.server.address() as AddressInfo | null;
    const port = address?.port ?? config.http.port;
    // Same process: the local CLI token authenticates us on our own staff-protected routes.
    return { baseUrl: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${identity.cliToken}` } };
  };
}
