import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatPatientId,
  formatReferenceId,
  formatXcn,
  formatXon,
  isOid,
  parsePatientId,
  parseReferenceId,
  parseXcn,
  parseXon,
  patientIdProblem,
  personProblem,
} from './hl7-datatypes.ts';

test('patient ID (CX) formatting and parsing: id^^^&oid&ISO', () => {
  const pid = formatPatientId('SR7', '1.2.260');
  assert.equal(pid, 'SR7^^^&1.2.260&ISO');
  assert.deepEqual(parsePatientId(pid), { id: 'SR7', assigningAuthorityOid: '1.2.260' });
  assert.equal(patientIdProblem(pid), undefined);
});

test('patient ID rules: only CX.1 and CX.4, assigning authority &OID&ISO without namespace', () => {
  assert.match(patientIdProblem('') ?? '', /CX.1/);
  assert.match(patientIdProblem('^^^&1.2.3&ISO') ?? '', /CX.1/);
  assert.match(patientIdProblem('123') ?? '', /CX.4/);
  assert.match(patientIdProblem('123^^^&1.2.3&ISO^PI') ?? '', /CX.5/);
  assert.match(patientIdProblem('123^5^^&1.2.3&ISO') ?? '', /CX.2/);
  assert.match(patientIdProblem('123^^^NS&1.2.3&ISO') ?? '', /namespace/);
  assert.match(patientIdProblem('123^^^NS') ?? '', /namespace/);
  assert.match(patientIdProblem('123^^^&1.2.3&DNS') ?? '', /ISO/);
  assert.match(patientIdProblem('123^^^&not-an-oid&ISO') ?? '', /not an OID/);
  assert.equal(parsePatientId("x' OR 1=1 --^^^&1.2.3&ISO")?.id, "x' OR 1=1 --", 'data stays data');
});

test('OIDs: digits and dots, no leading zeros, at most 64 characters', () => {
  assert.ok(isOid('1.2.840.10008.5.1.4.1.1.88.59'));
  assert.ok(isOid('2.16.840.1.113883.6.1'));
  assert.ok(!isOid('1'));
  assert.ok(!isOid('1.02.3'));
  assert.ok(!isOid('1..2'));
  assert.ok(!isOid(`1.${'2'.repeat(70)}`));
  assert.ok(!isOid('1.3.6.1.4...1000'));
});

test('XCN persons, XON organisations, CXi reference IDs', () => {
  const person = '12345^Welby^Marcus^J^Jr^Dr^^^&1.2.840.99&ISO';
  const p = parseXcn(person);
  assert.equal(p.familyName, 'Welby');
  assert.equal(p.assigningAuthority.universalId, '1.2.840.99');
  assert.equal(formatXcn(p), person);
  assert.equal(personProblem('^Smitty^Gerald^^^'), undefined);
  assert.match(personProblem('^^^^^') ?? '', /ID or a name/);
  assert.match(personProblem('123^Smith') ?? '', /assigning authority/);
  const org = formatXon('Radiology Associates', 'RA1', '1.2.3');
  assert.equal(org, 'Radiology Associates^^^^^&1.2.3&ISO^^^^RA1');
  assert.deepEqual(parseXon(org), { name: 'Radiology Associates', assigningAuthority: { namespaceId: '', universalId: '1.2.3', universalIdType: 'ISO' }, id: 'RA1' });
  const ref = formatReferenceId('ACC1', '1.2.3', 'urn:ihe:iti:xds:2013:accession');
  assert.equal(ref, 'ACC1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession');
  assert.equal(parseReferenceId(ref).type, 'urn:ihe:iti:xds:2013:accession');
});
