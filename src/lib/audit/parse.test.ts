import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { AuditParseError, parseAuditXml, toDicomXml, type AuditRejectCode } from './index.ts';
import { sampleAuditMessages } from './testing.ts';

const SAMPLE = join(samplesDir, 'ipf-atna-dicom-instances-transferred.xml');

function rejects(input: string | Uint8Array, code: AuditRejectCode, options?: { maxBytes?: number }) {
  assert.throws(
    () => parseAuditXml(input, options),
    (err: unknown) => err instanceof AuditParseError && err.code === code,
    `expected AuditParseError ${code}`,
  );
}

const MINIMAL_RFC3881 = `<?xml version="1.0" encoding="UTF-8"?>
<AuditMessage>
  <EventIdentification EventActionCode="E" EventDateTime="2024-05-01T10:00:00+02:00" EventOutcomeIndicator="4">
    <EventID code="110114" codeSystemName="DCM" displayName="User Authentication"/>
    <EventTypeCode code="110122" codeSystemName="DCM" displayName="Login"/>
  </EventIdentification>
  <ActiveParticipant UserID="alice" UserIsRequestor="true" NetworkAccessPointID="10.1.2.3" NetworkAccessPointTypeCode="2"/>
  <AuditSourceIdentification AuditSourceID="vendor-x"><AuditSourceTypeCode code="1"/></AuditSourceIdentification>
</AuditMessage>`;

test('the IHE sample (IPF, RFC 3881 attribute style) parses', { skip: requireTools({ shared: true, paths: [SAMPLE] }) }, () => {
  const record = parseAuditXml(readFileSync(SAMPLE));
  const m = record.message;
  assert.equal(record.attributeStyle, 'rfc3881');
  assert.deepEqual(m.event.eventId, { code: '110104', system: 'DCM', display: 'DICOM Instances Transferred' });
  assert.equal(m.event.action, 'C');
  assert.equal(m.event.dateTime, '2001-12-17T09:30:47');
  assert.equal(m.event.outcome, 0);
  assert.equal(m.participants.length, 3);
  assert.deepEqual(
    m.participants.map((p) => [p.userId, p.userIsRequestor, p.roleIdCodes[0]?.code]),
    [
      ['123', false, '110153'],
      ['67562', false, '110152'],
      ['smitty@readingroom.hospital.org', true, '110153'],
    ],
  );
  assert.equal(m.participants[2]?.userName, 'Dr. Smith');
  assert.equal(m.participants[0]?.alternativeUserId, 'AETITLE=AEFOO');
  assert.deepEqual(m.source, { sourceId: 'ReadingRoom', enterpriseSiteId: 'Hospital', typeCodes: [{ code: '1' }] });
  const [study, patient] = m.objects;
  assert.equal(study?.id, '1.2.840.10008.2.3.4.5.6.7.78.8');
  assert.equal(study?.idTypeCode.code, '110180');
  assert.equal(study?.typeCode, '2');
  assert.equal(study?.role, '3');
  assert.equal(study?.lifeCycle, '1');
  // RFC 3881 style: MPPS/Accession/SOPClass inside ParticipantObjectDescription
  assert.deepEqual(study?.descriptions[0]?.mppsUids, ['1.2.840.10008.1.2.3.4.5']);
  assert.deepEqual(study?.descriptions[0]?.accessionNumbers, ['12341234']);
  assert.deepEqual(
    study?.descriptions[0]?.sopClasses.map((c) => [c.uid, c.numberOfInstances]),
    [
      ['1.2.840.10008.5.1.4.1.1.2', 1500],
      ['1.2.840.10008.5.1.4.1.1.11.1', 3],
    ],
  );
  assert.equal(patient?.id, 'ptid12345');
  assert.equal(patient?.name, 'John Doe');
  assert.deepEqual(patient?.idTypeCode, { code: '2' });
  assert.deepEqual(record.patientIds, ['ptid12345']);
  assert.match(record.xml, /^<AuditMessage/);
});

test('RFC 3881 and DICOM attribute styles give the same normalized record', () => {
  const rfc = parseAuditXml(MINIMAL_RFC3881);
  const dicomXml = MINIMAL_RFC3881.replace(/ code="/g, ' csd-code="').replace(/displayName="/g, 'originalText="');
  const dicom = parseAuditXml(dicomXml);
  assert.equal(rfc.attributeStyle, 'rfc3881');
  assert.equal(dicom.attributeStyle, 'dicom');
  assert.deepEqual(rfc.message, dicom.message);
  assert.deepEqual(rfc.message.event.typeCodes, [{ code: '110122', system: 'DCM', display: 'Login' }]);
  assert.equal(rfc.message.event.outcome, 4);
  assert.equal(rfc.message.participants[0]?.networkAccessPointTypeCode, '2');
});

test('parses what the builders emit, bytes and BOM included', () => {
  const xml = toDicomXml(sampleAuditMessages().iti43!);
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]);
  const record = parseAuditXml(withBom);
  assert.equal(record.xml, xml);
  assert.deepEqual(record.patientIds, ['PAT-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO']);
});

test('decodes predefined entities, character references and CDATA; keeps UTF-8 text', () => {
  const xml = MINIMAL_RFC3881.replace('UserID="alice"', 'UserID="Zo&#xEB; &amp; &#246;&lt;" UserName="Jos\u00e9 \u5c71\u7530"').replace(
    '</AuditMessage>',
    '<ParticipantObjectIdentification ParticipantObjectID="q1"><ParticipantObjectIDTypeCode code="10"/><ParticipantObjectName><![CDATA[a&amp;b<c>]]></ParticipantObjectName></ParticipantObjectIdentification></AuditMessage>',
  );
  const m = parseAuditXml(xml).message;
  assert.equal(m.participants[0]?.userId, 'Zoë & ö<');
  assert.equal(m.participants[0]?.userName, 'José 山田');
  assert.equal(m.objects[0]?.name, 'a&amp;b<c>');
});

test('tolerates SOPClass and friends as direct children of the object (some vendors)', () => {
  const xml = MINIMAL_RFC3881.replace(
    '</AuditMessage>',
    '<ParticipantObjectIdentification ParticipantObjectID="1.2.3" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3"><ParticipantObjectIDTypeCode csd-code="110180" codeSystemName="DCM" originalText="Study Instance UID"/><SOPClass UID="1.2.840.10008.5.1.4.1.1.2" NumberOfInstances="4"/><Accession Number="A1"/></ParticipantObjectIdentification></AuditMessage>',
  );
  const record = parseAuditXml(xml);
  assert.equal(record.attributeStyle, 'mixed');
  assert.deepEqual(record.message.objects[0]?.descriptions[0]?.accessionNumbers, ['A1']);
  assert.equal(record.message.objects[0]?.descriptions[0]?.sopClasses[0]?.numberOfInstances, 4);
});

test('rejects missing mandatory parts with typed errors', () => {
  rejects(MINIMAL_RFC3881.replace(/<EventIdentification[\s\S]*<\/EventIdentification>/, ''), 'missing-event-identification');
  rejects(MINIMAL_RFC3881.replace(/<ActiveParticipant[^>]*\/>/, ''), 'missing-active-participant');
  rejects(MINIMAL_RFC3881.replace(/<AuditSourceIdentification[\s\S]*<\/AuditSourceIdentification>/, ''), 'missing-audit-source');
  rejects(MINIMAL_RFC3881.replace('AuditSourceID="vendor-x"', ''), 'missing-audit-source');
  rejects(MINIMAL_RFC3881.replace(/<EventID [^>]*\/>/, ''), 'missing-event-identification');
  rejects(MINIMAL_RFC3881.replace('EventOutcomeIndicator="4"', 'EventOutcomeIndicator="3"'), 'invalid-field');
  rejects(MINIMAL_RFC3881.replace('2024-05-01T10:00:00+02:00', 'yesterday'), 'invalid-field');
  rejects(MINIMAL_RFC3881.replace('EventActionCode="E"', 'EventActionCode="X"'), 'invalid-field');
  rejects(MINIMAL_RFC3881.replace('UserID="alice"', ''), 'invalid-field');
  rejects('<?xml version="1.0"?><Other/>', 'not-audit-message');
  rejects('', 'not-well-formed');
  rejects('<?xml version="1.0"?><!-- nothing -->', 'not-well-formed');
});

test('rejects DOCTYPE: billion laughs and XXE never reach the parser', () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<AuditMessage><EventIdentification EventDateTime="2024-01-01T00:00:00Z" EventOutcomeIndicator="0"><EventID code="&lol3;"/></EventIdentification></AuditMessage>`;
  rejects(laughs, 'dtd-forbidden');
  const xxe = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><AuditMessage>&xxe;</AuditMessage>`;
  rejects(xxe, 'dtd-forbidden');
  rejects('<!doctype AuditMessage><AuditMessage/>', 'dtd-forbidden');
  // an entity reference without a declaration is not expanded either
  rejects(MINIMAL_RFC3881.replace('UserID="alice"', 'UserID="&xxe;"'), 'not-well-formed');
  rejects(MINIMAL_RFC3881.replace('UserID="alice"', 'UserID="&#0;"'), 'not-well-formed');
});

test('rejects oversized, non-UTF-8, foreign-encoding and malformed input', () => {
  rejects(MINIMAL_RFC3881, 'too-large', { maxBytes: 100 });
  rejects(Buffer.alloc(70 * 1024, 0x20), 'too-large');
  const badUtf8 = Buffer.concat([Buffer.from(MINIMAL_RFC3881.slice(0, 100)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(MINIMAL_RFC3881.slice(100))]);
  rejects(badUtf8, 'invalid-utf8');
  rejects(MINIMAL_RFC3881.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'unsupported-encoding');
  rejects(MINIMAL_RFC3881.replace('</AuditMessage>', ''), 'not-well-formed');
  rejects('\u0000\u0001garbage<<>>', 'not-well-formed');
  rejects(MINIMAL_RFC3881 + '<AuditMessage/>', 'not-well-formed');
});
