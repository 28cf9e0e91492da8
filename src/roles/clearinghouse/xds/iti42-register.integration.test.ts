// ITI-42 at the running network's registry (POST /xds/registry) and the registry's patient ID
// rules, with patient ID checks ON (no conformance mode): derived IDs of the network's assigning
// authority need no feed, fed IDs are accepted, others → XDSUnknownPatientId.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { requireTools } from '../../../../test-support/system-tools.ts';
import { generateAccessCode } from '../../../identifiers/access-code.ts';
import { deriveRegistryPatientId } from '../../../identifiers/patient-id.ts';
import { REGISTER_ACTION, writeSubmitObjectsRequest, type XdsMetadata } from '../../../lib/xds/index.ts';
import { validSubmission } from '../../../lib/xds/test-fixtures.ts';
import { NIST_PNR_CONTENT_TYPE, nistPnrBody, post, registryAnswer, sample, SOAP_CT, soapRequest } from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
let net: TestNetwork;
let url: string;

before(async () => {
  net = await startTestNetwork();
  url = `${net.baseUrl}/xds/registry`;
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const db = () => net.network.db.db;
const count = async (): Promise<number> => Number((await db().selectFrom('xds_object').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

/** The NIST ITI-42 vector with its template fields filled; `variant` gives the entry its own uniqueId and urn:uuid. */
function nistRegister(patientId: string, ssUniqueId: string, variant?: number): string {
  let text = sample('nist-iti42-register-default-ns.soap.xml')
    .toString('utf8')
    .replaceAll('$patientid$', patientId.replace(/&/g, '&amp;'))
    .replaceAll('$ssid$', ssUniqueId);
  if (variant !== undefined) {
    text = text.replace('1.42.20161129094708.60', `1.42.20161129094708.${100 + variant}`).replaceAll('766f894077ec', (0x766f894077ec + variant).toString(16));
  }
  return text;
}

let seq = 0;
/** The lib/xds valid ITI-42 submission for a patient, with fresh uniqueIds. */
function submission(patientId: string): XdsMetadata {
  const m = validSubmission();
  const n = `${Date.now()}.${++seq}`;
  return {
    ...m,
    submissionSets: m.submissionSets.map((s) => ({ ...s, patientId, uniqueId: `1.2.826.0.1.3680043.10.98.${n}.1` })),
    documentEntries: m.documentEntries.map((d, i) => ({ ...d, patientId, uniqueId: `1.2.826.0.1.3680043.10.98.${n}.${10 + i}` })),
    folders: m.folders.map((f) => ({ ...f, patientId, uniqueId: `1.2.826.0.1.3680043.10.98.${n}.3` })),
  };
}
const register = async (m: XdsMetadata) => registryAnswer(await post(url, soapRequest(REGISTER_ACTION, writeSubmitObjectsRequest(m)), SOAP_CT));

test('A-PNR-09: ITI-42 for a patient ID never fed → Failure XDSUnknownPatientId, nothing registered', shared, async () => {
  const before = await count();
  const res = await registryAnswer(await post(url, nistRegister('P42^^^&1.3.6.1.4.1.21367.2005.3.7&ISO', '1.2.826.0.1.3680043.10.97.1'), SOAP_CT));
  assert.equal(res.status, 'Failure');
  assert.ok(res.codes.includes('XDSUnknownPatientId'), res.codes.join());
  assert.equal(await count(), before);
});

test('A-PNR-09 at the repository: the NIST ITI-41 body (patient SR7, not fed) → Failure XDSUnknownPatientId', shared, async () => {
  const res = await registryAnswer(await post(`${net.baseUrl}/xds/repository`, nistPnrBody(), NIST_PNR_CONTENT_TYPE));
  assert.equal(res.status, 'Failure');
  assert.deepEqual([...new Set(res.codes)], ['XDSUnknownPatientId']);
});

test('A-PNR-17: the NIST ITI-42 body with default namespaces, patient fed first (ITI-8 path) → Success', shared, async () => {
  const pid = 'P42FED^^^&1.3.6.1.4.1.21367.2005.3.7&ISO';
  await net.network.clearinghouse.xds.registry.addPatient(pid, 'iti8');
  const res = await registryAnswer(await post(url, nistRegister(pid, '1.2.826.0.1.3680043.10.97.2'), SOAP_CT));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.ok(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', '1.42.20161129094708.60').executeTakeFirst());
});

test("a derived patient ID under the network's assigning authority needs no feed → Success", shared, async () => {
  const { networkKey, oids } = net.network.identity;
  const pid = deriveRegistryPatientId('1970-01-31', generateAccessCode(), { networkKey, authority: oids.patientIdAuthority });
  const res = await register(submission(pid));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
});

test('A-PNR-12: one valid and one flawed DocumentEntry (no repositoryUniqueId) → Failure, and neither the SubmissionSet nor any entry is registered', shared, async () => {
  const pid = deriveRegistryPatientId('19800101', generateAccessCode(), { networkKey: net.network.identity.networkKey, authority: net.network.identity.oids.patientIdAuthority });
  const m = submission(pid);
  const flawed: XdsMetadata = { ...m, documentEntries: m.documentEntries.map((d, i) => (i === 1 ? { ...d, repositoryUniqueId: undefined } : d)) };
  const before = await count();
  const res = await register(flawed);
  assert.equal(res.status, 'Failure');
  assert.equal(await count(), before);
  const uniqueIds = [...m.submissionSets, ...m.documentEntries, ...m.folders].map((e) => e.uniqueId);
  assert.equal(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', 'in', uniqueIds).executeTakeFirst(), undefined);
});

test('A-PNR-14: re-submitting objects with the same pre-assigned urn:uuid ids (new SubmissionSet uniqueId) → Failure; the first submission remains', shared, async () => {
  const pid = 'P42UUID^^^&1.3.6.1.4.1.21367.2005.3.7&ISO';
  await net.network.clearinghouse.xds.registry.addPatient(pid, 'iti8');
  const first = nistRegister(pid, '1.2.826.0.1.3680043.10.97.3', 1);
  assert.equal((await registryAnswer(await post(url, first, SOAP_CT))).status, 'Success');
  const before = await count();
  // same urn:uuid as the first, other uniqueIds
  const second = nistRegister(pid, '1.2.826.0.1.3680043.10.97.4', 1).replace('1.42.20161129094708.101', '1.42.20161129094708.201');
  const res = await registryAnswer(await post(url, second, SOAP_CT));
  assert.equal(res.status, 'Failure');
  assert.ok(res.codes.includes('XDSRegistryMetadataError'), res.codes.join());
  assert.equal(await count(), before);
  assert.ok(await db().selectFrom('xds_object').select('entry_uuid').where('unique_id', '=', '1.2.826.0.1.3680043.10.97.3').executeTakeFirst());
});

test('replay of an ITI-42 submission (same SubmissionSet uniqueId, identical content) → Success, nothing new', shared, async () => {
  const pid = 'P42REPLAY^^^&1.3.6.1.4.1.21367.2005.3.7&ISO';
  await net.network.clearinghouse.xds.registry.addPatient(pid, 'iti8');
  const body = nistRegister(pid, '1.2.826.0.1.3680043.10.97.5', 2);
  assert.equal((await registryAnswer(await post(url, body, SOAP_CT))).status, 'Success');
  const before = await count();
  const res = await registryAnswer(await post(url, body, SOAP_CT));
  assert.equal(res.status, 'Success', JSON.stringify(res.errors));
  assert.equal(await count(), before);
});

test('a malformed patient ID (CX.5 given) → Failure XDSRegistryMetadataError, not XDSUnknownPatientId', shared, async () => {
  const res = await register(submission('P^^^&1.2.3&ISO^PI'));
  assert.equal(res.status, 'Failure');
  assert.ok(res.codes.includes('XDSRegistryMetadataError'), res.codes.join());
  assert.ok(!res.codes.includes('XDSUnknownPatientId'));
});
