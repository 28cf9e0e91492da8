// The release job state machine against the real in-process clearinghouse, through a counting proxy
// that can make the clearinghouse fail: retries never send an instance twice, the manifest is
// registered last, and a job interrupted by a "restart" (a new service over the same database) resumes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { storescu } from '../../../../test-support/dcmtk.ts';
import { corpusDir, requireTools } from '../../../../test-support/system-tools.ts';
import { silentLogger } from '../../../util/log.ts';
import { extractIndexAttributesFromFile } from '../../../lib/dicom/file.ts';
import { SubmissionService, type ReportSource } from './submission-service.ts';
import { DocumentConsumer } from '../../consumer/index.ts';
import { memoryAttachmentSink } from '../../../lib/soap/index.ts';
import type { ClearinghouseTarget } from './clearinghouse-target.ts';

const skip = requireTools({ commands: ['storescu'], shared: true });
const ptFiles = Array.from({ length: 10 }, (_, i) => join(corpusDir, `pt_series_inst${String(i + 1).padStart(2, '0')}.dcm`));
const PT_STUDY = '1.3.6.1.4.1.21367.201599.1.201604020956016';

/** Forwards to the clearinghouse, counting STOW parts per request; `fail` answers 503 for matching paths. */
class CountingProxy {
  stowRequests = 0;
  stowParts = 0;
  registrations = 0;
  fail: (path: string) => boolean = () => false;
  private server = http.createServer((req, res) => this.handle(req, res));
  constructor(private readonly upstream: string) {}
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '/';
    if (this.fail(path)) {
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable'));
      return;
    }
    if (path.startsWith('/dicomweb/studies')) this.stowRequests++;
    if (path.startsWith('/xds/repository')) this.registrations++;
    const up = http.request(this.upstream + path, { method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      if (path.startsWith('/dicomweb/studies')) this.stowParts += chunk.toString('latin1').split('Content-Type: application/dicom\r\n').length - 1;
    });
    req.pipe(up);
  }
}

let net: TestNetwork;
let proxy: CountingProxy;
let proxyUrl: string;

before(async () => {
  if (skip) return;
  net = await startTestNetwork();
  const sent = await storescu({ port: net.network.ports.dicom, calledAeTitle: net.config.dicom.aet, files: ptFiles });
  assert.equal(sent.code, 0, sent.stderr);
  proxy = new CountingProxy(net.baseUrl);
  proxyUrl = await proxy.listen();
});

after(async () => {
  await proxy?.close();
  await net?.stop();
});

function service(retry = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 200 }, reportSource?: ReportSource): SubmissionService {
  const n = net.network;
  const target = (): ClearinghouseTarget => ({ baseUrl: proxyUrl, headers: { authorization: `Bearer ${n.identity.cliToken}` } });
  return new SubmissionService({
    config: n.config,
    db: n.db.db,
    blobs: n.blobs,
    index: n.edge.index,
    audit: n.audit,
    log: silentLogger,
    identity: n.identity,
    target,
    retry,
    stowBatchSize: 4,
    ...(reportSource ? { reportSource } : {}),
  });
}

test('a failed registration is retried without sending any instance again; RAD-68 comes last', { skip }, async () => {
  let registrationFailures = 1;
  proxy.fail = (path) => path.startsWith('/xds/repository') && registrationFailures-- > 0;
  const s = service();
  try {
    const released = await s.release({ studyInstanceUid: PT_STUDY, requestedBy: 'test' });
    assert.match(released.accessCode, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.match(released.patientId, /^[0-9a-f]{64}\^\^\^&[0-9.]+&ISO$/);
    const failed = await s.waitForOutcome(released.releaseId, 30_000, released.status.seq);
    assert.equal(failed.status.status, 'failed');
    const outcome = await s.waitForOutcome(released.releaseId, 30_000, failed.status.seq);
    assert.equal(outcome.status.status, 'manifest-registered', outcome.status.error ?? '');
    assert.equal(proxy.stowParts, 10, 'each instance sent exactly once');
    assert.equal(proxy.stowRequests, 3, '10 instances in batches of 4');
    const history = (await s.statusOf(PT_STUDY))!.history.map((h) => `${h.status}#${h.attempts}`);
    assert.deepEqual(history, ['queued#0', 'sending-images#1', 'images-sent#1', 'failed#1', 'sending-images#2', 'images-sent#2', 'manifest-registered#2']);

    // Releasing again answers the same identifiers and sends nothing.
    const again = await s.release({ studyInstanceUid: PT_STUDY, requestedBy: 'test' });
    assert.equal(again.accessCode, released.accessCode);
    assert.equal(again.status.status, 'manifest-registered');
    assert.equal(proxy.stowParts, 10);
    await assert.rejects(s.release({ studyInstanceUid: PT_STUDY, dateOfBirth: '19010101', requestedBy: 'test' }), { code: 'BIRTH_DATE_CONFLICT' });
    const same = await s.release({ studyInstanceUid: PT_STUDY, dateOfBirth: released.dateOfBirth, requestedBy: 'test' });
    assert.equal(same.patientId, released.patientId);
  } finally {
    await s.close();
    proxy.fail = () => false;
  }
});

test('the date of birth is required when the images carry none, and must be a date', { skip }, async () => {
  const s = service();
  try {
    await assert.rejects(s.release({ studyInstanceUid: '1.2.3.999', requestedBy: 'test' }), { code: 'STUDY_NOT_FOUND' });
    await net.network.db.db.updateTable('edge_study').set({ patient_birth_date: null }).where('study_uid', '=', PT_STUDY).execute();
    // PT_STUDY has a release already; a study without one and without DOB is refused.
    const other = await storescu({ port: net.network.ports.dicom, calledAeTitle: net.config.dicom.aet, files: [join(corpusDir, 'ct_implicit_le.dcm')] });
    assert.equal(other.code, 0);
    const ct = (await net.network.edge.index.listStudies()).find((st) => st.studyInstanceUid !== PT_STUDY)!;
    await net.network.db.db.updateTable('edge_study').set({ patient_birth_date: null }).where('study_uid', '=', ct.studyInstanceUid).execute();
    await assert.rejects(s.release({ studyInstanceUid: ct.studyInstanceUid, requestedBy: 'test' }), { code: 'NO_BIRTH_DATE' });
    await assert.rejects(s.release({ studyInstanceUid: ct.studyInstanceUid, dateOfBirth: '1970-02-31', requestedBy: 'test' }), { code: 'INVALID_BIRTH_DATE' });
  } finally {
    await s.close();
  }
});

test('a job interrupted by a restart resumes from its status rows with the same identifiers', { skip }, async () => {
  const ct = (await net.network.edge.index.listStudies()).find((st) => st.studyInstanceUid !== PT_STUDY)!;
  const partsBefore = proxy.stowParts;
  proxy.fail = () => true; // clearinghouse down
  const first = service({ maxAttempts: 50, baseDelayMs: 60_000, maxDelayMs: 60_000 });
  const released = await first.release({ studyInstanceUid: ct.studyInstanceUid, dateOfBirth: '19700312', requestedBy: 'test' });
  const failed = await first.waitForOutcome(released.releaseId, 30_000, released.status.seq);
  assert.equal(failed.status.status, 'failed');
  await first.close(); // "crash" while waiting for the next attempt

  proxy.fail = () => false;
  const second = service();
  try {
    const interrupted = (await second.statusOf(ct.studyInstanceUid))!.release.status;
    assert.equal(interrupted.status, 'failed');
    assert.equal(await second.resume(), 1);
    const outcome = await second.waitForOutcome(released.releaseId, 30_000, interrupted.seq);
    assert.equal(outcome.status.status, 'manifest-registered', outcome.status.error ?? '');
    assert.equal(outcome.accessCode, released.accessCode);
    assert.equal(outcome.dateOfBirth, '19700312');
    assert.equal(proxy.stowParts - partsBefore, 1);
  } finally {
    await second.close();
  }
});

test('a report (PDF and text) is registered with the manifest and retrieved by ITI-43', { skip }, async () => {
  const file = join(corpusDir, 'study_mr_siemens_series3.dcm');
  const sent = await storescu({ port: net.network.ports.dicom, calledAeTitle: net.config.dicom.aet, files: [file] });
  assert.equal(sent.code, 0, sent.stderr);
  const mr = (await net.network.edge.index.listStudies()).find((st) => st.modalities.includes('MR'))!;
  const pdf = Buffer.from('%PDF-1.4\n% ImageShare test report\n%%EOF\n');
  const reports: ReportSource = { reportFor: async (uid) => (uid === mr.studyInstanceUid ? { pdf, text: 'FINDINGS: normal.' } : null) };
  const s = service(undefined, reports);
  try {
    const released = await s.release({ studyInstanceUid: mr.studyInstanceUid, dateOfBirth: '1980-07-04', requestedBy: 'test' });
    const outcome = await s.waitForOutcome(released.releaseId, 30_000);
    assert.equal(outcome.status.status, 'manifest-registered', outcome.status.error ?? '');
    const consumer = new DocumentConsumer({
      baseUrl: net.baseUrl,
      headers: { authorization: `Bearer ${net.network.identity.cliToken}` },
      networkKey: net.network.identity.networkKey,
      patientIdAuthority: net.network.identity.oids.patientIdAuthority,
    });
    const [exam] = await consumer.findExams(consumer.patientIdFor('19800704', released.accessCode));
    assert.ok(exam);
    assert.equal(exam.manifests.length, 1);
    assert.deepEqual(exam.reports.map((r) => r.mimeType).sort(), ['application/pdf', 'text/plain']);
    const docs = await consumer.retrieveDocuments(exam.reports, memoryAttachmentSink());
    const byType = new Map(docs.map((d) => [d.mimeType, d.binary!.ref.data]));
    assert.ok(byType.get('application/pdf')!.equals(pdf));
    assert.equal(byType.get('text/plain')!.toString('utf8'), 'FINDINGS: normal.');
  } finally {
    await s.close();
  }
});

test('POST /api/edge/release with wait: the edge submits to its own clearinghouse by default', { skip }, async () => {
  const files = [join(corpusDir, 'dx_odd_length_pixeldata.dcm'), join(corpusDir, 'mr_philips_empty_patient_name.dcm')];
  const sent = await storescu({ port: net.network.ports.dicom, calledAeTitle: net.config.dicom.aet, files });
  assert.equal(sent.code, 0, sent.stderr);
  const [dx, noPatientId] = await Promise.all(files.map(async (f) => (await extractIndexAttributesFromFile(f)).header.attributes.study.instanceUid!));
  const post = (body: unknown, auth: string | null = net.adminAuth) =>
    fetch(`${net.baseUrl}/api/edge/release`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
  assert.equal((await post({ studyInstanceUid: dx }, null)).status, 401);
  assert.equal((await post({})).status, 400);
  const refused = await post({ studyInstanceUid: noPatientId, dateOfBirth: '19800704', wait: true });
  assert.equal(refused.status, 422);
  assert.equal(((await refused.json()) as { code: string }).code, 'NO_PATIENT_ID');

  const res = await post({ studyInstanceUid: dx, dateOfBirth: '04 Jul 1980', wait: true });
  const answer = (await res.json()) as { status: string; accessCode: string; dateOfBirth: string; patientId: string; lastError?: string };
  assert.equal(res.status, 200, JSON.stringify(answer));
  assert.equal(answer.status, 'manifest-registered');
  assert.equal(answer.dateOfBirth, '19800704');
  const history = (await (await fetch(`${net.baseUrl}/api/edge/release/${dx}`, { headers: { authorization: net.adminAuth } })).json()) as { history: { status: string }[] };
  assert.deepEqual(history.history.map((h) => h.status), ['queued', 'sending-images', 'images-sent', 'manifest-registered']);
});
