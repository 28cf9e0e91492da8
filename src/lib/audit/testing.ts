// Test helpers for audit: an in-process audit collector (the receiver on free ports, records kept
// in memory), a throwaway PKI made with the openssl CLI, and RELAX NG validation with xmllint.
// For tests only; production code must not import this module.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { auditObjects, createAuditEvents, hashShareToken, type StudyRef } from './builders.ts';
import { EventTypes, MediaTypes, ObjectIdTypes } from './codes.ts';
import type { AuditMessage } from './model.ts';
import { startAuditReceiver, type AuditRejection, type PeerInfo, type ReceivedAuditRecord } from './receiver.ts';
import type { TlsClientOptions } from './transport.ts';

const run = promisify(execFile);

/** The DICOM PS3.15 A.5.1 schema in RELAX NG XML syntax (see schema/). */
export const DICOM_AUDIT_SCHEMA_RNG = fileURLToPath(new URL('./schema/dicom-audit-message.rng', import.meta.url));

export interface SchemaValidation {
  readonly valid: boolean;
  /** xmllint's messages when invalid. */
  readonly errors: string;
}

/** Validates an XML audit message against the DICOM A.5.1 schema with `xmllint --relaxng` (needs libxml2-utils). */
export function validateAgainstSchema(xml: string, schemaPath: string = DICOM_AUDIT_SCHEMA_RNG): Promise<SchemaValidation> {
  return new Promise((resolve, reject) => {
    const child = spawn('xmllint', ['--noout', '--nonet', '--relaxng', schemaPath, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ valid: code === 0, errors: code === 0 ? '' : stderr.trim() }));
    child.stdin.end(xml, 'utf8');
  });
}

/** PEM material of a throwaway CA with one server (localhost, 127.0.0.1) and one client certificate. */
export interface TestPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second, unrelated CA: a certificate from it must be refused. */
  readonly otherCaCert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

async function makeLeaf(dir: string, name: string, cn: string, extensions: string): Promise<void> {
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(
    [
      'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`,
    ],
    dir,
  );
}

/** Makes a throwaway PKI with the openssl CLI in a temp folder (removed afterwards). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'audit-pki-'));
  try {
    await makeCa(dir, 'ca');
    await makeCa(dir, 'other-ca');
    await makeLeaf(dir, 'server', 'localhost', 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    await makeLeaf(dir, 'client', 'audit-test-client', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
    const read = (f: string) => readFile(join(dir, f), 'utf8');
    return {
      caCert: await read('ca.crt'),
      serverCert: await read('server.crt'),
      serverKey: await read('server.key'),
      clientCert: await read('client.crt'),
      clientKey: await read('client.key'),
      otherCaCert: await read('other-ca.crt'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface AuditCollectorOptions {
  /** Reuse a PKI (saves the openssl runs); default: a new one. */
  readonly pki?: TestPki;
  /** Fixed ports, e.g. to bring a collector back up where a sender expects it. Default: free ports. */
  readonly tlsPort?: number;
  readonly udpPort?: number;
  readonly requireClientCertificate?: boolean;
  readonly maxMessageBytes?: number;
}

export interface AuditCollector {
  readonly host: string;
  readonly tlsPort: number;
  readonly udpPort: number;
  readonly pki: TestPki;
  /** Every stored record, in arrival order (repeats included). */
  readonly records: ReceivedAuditRecord[];
  readonly rejections: Array<{ readonly reason: AuditRejection; readonly peer: PeerInfo }>;
  /** Options for a TLS sender to reach this collector (with the client certificate). */
  tlsClientOptions(): TlsClientOptions;
  /** Resolves with the first record (already received or arriving) that matches. */
  waitFor(predicate: (r: ReceivedAuditRecord) => boolean, timeoutMs?: number): Promise<ReceivedAuditRecord>;
  /** Resolves once `count` records have arrived in total. */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedAuditRecord[]>;
  waitForRejection(predicate?: (r: { reason: AuditRejection; peer: PeerInfo }) => boolean, timeoutMs?: number): Promise<{ reason: AuditRejection; peer: PeerInfo }>;
  clear(): void;
  close(): Promise<void>;
}

/** Runs the audit receiver on 127.0.0.1 (TLS + UDP) and keeps what it receives in memory. */
export async function startAuditCollector(options: AuditCollectorOptions = {}): Promise<AuditCollector> {
  const pki = options.pki ?? (await createTestPki());
  const records: ReceivedAuditRecord[] = [];
  const rejections: Array<{ reason: AuditRejection; peer: PeerInfo }> = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  const receiver = await startAuditReceiver({
    tls: {
      host: '127.0.0.1',
      port: options.tlsPort ?? 0,
      key: pki.serverKey,
      cert: pki.serverCert,
      ca: pki.caCert,
      requireClientCertificate: options.requireClientCertificate ?? false,
    },
    udp: { host: '127.0.0.1', port: options.udpPort ?? 0 },
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    store: async (record) => {
      records.push(record);
      notify();
    },
    onRejected: (reason, peer) => {
      rejections.push({ reason, peer });
      notify();
    },
  });

  function waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const listener = () => {
        const found = check();
        if (found === undefined) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(found);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`audit collector: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      listeners.add(listener);
    });
  }

  const tlsPort = receiver.tlsAddress?.port ?? 0;
  const udpPort = receiver.udpAddress?.port ?? 0;
  return {
    host: '127.0.0.1',
    tlsPort,
    udpPort,
    pki,
    records,
    rejections,
    tlsClientOptions: () => ({ host: '127.0.0.1', port: tlsPort, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' }),
    waitFor: (predicate, timeoutMs = 5_000) =>
      waitUntil(() => records.find(predicate), timeoutMs, () => `a matching record (have ${records.length}, rejections: ${JSON.stringify(rejections.map((r) => r.reason))})`),
    waitForCount: (count, timeoutMs = 5_000) =>
      waitUntil(() => (records.length >= count ? records.slice() : undefined), timeoutMs, () => `${count} records (have ${records.length})`),
    waitForRejection: (predicate = () => true, timeoutMs = 5_000) =>
      waitUntil(() => rejections.find(predicate), timeoutMs, () => `a matching rejection (have ${JSON.stringify(rejections.map((r) => r.reason))})`),
    clear: () => {
      records.length = 0;
      rejections.length = 0;
    },
    close: () => receiver.close(),
  };
}

/**
 * One message of every kind the builders make, with realistic values (fixed clock, fixed source):
 * for schema tests, and for tests of code that stores or displays audit records.
 */
export function sampleAuditMessages(): Record<string, AuditMessage> {
  const events = createAuditEvents({
    auditSource: { sourceId: 'imageshare-edge-1', enterpriseSiteId: 'Example Hospital', typeCode: '4' },
    processId: '4242',
    clock: () => new Date('2024-05-01T10:00:00.000Z'),
  });
  const edge = { userId: 'https://edge.example.org/xds', host: '192.0.2.10' };
  const clearinghouse = { userId: 'https://clearinghouse.example.org/xds/repository', host: 'clearinghouse.example.org' };
  const staff = { userId: 'jsmith@edge.example.org', userName: 'Jane Smith', host: '192.0.2.50' };
  const patientAccount = { userId: 'patient-7781@portal.example.org', userName: 'John Doe', host: '198.51.100.7' };
  const patientId = 'PAT-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO';
  const study: StudyRef = {
    uid: '1.3.6.1.4.1.21367.201599.1.201604020954048',
    accessionNumbers: ['ACC-1001'],
    sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.1', numberOfInstances: 2, instanceUids: ['1.2.3.4.5.1', '1.2.3.4.5.2'] }],
  };
  const shareId = hashShareToken('example-share-token-not-a-real-secret');
  const pacs = { userId: 'PACS_AE', alternativeUserId: 'AETITLES=PACS_AE', host: '192.0.2.20' };
  const edgeAe = { userId: 'EDGE_AE', alternativeUserId: 'AETITLES=EDGE_AE', host: '192.0.2.10' };
  return {
    applicationStart: events.applicationStart({ application: { userId: 'imageshare', userName: 'ImageShare Edge' }, launcher: { userId: 'systemd' } }),
    applicationStop: events.applicationStop({ application: { userId: 'imageshare' } }),
    userLogin: events.userLogin({ user: staff, authenticator: { userId: 'imageshare-portal' } }),
    userLoginFailed: events.userLogin({ user: staff, outcome: 'minor-failure', outcomeDescription: 'bad password' }),
    userLogout: events.userLogout({ user: staff }),
    securityAlert: events.securityAlert({
      type: EventTypes.nodeAuthentication,
      reporter: { userId: 'imageshare-edge-1' },
      outcome: 'serious-failure',
      subjects: [auditObjects.alertSubject({ id: '203.0.113.66', idTypeCode: ObjectIdTypes.nodeId, description: 'TLS client certificate not trusted' })],
    }),
    phiExport: events.phiExport({
      exporter: { userId: 'imageshare' },
      user: staff,
      media: { id: 'DVD label EXAM-2024-05', type: MediaTypes.dvd },
      patients: [{ id: patientId, name: 'Doe^John' }],
      studies: [study],
    }),
    phiImport: events.phiImport({ importer: { userId: 'imageshare' }, source: pacs, patients: [patientId], studies: [study] }),
    beginTransferring: events.beginTransferringDicomInstances({ source: edgeAe, destination: pacs, patient: patientId, studies: [study] }),
    cStoreSent: events.dicomInstancesSent({ source: edgeAe, destination: pacs, patient: patientId, studies: [study], transaction: 'RAD-8' }),
    cStoreReceived: events.dicomInstancesReceived({ source: pacs, destination: edgeAe, patient: patientId, studies: [study], transaction: 'RAD-8' }),
    cMove: events.dicomInstancesSent({ source: pacs, destination: edgeAe, patient: patientId, studies: [study], transaction: 'RAD-16', requestor: 'destination' }),
    instancesViewed: events.dicomInstancesAccessed({ action: 'R', user: staff, application: { userId: 'imageshare-viewer' }, patient: patientId, studies: [study] }),
    cFind: events.dicomFind({
      role: 'scp',
      source: pacs,
      destination: edgeAe,
      sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
      dataset: Buffer.from([0x08, 0x00, 0x52, 0x00, 0x06, 0x00, 0x00, 0x00, 0x53, 0x54, 0x55, 0x44, 0x59, 0x20]),
      transferSyntaxUid: '1.2.840.10008.1.2',
    }),
    qidoRs: events.qidoRsQuery({ role: 'server', source: { userId: 'viewer', host: '192.0.2.99' }, destination: { userId: 'https://edge.example.org/dicom-web' }, request: '/dicom-web/studies?PatientID=PAT-0001&limit=10', patientId }),
    fhirSearch: events.fhirSearch({ role: 'server', source: { userId: 'mobile-app', host: '192.0.2.98' }, destination: { userId: 'https://clearinghouse.example.org/fhir' }, request: '/fhir/DocumentReference?patient=123&status=current', user: patientAccount }),
    patientRecord: events.patientRecord({ action: 'U', user: staff, process: { userId: 'imageshare' }, patient: { id: patientId, name: 'Doe^John' } }),
    iti8: events.iti8PatientIdentityFeed({ role: 'source', action: 'C', source: { userId: 'IMAGESHARE|EDGE1' }, destination: { userId: 'REGISTRY|CLEARINGHOUSE', host: 'clearinghouse.example.org' }, patientId, messageControlId: 'MSG-000123' }),
    iti41Source: events.iti41ProvideAndRegister({ role: 'source', source: edge, destination: clearinghouse, patientId, submissionSetUid: '1.3.6.1.4.1.21367.2024.1.1', documents: [{ uniqueId: '1.3.6.1.4.1.21367.2024.1.2' }] }),
    iti41Repository: events.iti41ProvideAndRegister({ role: 'repository', source: edge, destination: clearinghouse, patientId, submissionSetUid: '1.3.6.1.4.1.21367.2024.1.1' }),
    iti42: events.iti42RegisterDocumentSet({ role: 'registry', source: clearinghouse, destination: { userId: 'https://clearinghouse.example.org/xds/registry' }, patientId, submissionSetUid: '1.3.6.1.4.1.21367.2024.1.1' }),
    iti43: events.iti43RetrieveDocumentSet({ role: 'repository', source: clearinghouse, destination: { userId: 'https://portal.example.org', host: '192.0.2.30' }, documents: [{ uniqueId: '1.3.6.1.4.1.21367.2024.1.2', repositoryUniqueId: '1.3.6.1.4.1.21367.13.80.110', homeCommunityId: 'urn:oid:1.3.6.1.4.1.21367.13.70.1' }], patientId }),
    iti18: events.iti18RegistryStoredQuery({ role: 'registry', source: { userId: 'https://portal.example.org', host: '192.0.2.30' }, destination: { userId: 'https://clearinghouse.example.org/xds/registry' }, queryId: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d', queryRequest: '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>', homeCommunityId: 'urn:oid:1.3.6.1.4.1.21367.13.70.1', patientId, user: patientAccount }),
    rad68: events.rad68ProvideAndRegisterImaging({ role: 'imaging-source', source: edge, destination: clearinghouse, patientId, submissionSetUid: '1.3.6.1.4.1.21367.2024.1.3', documents: [{ uniqueId: '1.3.6.1.4.1.21367.2024.1.4' }], studies: [study] }),
    rad69: events.rad69RetrieveImagingDocumentSet({ role: 'imaging-source', source: edge, destination: { userId: 'https://portal.example.org' }, studies: [study], patientId }),
    rad55: events.rad55WadoRetrieve({ role: 'server', source: edge, destination: { userId: 'viewer', host: '192.0.2.99' }, studies: [study], patientId }),
    rad107: events.rad107WadoRsRetrieve({ role: 'server', source: edge, destination: { userId: 'viewer', host: '192.0.2.99' }, studies: [study], patientId, user: staff }),
    rad108: events.rad108StoreInstances({ role: 'receiver', source: { userId: 'uploader', host: '192.0.2.97' }, destination: clearinghouse, studies: [study], patientId }),
    auditRecordingStarted: events.auditRecording({ state: 'started', reporter: { userId: 'imageshare-arr' }, auditTrailUri: 'https://arr.example.org/audit' }),
    auditLogUsed: events.auditLogUsed({ user: staff, auditLogUri: 'https://edge.example.org/admin/audit' }),
    shareCreated: events.shareCreated({ user: patientAccount, application: { userId: 'imageshare-portal' }, shareId, patient: patientId, studies: [study], description: 'share created, expires 2024-05-31' }),
    shareUsed: events.shareUsed({ accessor: { host: '203.0.113.5' }, application: { userId: 'imageshare-portal' }, shareId, patient: patientId, studies: [study] }),
    shareRevoked: events.shareRevoked({ user: patientAccount, application: { userId: 'imageshare-portal' }, shareId, patient: patientId }),
    claimSucceeded: events.claimAttempt({ user: patientAccount, application: { userId: 'imageshare-portal' }, claimCodeId: hashShareToken('CLAIM-CODE-EXAMPLE'), patient: patientId, studies: [study] }),
    claimFailed: events.claimAttempt({ user: patientAccount, application: { userId: 'imageshare-portal' }, outcome: 'minor-failure', description: 'wrong code' }),
    download: events.download({ user: patientAccount, application: { userId: 'imageshare-portal' }, patient: patientId, studies: [study], format: 'zip' }),
    userAccountCreated: events.userAccountChanged({ action: 'C', actor: staff, application: { userId: 'imageshare-admin' }, account: { userId: 'newuser@edge.example.org', userName: 'New User' } }),
  };
}
