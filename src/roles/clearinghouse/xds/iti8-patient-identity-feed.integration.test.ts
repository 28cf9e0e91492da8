// ITI-8 Patient Identity Feed (HL7 v2 ADT over MLLP) feeding the registry's known patient IDs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { requireTools } from '../../../../test-support/system-tools.ts';
import { xdsPatientIdsOf } from './iti8-patient-identity-feed.ts';
import { post, registryAnswer, sample, SOAP_CT } from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
let net: TestNetwork;
let client: Hl7Client;

before(async () => {
  net = await startTestNetwork({ 'hl7.port': 0, 'hl7.host': '127.0.0.1' });
  const port = net.network.clearinghouse.xds.patientFeedPort;
  assert.ok(port);
  client = new Hl7Client({ host: '127.0.0.1', port });
});
after(async () => {
  await client?.close();
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const adt = (event: string, pid3: string, control: string): Hl7Message =>
  Hl7Message.parse(`MSH|^~\\&|EDGE|SITE|ISN|CH|20240101120000||${event}|${control}|P|2.3.1\rEVN|A04|20240101120000\rPID|||${pid3}||RSNA ISN^RSNA ISN||19700101|F`);
const ackCode = (m: Hl7Message): string => m.getSegment('MSA')?.getField(1).toString() ?? '';

test('xdsPatientIdsOf keeps identifiers with an ISO OID authority, in XDS form', () => {
  assert.deepEqual(xdsPatientIdsOf(['P1^^^&1.2.3&ISO^PI', 'MRN^^^HOSP', '^^^&1.2.3&ISO', 'P2^^^X&1.2.4&ISO']), ['P1^^^&1.2.3&ISO', 'P2^^^&1.2.4&ISO']);
});

test('ADT^A04 feeds the patient ID (ACK AA); an ITI-42 for it is then accepted, before it was XDSUnknownPatientId', shared, async () => {
  const pid = 'FEED0001^^^&1.3.6.1.4.1.21367.2005.3.7&ISO';
  const register = (ss: string) =>
    sample('nist-iti42-register-default-ns.soap.xml').toString('utf8').replaceAll('$patientid$', pid.replace(/&/g, '&amp;')).replaceAll('$ssid$', ss);
  const refused = await registryAnswer(await post(`${net.baseUrl}/xds/registry`, register('1.2.826.0.1.3680043.10.91.1'), SOAP_CT));
  assert.ok(refused.codes.includes('XDSUnknownPatientId'));
  const ack = await client.sendAndWait(adt('ADT^A04^ADT_A01', 'FEED0001^^^&1.3.6.1.4.1.21367.2005.3.7&ISO~MRN7^^^HOSP', 'C1'));
  assert.equal(ackCode(ack), 'AA');
  assert.equal(ack.getSegment('MSA')?.getField(2).toString(), 'C1');
  const accepted = await registryAnswer(await post(`${net.baseUrl}/xds/registry`, register('1.2.826.0.1.3680043.10.91.2'), SOAP_CT));
  assert.equal(accepted.status, 'Success', JSON.stringify(accepted.errors));
  // feeding again (A08 update) is fine
  assert.equal(ackCode(await client.sendAndWait(adt('ADT^A08^ADT_A01', 'FEED0001^^^&1.3.6.1.4.1.21367.2005.3.7&ISO', 'C2'))), 'AA');
});

test('other message types → AR; an ADT without an ISO assigning authority → AE', async () => {
  assert.equal(ackCode(await client.sendAndWait(adt('ORU^R01^ORU_R01', 'X^^^&1.2.3&ISO', 'C3'))), 'AR');
  assert.equal(ackCode(await client.sendAndWait(adt('ADT^A01^ADT_A01', 'MRN^^^HOSP', 'C4'))), 'AE');
});
