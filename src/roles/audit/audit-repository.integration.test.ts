// Integration: the Audit Record Repository of the running network. Other vendors' ATNA samples arrive
// over TLS and UDP and are searchable; every transaction that exists emits a well-formed message
// (checked against the PS3.15 A.5.1 RELAX NG schema) with the right event, participants and patient;
// with the repository down, events wait on disk and arrive once, after it is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { corpusDir, requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { getFreePort, storescu } from '../../../test-support/dcmtk.ts';
import { startOrthanc, type RunningOrthanc } from '../../../test-support/orthanc.ts';
import { startTestNetwork, type TestNetwork } from '../../../test-support/network.ts';
import { issueCertificate } from '../../security/pki.ts';
import { connectTls, formatSyslogMessage, frameOctetCounting, parseAuditXml } from '../../lib/audit/index.ts';
import { validateAgainstSchema } from '../../lib/audit/testing.ts';
import { openDatabase } from '../../storage/db/open.ts';
import { startAuditRepository } from './audit-repository.ts';
import { AuditStore } from './audit-store.ts';
import { fetchExamsToFolder } from '../consumer/index.ts';

const skip = requireTools({ commands: ['xmllint', 'storescu', 'Orthanc'], shared: true });

interface FhirBundle {
  resourceType: string;
  entry?: Array<{ resource: { id: string; type: { code: string }; subtype?: Array<{ code: string }>; entity?: Array<{ what?: { identifier?: { value?: string } } }> } }>;
}

describe('audit repository of the network (integration)', { skip }, () => {
  let net: TestNetwork;
  let orthanc: RunningOrthanc;
  const atnaSample = () => readFileSync(join(samplesDir, 'ipf-atna-dicom-instances-transferred.xml'), 'utf8');

  before(async () => {
    const edgePort = await getFreePort();
    orthanc = await startOrthanc({ dicomAet: 'AUDITPACS', modalities: { edge: { aeTitle: 'IMAGESHARE', host: '127.0.0.1', port: edgePort } } });
    for (const f of readdirSync(corpusDir).filter((n) => n.startsWith('pt_series_'))) await orthanc.upload(join(corpusDir, f));
    net = await startTestNetwork({ 'dicom.port': edgePort, pacs: [{ aet: 'AUDITPACS', host: '127.0.0.1', port: orthanc.dicomPort }] });
  });

  after(async () => {
    await net?.stop();
    await orthanc?.stop();
  });

  async function fhirSearch(query: string): Promise<FhirBundle> {
    const res = await fetch(`${net.baseUrl}/fhir/R4/AuditEvent?${query}`, { headers: { authorization: net.adminAuth } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as FhirBundle;
  }

  async function waitForRecords(predicate: (xml: string) => boolean, min = 1, what = 'records'): Promise<string[]> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await net.network.audit.flush(2000);
      const rows = await net.network.auditRepository!.store.search({ limit: 1000 });
      const hits = rows.map((r) => r.xml).filter(predicate);
      if (hits.length >= min) return hits;
      if (Date.now() > deadline) throw new Error(`expected audit ${what} not found (have ${rows.length} records)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('the ATNA sample of another vendor arrives over TLS (client certificate) and is searchable', async () => {
    const client = await issueCertificate(net.network.identity.ca, { commonName: 'other-vendor-node', usage: 'client' });
    const socket = await connectTls({ host: '127.0.0.1', port: net.network.ports.auditTls!, ca: net.network.identity.ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' });
    socket.write(frameOctetCounting(formatSyslogMessage(atnaSample(), { hostname: 'othervendor', appName: 'ipf' })));
    socket.end();
    const hits = await waitForRecords((x) => x.includes('110104') && x.includes('ipf') === false && x.includes('DCM'), 1);
    assert.ok(hits.length >= 1);
    const sample = parseAuditXml(atnaSample());
    const patient = sample.patientIds[0]!;
    const bundle = await fhirSearch(`patient=${encodeURIComponent(patient)}`);
    assert.ok((bundle.entry ?? []).length >= 1, 'searchable by patient');
    const ids = bundle.entry!.flatMap((e) => e.resource.entity?.map((en) => en.what?.identifier?.value) ?? []);
    assert.ok(ids.includes(patient), 'the AuditEvent carries the original patient identifier');
  });

  test('a TLS sender without a network client certificate is refused', async () => {
    await assert.rejects(async () => {
      const socket = await connectTls({ host: '127.0.0.1', port: net.network.ports.auditTls!, ca: net.network.identity.ca.certPem, servername: 'localhost' });
      socket.write(frameOctetCounting(formatSyslogMessage(atnaSample())));
      await new Promise((resolve, reject) => {
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('closed by the repository')));
        setTimeout(resolve, 3000);
      });
    });
  });

  test('the ATNA sample arrives over UDP and is stored', async () => {
    const before = (await net.network.auditRepository!.store.search({ entityIds: ['1.2.840.10008.5.1.4.1.1.2'], limit: 1000 })).length;
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) =>
      udp.send(formatSyslogMessage(atnaSample().replace('</AuditMessage>', '<!-- udp copy --></AuditMessage>'), { hostname: 'udpvendor' }), net.network.ports.auditUdp!, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
    udp.close();
    const deadline = Date.now() + 10_000;
    let rows = 0;
    while (Date.now() < deadline) {
      const all = await net.network.auditRepository!.store.search({ limit: 1000 });
      rows = all.filter((r) => r.transport === 'udp').length;
      if (rows > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(rows >= 1, `UDP record stored (had ${before} before)`);
  });

  test('every transaction that exists emits a schema-valid message with the right event, participants and patient', async () => {
    // Staff sign-in: success and failure.
    const ok = await fetch(`${net.baseUrl}/api/staff/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: net.adminPassword }) });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${net.baseUrl}/api/staff/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'not the password' }) });
    assert.equal(bad.status, 401);
    // C-STORE into the edge.
    const stored = await storescu({ port: net.network.ports.dicom, calledAeTitle: 'IMAGESHARE', callingAeTitle: 'AUDITSCU', files: [join(corpusDir, 'charset_greek.dcm')] });
    assert.equal(stored.code, 0, stored.stderr);
    // C-FIND + C-MOVE from the PACS (the moved instance arrives by C-STORE from AUDITPACS).
    const pulled = await fetch(`${net.baseUrl}/api/edge/retrieve`, {
      method: 'POST',
      headers: { authorization: net.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: 'IDS-DEPT024-a', accessionNumber: 'IDC024-a' }),
    });
    assert.equal(pulled.status, 200, await pulled.clone().text());
    // The staff study list (a PHI query).
    const list = await fetch(`${net.baseUrl}/api/edge/studies?patientId=SCSGREEK`, { headers: { authorization: net.adminAuth } });
    assert.equal(list.status, 200);

    const expectations: Array<{ what: string; match: (x: string) => boolean; patient?: string }> = [
      { what: 'application start (110100/110120)', match: (x) => x.includes('csd-code="110100"') && x.includes('csd-code="110120"') },
      { what: 'login success (110114/110122)', match: (x) => x.includes('csd-code="110114"') && x.includes('EventOutcomeIndicator="0"') },
      { what: 'login failure (110114, outcome 4)', match: (x) => x.includes('csd-code="110114"') && x.includes('EventOutcomeIndicator="4"') },
      { what: 'C-STORE received (110104, RAD-8)', match: (x) => x.includes('csd-code="110104"') && x.includes('AUDITSCU'), patient: 'SCSGREEK' },
      { what: 'C-FIND to the PACS (110112, RAD-14)', match: (x) => x.includes('csd-code="110112"') && x.includes('AUDITPACS') && x.includes('csd-code="RAD-14"') },
      { what: 'C-MOVE from the PACS (110104, RAD-16)', match: (x) => x.includes('csd-code="110104"') && x.includes('AUDITPACS') && x.includes('csd-code="RAD-16"'), patient: 'IDS-DEPT024-a' },
      { what: 'staff study query (110112)', match: (x) => x.includes('csd-code="110112"') && x.includes('/api/edge/studies'), patient: 'SCSGREEK' },
    ];
    for (const e of expectations) {
      const [xml] = await waitForRecords(e.match);
      assert.ok(xml, e.what);
      const validation = await validateAgainstSchema(xml);
      assert.equal(validation.valid, true, `${e.what}: ${String(validation.errors ?? '')}`);
      const parsed = parseAuditXml(xml);
      assert.ok(parsed.message.participants.some((p) => p.userIsRequestor), `${e.what}: a requestor participant`);
      if (e.patient) assert.ok(parsed.patientIds.includes(e.patient), `${e.what}: patient ${e.patient}`);
    }
  });

  test('the clearinghouse and release transactions are audited too, every record of this node schema-valid', async () => {
    // Release the study received above: STOW-RS (RAD-108) then RAD-68 (source and repository sides).
    const greek = readdirSync(corpusDir).includes('charset_greek.dcm');
    assert.ok(greek);
    const studies = (await (await fetch(`${net.baseUrl}/api/edge/studies?patientId=SCSGREEK`, { headers: { authorization: net.adminAuth } })).json()) as Array<{ studyInstanceUid: string }>;
    const release = await fetch(`${net.baseUrl}/api/edge/release`, {
      method: 'POST',
      headers: { authorization: net.adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ studyInstanceUid: studies[0]!.studyInstanceUid, dateOfBirth: '19700312', wait: true }),
    });
    const released = (await release.json()) as { accessCode: string; patientId: string };
    assert.equal(release.status, 200, JSON.stringify(released));
    // A consumer with DOB + code: ITI-18, ITI-43, RAD-69 (consumer and registry/repository sides).
    const out = mkdtempSync(join(tmpdir(), 'audit-consumer-'));
    try {
      const summary = await fetchExamsToFolder(
        { baseUrl: net.baseUrl, headers: { authorization: net.adminAuth }, networkKey: net.network.identity.networkKey, patientIdAuthority: net.network.identity.oids.patientIdAuthority, audit: net.network.audit },
        '19700312',
        released.accessCode,
        out,
      );
      assert.ok(summary.images >= 1 && summary.manifests === 1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    // WADO-URI (RAD-55).
    const wado = await fetch(`${net.baseUrl}/wado?requestType=WADO&studyUID=${studies[0]!.studyInstanceUid}&seriesUID=1&objectUID=1&contentType=application/dicom`, { headers: { authorization: net.adminAuth } });
    assert.ok([200, 404].includes(wado.status));

    const transactions = ['RAD-8', 'RAD-14', 'RAD-16', 'RAD-108', 'RAD-68', 'ITI-18', 'ITI-43', 'RAD-69'];
    for (const code of transactions) {
      const [xml] = await waitForRecords((x) => x.includes(`csd-code="${code}"`), 1, `records of ${code}`);
      assert.ok(xml, `an audit record for ${code}`);
    }
    // Every record this node emitted (other vendors' samples excluded) is valid against PS3.15 A.5.1.
    const ours = (await net.network.auditRepository!.store.search({ limit: 1000 })).filter((r) => !r.xml.includes('<!--') && r.peerAddress === '127.0.0.1' && r.transport === 'tls');
    const own = ours.filter((r) => r.xml.includes(`AuditSourceID="${net.config.dicom.aet}@`) || r.xml.includes(net.network.identity.oids.root));
    assert.ok(own.length >= transactions.length, `records of this node: ${own.length}`);
    for (const r of own) {
      const validation = await validateAgainstSchema(r.xml);
      assert.equal(validation.valid, true, `${String(validation.errors ?? '')}\n${r.xml.slice(0, 400)}`);
    }
  });

  test('FHIR AuditEvent search filters by type, date and entity-id, and needs an admin', async () => {
    const byType = await fhirSearch('type=110114');
    assert.ok((byType.entry ?? []).every((e) => e.resource.type.code === '110114') && (byType.entry ?? []).length >= 2);
    const future = await fhirSearch('date=ge2999-01-01');
    assert.equal((future.entry ?? []).length, 0);
    const today = await fhirSearch(`date=${new Date().toISOString().slice(0, 10)}&_count=5`);
    assert.ok((today.entry ?? []).length > 0 && (today.entry ?? []).length <= 5);
    const anon = await fetch(`${net.baseUrl}/fhir/R4/AuditEvent`);
    assert.equal(anon.status, 401);
    const badParam = await fetch(`${net.baseUrl}/fhir/R4/AuditEvent?nonsense=1`, { headers: { authorization: net.adminAuth } });
    assert.equal(badParam.status, 400);
  });

  test('the staff console API searches by patient, user, event and time (admins only)', async () => {
    const get = (q: string) => fetch(`${net.baseUrl}/api/audit/events?${q}`, { headers: { authorization: net.adminAuth } });
    const byPatient = (await (await get('patientId=SCSGREEK')).json()) as Array<{ event: { code: string }; who: { id: string } | null }>;
    assert.ok(byPatient.length >= 2);
    const byUser = (await (await get('user=admin&event=110114')).json()) as Array<{ event: { code: string } }>;
    assert.ok(byUser.length >= 1 && byUser.every((e) => e.event.code === '110114'));
    const none = (await (await get(`from=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).json()) as unknown[];
    assert.equal(none.length, 0);
    assert.equal((await get('from=yesterday')).status, 400);
    const log = await fetch(`${net.baseUrl}/api/audit/access-log?patientId=SCSGREEK`, { headers: { authorization: net.adminAuth } });
    assert.equal(log.status, 200);
  });

  test("the patient's access log lists accesses to their exams, newest first", async () => {
    const log = await net.network.auditRepository!.store.accessLog({ patientIds: ['SCSGREEK'] });
    assert.ok(log.length >= 2);
    assert.ok(log.some((e) => e.event.length > 0 && e.who !== null));
    const times = log.map((e) => e.at);
    assert.deepEqual([...times].sort().reverse(), times);
  });
});

test('with the repository down, events wait on disk and arrive after it is back, none lost or doubled (integration)', { skip }, async () => {
  const port = await getFreePort();
  const net = await startTestNetwork({ 'audit.repositoryEnabled': false, 'audit.sendTo': `127.0.0.1:${port}` });
  const dbDir = mkdtempSync(join(tmpdir(), 'audit-repo-'));
  try {
    for (let i = 0; i < 5; i++) {
      await fetch(`${net.baseUrl}/api/staff/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: `wrong password ${i}` }) });
    }
    await new Promise((r) => setTimeout(r, 300));
    const spooled = readdirSync(join(net.dataDir, 'audit-spool')).filter((f) => !f.startsWith('.') && !f.endsWith('.lock'));
    assert.ok(spooled.length >= 6, `events are on disk while the repository is down (${spooled.length})`);

    // The repository comes up on the port the node sends to, with the network's certificates.
    const db = await openDatabase({ dataDir: dbDir });
    const app = Fastify();
    const repo = await startAuditRepository({
      db: db.db,
      app,
      log: (await import('../../util/log.ts')).silentLogger,
      host: '127.0.0.1',
      tlsPort: port,
      udpPort: 0,
      tls: { ...net.network.identity.tls, requireClientCert: true },
    });
    try {
      assert.equal(await net.network.audit.flush(20_000), true);
      const store = new AuditStore(db.db);
      const rows = await store.search({ eventCodes: ['110114'], limit: 100 });
      assert.equal(rows.length, 5, 'each failed sign-in arrived exactly once');
    } finally {
      await repo.close();
      await app.close();
      await db.close();
    }
  } finally {
    await net.stop();
    rmSync(dbDir, { recursive: true, force: true });
  }
});
