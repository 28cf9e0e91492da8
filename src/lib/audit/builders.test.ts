import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuditBuildError,
  EventIds,
  IheTransactions,
  ObjectIdTypes,
  ProductEventTypes,
  RoleIds,
  auditEvents,
  createAuditEvents,
  hashShareToken,
  parseAuditXml,
  toDicomXml,
  toFhirAuditEvent,
  type AuditMessage,
} from './index.ts';
import { sampleAuditMessages } from './testing.ts';

const samples = sampleAuditMessages();
const source = { userId: 'https://edge.example.org/xds', host: '192.0.2.10' };
const destination = { userId: 'https://repo.example.org/xds', host: 'repo.example.org' };

function requestors(m: AuditMessage) {
  return m.participants.filter((p) => p.userIsRequestor);
}

test('every sample message round-trips through DICOM XML unchanged', () => {
  for (const [name, message] of Object.entries(samples)) {
    const parsed = parseAuditXml(toDicomXml(message));
    assert.deepEqual(parsed.message, message, name);
    assert.equal(parsed.attributeStyle, 'dicom', name);
  }
});

test('no sample message names more than one requestor (PS3.15 A.5.2)', () => {
  for (const [name, message] of Object.entries(samples)) assert.ok(requestors(message).length <= 1, name);
});

test('ITI-41 at the repository: Import (C) with ITI-41, patient and submission set objects', () => {
  const m = auditEvents.iti41ProvideAndRegister({
    role: 'repository',
    source,
    destination,
    patientId: 'P1^^^&1.2.3&ISO',
    submissionSetUid: '1.2.3.4',
  });
  assert.deepEqual(m.event.eventId, EventIds.import);
  assert.equal(m.event.action, 'C');
  assert.equal(m.event.outcome, 0);
  assert.deepEqual(m.event.typeCodes, [IheTransactions['ITI-41']]);
  const [src, dst] = m.participants;
  assert.deepEqual(src?.roleIdCodes, [RoleIds.source]);
  assert.equal(src?.userIsRequestor, true);
  assert.equal(src?.networkAccessPointTypeCode, '2');
  assert.deepEqual(dst?.roleIdCodes, [RoleIds.destination]);
  assert.equal(dst?.networkAccessPointTypeCode, '1');
  assert.equal(dst?.alternativeUserId, String(process.pid), 'the local side carries the process id');
  const patient = m.objects.find((o) => o.role === '1');
  assert.equal(patient?.id, 'P1^^^&1.2.3&ISO');
  assert.equal(patient?.typeCode, '1');
  assert.deepEqual(patient?.idTypeCode, ObjectIdTypes.patientNumber);
  const submissionSet = m.objects.find((o) => o.role === '20');
  assert.equal(submissionSet?.idTypeCode.code, 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd');
  assert.equal(submissionSet?.typeCode, '2');
});

test('ITI-41 at the source is an Export (R); a human user becomes the only requestor', () => {
  const m = auditEvents.iti41ProvideAndRegister({
    role: 'source',
    outcome: 'serious-failure',
    source,
    destination,
    patientId: 'P1',
    submissionSetUid: '1.2.3.4',
    user: { userId: 'jsmith', host: '192.0.2.50' },
  });
  assert.deepEqual(m.event.eventId, EventIds.export);
  assert.equal(m.event.action, 'R');
  assert.equal(m.event.outcome, 8);
  assert.deepEqual(requestors(m).map((p) => p.userId), ['jsmith']);
});

test('ITI-43: documents are report numbers with repository and community details (base64)', () => {
  const m = auditEvents.iti43RetrieveDocumentSet({
    role: 'consumer',
    source: destination,
    destination: source,
    documents: [{ uniqueId: '1.2.9', repositoryUniqueId: '1.1.1', homeCommunityId: 'urn:oid:1.2' }],
  });
  assert.deepEqual(m.event.eventId, EventIds.import);
  const doc = m.objects[0];
  assert.deepEqual(doc?.idTypeCode, ObjectIdTypes.reportNumber);
  assert.equal(doc?.role, '3');
  assert.deepEqual(doc?.details, [
    { type: 'Repository Unique Id', value: Buffer.from('1.1.1').toString('base64') },
    { type: 'ihe:homeCommunityID', value: Buffer.from('urn:oid:1.2').toString('base64') },
  ]);
  // the consumer (destination) pulled the documents
  assert.deepEqual(requestors(m).map((p) => p.roleIdCodes[0]), [RoleIds.destination]);
});

test('ITI-18: query object role 24 with the request base64 and a QueryEncoding detail', () => {
  const request = '<AdhocQueryRequest/>';
  const m = auditEvents.iti18RegistryStoredQuery({ role: 'consumer', source, destination, queryId: 'urn:uuid:14d4', queryRequest: request, patientId: 'P1' });
  assert.deepEqual(m.event.eventId, EventIds.query);
  assert.equal(m.event.action, 'E');
  const q = m.objects.find((o) => o.role === '24');
  assert.equal(q?.id, 'urn:uuid:14d4');
  assert.deepEqual(q?.idTypeCode, IheTransactions['ITI-18']);
  assert.equal(Buffer.from(q?.query ?? '', 'base64').toString('utf8'), request);
  assert.deepEqual(q?.details[0], { type: 'QueryEncoding', value: Buffer.from('UTF-8').toString('base64') });
});

test('studies carry SOP classes, instances and accession numbers in ParticipantObjectDescription', () => {
  const m = samples.cStoreSent as AuditMessage;
  const study = m.objects.find((o) => o.idTypeCode.code === '110180');
  assert.equal(study?.descriptions[0]?.sopClasses[0]?.uid, '1.2.840.10008.5.1.4.1.1.1');
  assert.equal(study?.descriptions[0]?.sopClasses[0]?.numberOfInstances, 2);
  assert.deepEqual(study?.descriptions[0]?.accessionNumbers, ['ACC-1001']);
  assert.match(toDicomXml(m), /<ParticipantObjectDescription><Accession Number="ACC-1001"\/><SOPClass UID="1\.2\.840\.10008\.5\.1\.4\.1\.1\.1" NumberOfInstances="2"><Instance UID="1\.2\.3\.4\.5\.1"\/>/);
});

test('application start/stop and login/logout use the DICOM event type codes', () => {
  assert.deepEqual(samples.applicationStart?.event.typeCodes.map((c) => c.code), ['110120']);
  assert.deepEqual(samples.applicationStop?.event.typeCodes.map((c) => c.code), ['110121']);
  assert.deepEqual(samples.userLogin?.event.eventId, EventIds.userAuthentication);
  assert.deepEqual(samples.userLogin?.event.typeCodes.map((c) => c.code), ['110122']);
  assert.equal(samples.userLoginFailed?.event.outcome, 4);
  assert.deepEqual(samples.userLogout?.event.typeCodes.map((c) => c.code), ['110123']);
});

test('share events identify the share by its token hash, never the token', () => {
  const token = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const m = auditEvents.shareCreated({
    user: { userId: 'patient@portal' },
    application: { userId: 'portal' },
    shareId: hashShareToken(token),
    patient: 'P1',
  });
  const xml = toDicomXml(m);
  assert.ok(!xml.includes(token), 'the token must not appear in the audit message');
  assert.ok(!JSON.stringify(toFhirAuditEvent(m)).includes(token));
  assert.deepEqual(m.event.eventId, EventIds.securityAlert);
  assert.deepEqual(m.event.typeCodes.map((c) => c.code), ['110135', ProductEventTypes.shareCreated.code]);
  const share = m.objects.find((o) => o.idTypeCode.code === 'share');
  assert.equal(share?.id, hashShareToken(token));
  assert.match(share?.id ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(samples.shareUsed?.event.eventId.code, '110103');
  assert.equal(samples.shareRevoked?.event.typeCodes[1]?.code, 'share-revoked');
});

test('claim attempts and downloads', () => {
  assert.equal(samples.claimFailed?.event.outcome, 4);
  assert.deepEqual(samples.claimFailed?.event.typeCodes.map((c) => c.code), ['110144', 'claim-attempt']);
  const download = samples.download as AuditMessage;
  assert.deepEqual(download.event.eventId, EventIds.export);
  const media = download.participants.find((p) => p.roleIdCodes.includes(RoleIds.destinationMedia));
  assert.equal(media?.mediaType?.code, '110037');
  assert.equal(media?.userIsRequestor, false);
});

test('builders refuse messages that cannot be valid', () => {
  assert.throws(() => auditEvents.iti41ProvideAndRegister({ role: 'source', source, destination, patientId: ' ', submissionSetUid: '1' }), AuditBuildError);
  assert.throws(() => auditEvents.iti43RetrieveDocumentSet({ role: 'repository', source, destination, documents: [] }), AuditBuildError);
  assert.throws(() => auditEvents.dicomInstancesAccessed({ action: 'R', patient: 'P', studies: [{ uid: '1.2' }] }), AuditBuildError);
});

test('createAuditEvents binds the audit source and clock; toDicomXml escapes and cleans hostile text', () => {
  const events = createAuditEvents({ auditSource: { sourceId: 'edge-7', enterpriseSiteId: 'Site A', typeCode: '3' }, clock: () => new Date(0) });
  const m = events.userLogin({ user: { userId: 'evil"<&>\u0001user', userName: 'a\nb' } });
  assert.equal(m.event.dateTime, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(m.source, { sourceId: 'edge-7', enterpriseSiteId: 'Site A', typeCodes: [{ code: '3' }] });
  const xml = toDicomXml(m);
  assert.match(xml, /UserID="evil&quot;&lt;&amp;&gt;\uFFFDuser"/);
  assert.match(xml, /UserName="a&#10;b"/);
  assert.equal(parseAuditXml(xml).message.participants[0]?.userName, 'a\nb');
});

test('FHIR AuditEvent (BALP style) for an ITI-18 query', () => {
  const fhir = toFhirAuditEvent(samples.iti18 as AuditMessage);
  assert.equal(fhir.resourceType, 'AuditEvent');
  assert.deepEqual(fhir.type, { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110112', display: 'Query' });
  assert.deepEqual(fhir.subtype, [{ system: 'urn:ihe:event-type-code', code: 'ITI-18', display: 'Registry Stored Query' }]);
  assert.equal(fhir.action, 'E');
  assert.equal(fhir.recorded, '2024-05-01T10:00:00.000Z');
  assert.equal(fhir.outcome, '0');
  assert.deepEqual(fhir.source, {
    site: 'Example Hospital',
    observer: { identifier: { value: 'imageshare-edge-1' }, display: 'imageshare-edge-1' },
    type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
  });
  const client = fhir.agent.find((a) => a.type?.coding[0]?.code === '110153');
  assert.equal(client?.who.identifier?.value, 'https://portal.example.org');
  assert.deepEqual(client?.network, { address: '192.0.2.30', type: '2' });
  const user = fhir.agent.find((a) => a.requestor);
  assert.equal(user?.who.identifier?.value, 'patient-7781@portal.example.org');
  assert.equal(user?.name, 'John Doe');
  const query = fhir.entity?.find((e) => e.role?.code === '24');
  assert.deepEqual(query?.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' });
  assert.deepEqual(query?.role, { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' });
  assert.equal(Buffer.from(query?.query ?? '', 'base64').toString(), '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>');
  assert.equal(query?.name, undefined, 'sev-1: name and query are exclusive');
  assert.deepEqual(query?.detail?.[0], { type: 'QueryEncoding', valueBase64Binary: Buffer.from('UTF-8').toString('base64') });
  assert.equal(query?.what?.identifier?.value, 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d');
  const patient = fhir.entity?.find((e) => e.role?.code === '1');
  assert.deepEqual(patient?.what?.identifier?.type?.coding, [{ system: 'urn:ietf:rfc:3881', code: '2', display: 'Patient Number' }]);
});

test('FHIR AuditEvent maps study descriptions to the DICOM AuditEvent extensions', () => {
  const fhir = toFhirAuditEvent(samples.rad69 as AuditMessage);
  const study = fhir.entity?.find((e) => e.what?.identifier?.type?.coding[0]?.code === '110180');
  assert.ok(study);
  assert.deepEqual(study.extension?.find((x) => x.url.endsWith('Accession'))?.valueIdentifier, { value: 'ACC-1001' });
  assert.equal(study.extension?.find((x) => x.url.endsWith('NumberOfInstances'))?.valueInteger, 2);
  assert.deepEqual(study.detail, [{ type: 'ContainsSOPClass', valueString: '1.2.840.10008.5.1.4.1.1.1' }]);
  assert.equal(fhir.subtype?.[0]?.code, 'RAD-69');
});

test('FHIR: an EventDateTime without zone is read as UTC; product codes get a URI system', () => {
  const xml = toDicomXml(samples.shareUsed as AuditMessage).replace('2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00');
  const fhir = toFhirAuditEvent(parseAuditXml(xml).message);
  assert.equal(fhir.recorded, '2024-05-01T10:00:00Z');
  assert.deepEqual(fhir.subtype, [{ system: 'urn:imageshare:audit:codes', code: 'share-used', display: 'Share used' }]);
});
