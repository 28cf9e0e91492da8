// The XDS endpoints under hostile or broken input (fuzz-style): truncated, oversized, entity-bearing
// and wrongly encoded envelopes and MTOM bodies each get a SOAP fault or a RegistryError, the server
// stays up and nothing partial is registered. Also SOAP-level rules (A-SOAP-01, A-SOAP-06), the
// HTTPS port, and the audit events of every transaction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { startTestNetwork, type TestNetwork } from '../../../../test-support/network.ts';
import { requireTools } from '../../../../test-support/system-tools.ts';
import { seededRandom } from '../../../lib/soap/test-fixtures.ts';
import {
  AVAILABILITY_STATUS,
  QUERY_PARAM as P,
  REGISTRY_STORED_QUERY_ACTION,
  RETRIEVE_DOCUMENT_SET_ACTION,
  RETRIEVE_IMAGING_DOCUMENT_SET_ACTION,
  writeRetrieveDocumentSetRequest,
  writeStoredQueryRequest,
} from '../../../lib/xds/index.ts';
import {
  NIST_DOC_UNIQUE_ID,
  NIST_PATIENT,
  NIST_PNR_CONTENT_TYPE,
  nistPnrBody,
  post,
  queryAnswer,
  registryAnswer,
  sample,
  SOAP_CT,
  soapRequest,
  type HttpAnswer,
} from './xds-test-support.ts';

const shared = { skip: requireTools({ shared: true }) };
let net: TestNetwork;
let repo: string;

before(async () => {
  net = await startTestNetwork({ 'clearinghouse.openPatientIds': true });
  repo = `${net.baseUrl}/xds/repository`;
});
after(async () => {
  await net?.network.audit.flush(2000);
  await net?.stop();
});

const db = () => net.network.db.db;
const counts = async (): Promise<number[]> => {
  const n = async (t: 'xds_object' | 'xds_document' | 'xds_association' | 'xds_object_code') => Number((await db().selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return [await n('xds_object'), await n('xds_document'), await n('xds_association'), await n('xds_object_code')];
};

const isFault = (a: HttpAnswer): boolean => /<([A-Za-z0-9]+:)?Fault[\s>]/.test(a.body.toString('utf8'));
const isRegistryFailure = (a: HttpAnswer): boolean => /ResponseStatusType:Failure/.test(a.body.toString('utf8'));

/** The server still answers a well-formed query. */
async function stillUp(): Promise<void> {
  const q = writeStoredQueryRequest({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: NIST_PATIENT }, [P.documentEntryStatus]: { kind: 'strings', values: [AVAILABILITY_STATUS.approved] } } });
  const res = await queryAnswer(await post(`${net.baseUrl}/xds/registry`, soapRequest(REGISTRY_STORED_QUERY_ACTION, q), SOAP_CT));
  assert.equal(res.status, 'Success');
}

test('A-SOAP-01: a SOAP 1.1 envelope → VersionMismatch fault, not processed', shared, async () => {
  const body = `<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x/></e:Body></e:Envelope>`;
  const a = await post(`${net.baseUrl}/xds/registry`, body, 'text/xml; charset=UTF-8');
  assert.equal(a.status, 500);
  assert.match(a.body.toString('utf8'), /VersionMismatch/);
});

test('A-SOAP-06: mustUnderstand="1", ReplyTo anonymous, an unknown header without mustUnderstand → processed (Success)', shared, async () => {
  const env = soapRequest(RETRIEVE_DOCUMENT_SET_ACTION, writeRetrieveDocumentSetRequest([{ repositoryUniqueId: net.network.identity.oids.repositoryUniqueId, documentUniqueId: NIST_DOC_UNIQUE_ID }]))
    .replaceAll('s:mustUnderstand="true"', 's:mustUnderstand="1"')
    .replace('<s:Header>', '<s:Header><x:Trace xmlns:x="urn:example:trace">t</x:Trace>');
  await post(repo, nistPnrBody(), NIST_PNR_CONTENT_TYPE);
  const a = await post(repo, env, SOAP_CT);
  assert.equal(a.status, 200);
  assert.match(a.body.toString('utf8'), /ResponseStatusType:Success/);
});

test('an unknown action → wsa:ActionNotSupported fault; an unknown mustUnderstand header → MustUnderstand fault', shared, async () => {
  const a = await post(repo, soapRequest('urn:example:NoSuchAction', '<x:y xmlns:x="urn:x"/>'), SOAP_CT);
  assert.ok(isFault(a));
  assert.match(a.body.toString('utf8'), /ActionNotSupported/);
  const mu = soapRequest(REGISTRY_STORED_QUERY_ACTION, '<x:y xmlns:x="urn:x"/>').replace('<s:Header>', '<s:Header><x:Must xmlns:x="urn:example" s:mustUnderstand="true">1</x:Must>');
  const b = await post(`${net.baseUrl}/xds/registry`, mu, SOAP_CT);
  assert.ok(isFault(b));
  assert.match(b.body.toString('utf8'), /MustUnderstand/);
});

test('a body in another media type → 415 SOAP fault (the endpoints parse raw streams only for themselves)', shared, async () => {
  const a = await post(`${net.baseUrl}/xds/registry`, '{"a":1}', 'application/json');
  assert.equal(a.status, 415);
  assert.ok(isFault(a));
});

test('fuzz: truncated MTOM bodies → fault or RegistryError, nothing registered, server up', shared, async () => {
  const body = nistPnrBody({ docUniqueId: '1.2.826.0.1.3680043.10.92.1', ssUniqueId: '1.2.826.0.1.3680043.10.92.2' });
  const before = await counts();
  for (const cut of [10, 200, 1000, Math.floor(body.length / 2), body.length - 300, body.length - 60, body.length - 5]) {
    const a = await post(repo, body.subarray(0, cut), NIST_PNR_CONTENT_TYPE);
    assert.ok(isFault(a) || isRegistryFailure(a), `cut at ${cut}: HTTP ${a.status} ${a.body.toString('utf8').slice(0, 200)}`);
  }
  assert.deepEqual(await counts(), before);
  await stillUp();
});

test('fuzz: a client that disconnects mid-upload leaves nothing behind and the server up', shared, async () => {
  const body = nistPnrBody({ docUniqueId: '1.2.826.0.1.3680043.10.92.3', ssUniqueId: '1.2.826.0.1.3680043.10.92.4' });
  const before = await counts();
  await new Promise<void>((resolve) => {
    const req = httpRequest(repo, { method: 'POST', headers: { 'content-type': NIST_PNR_CONTENT_TYPE, 'content-length': String(body.length) } });
    req.on('error', () => resolve());
    req.on('response', (r) => {
      r.resume();
      resolve();
    });
    req.write(body.subarray(0, Math.floor(body.length * 0.8)));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await counts(), before);
  await stillUp();
});

test('fuzz: oversized envelope → 413 fault', shared, async () => {
  const big = soapRequest(REGISTRY_STORED_QUERY_ACTION, `<x:y xmlns:x="urn:x">${'a'.repeat(17 * 1024 * 1024)}</x:y>`);
  const a = await post(`${net.baseUrl}/xds/registry`, big, SOAP_CT);
  assert.equal(a.status, 413);
  assert.ok(isFault(a));
  await stillUp();
});

test('fuzz: entity-bearing envelopes (DOCTYPE, internal entities, external entities) → fault, nothing registered', shared, async () => {
  const before = await counts();
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>`;
  const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;
  for (const prolog of [laughs, xxe]) {
    const env = soapRequest(REGISTRY_STORED_QUERY_ACTION, '<x:y xmlns:x="urn:x">&lol2;</x:y>').replace(/^<\?xml[^>]*\?>/, prolog);
    const a = await post(`${net.baseUrl}/xds/registry`, env, SOAP_CT);
    assert.ok(isFault(a), a.body.toString('utf8').slice(0, 200));
    assert.doesNotMatch(a.body.toString('utf8'), /root:/);
  }
  // the same inside the MTOM root part of an ITI-41
  const mtom = nistPnrBody({ docUniqueId: '1.2.826.0.1.3680043.10.92.5', ssUniqueId: '1.2.826.0.1.3680043.10.92.6' }).toString('latin1').replace('<soapenv:Envelope', `<!DOCTYPE soapenv:Envelope [<!ENTITY e "x">]><soapenv:Envelope`);
  const b = await post(repo, Buffer.from(mtom, 'latin1'), NIST_PNR_CONTENT_TYPE);
  assert.ok(isFault(b), b.body.toString('utf8').slice(0, 300));
  assert.deepEqual(await counts(), before);
  await stillUp();
});

test('fuzz: wrongly encoded envelopes (invalid UTF-8, declared UTF-16 but UTF-8 bytes) → fault', shared, async () => {
  const env = Buffer.from(soapRequest(REGISTRY_STORED_QUERY_ACTION, '<x:y xmlns:x="urn:x">é</x:y>'), 'utf8');
  const broken = Buffer.from(env);
  const at = broken.indexOf(Buffer.from('é', 'utf8'));
  broken[at] = 0xff;
  const a = await post(`${net.baseUrl}/xds/registry`, broken, SOAP_CT);
  assert.ok(isFault(a), a.body.toString('utf8').slice(0, 200));
  const b = await post(`${net.baseUrl}/xds/registry`, env, 'application/soap+xml; charset=UTF-16');
  assert.ok(isFault(b), b.body.toString('utf8').slice(0, 200));
  await stillUp();
});

test('fuzz: randomly mutated MTOM bodies → a SOAP answer every time, and never a half-registered submission', shared, async () => {
  const rnd = seededRandom(41);
  const base = nistPnrBody({ docUniqueId: '1.2.826.0.1.3680043.10.92.7', ssUniqueId: '1.2.826.0.1.3680043.10.92.8' });
  for (let i = 0; i < 40; i++) {
    const body = Buffer.from(base);
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) body[Math.floor(rnd() * body.length)] = Math.floor(rnd() * 256);
    const a = await post(repo, body, NIST_PNR_CONTENT_TYPE);
    assert.ok(a.status < 600);
    const text = a.body.toString('utf8');
    assert.ok(isFault(a) || /RegistryResponse/.test(text), `mutation ${i}: HTTP ${a.status} ${text.slice(0, 200)}`);
  }
  // consistency: every registered DocumentEntry of this repository has its document, every
  // SubmissionSet has its HasMember associations
  const entries = await db().selectFrom('xds_object').select(['unique_id', 'entry_uuid', 'object_type']).execute();
  for (const e of entries.filter((x) => x.object_type === 'DocumentEntry')) {
    assert.ok(await db().selectFrom('xds_document').select('unique_id').where('unique_id', '=', e.unique_id).executeTakeFirst(), `document of ${e.unique_id}`);
  }
  for (const e of entries.filter((x) => x.object_type === 'SubmissionSet')) {
    assert.ok(await db().selectFrom('xds_association').select('entry_uuid').where('source_uuid', '=', e.entry_uuid).executeTakeFirst(), `members of ${e.unique_id}`);
  }
  await stillUp();
});

test('the endpoints answer on the HTTPS port too', shared, async () => {
  assert.ok(net.httpsUrl);
  const body = soapRequest(
    REGISTRY_STORED_QUERY_ACTION,
    writeStoredQueryRequest({ name: 'FindDocuments', params: { [P.documentEntryPatientId]: { kind: 'string', value: NIST_PATIENT }, [P.documentEntryStatus]: { kind: 'strings', values: [AVAILABILITY_STATUS.approved] } } }),
  );
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${net.httpsUrl}/xds/registry`, { method: 'POST', ca: net.network.identity.ca.certPem, cert: net.network.identity.tls.certPem, key: net.network.identity.tls.keyPem, headers: { 'content-type': SOAP_CT } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.match(text, /ResponseStatusType:Success/);
});

test('audit: ITI-41, ITI-42, ITI-18, ITI-43 and RAD-69 each leave an audit record', shared, async () => {
  await post(repo, nistPnrBody(), NIST_PNR_CONTENT_TYPE);
  const reg = sample('nist-iti42-register-default-ns.soap.xml').toString('utf8').replaceAll('$patientid$', 'A42^^^&amp;1.2.3&amp;ISO').replaceAll('$ssid$', '1.2.826.0.1.3680043.10.92.9');
  assert.equal((await registryAnswer(await post(`${net.baseUrl}/xds/registry`, reg, SOAP_CT))).status, 'Success');
  await stillUp();
  await post(repo, soapRequest(RETRIEVE_DOCUMENT_SET_ACTION, writeRetrieveDocumentSetRequest([{ repositoryUniqueId: net.network.identity.oids.repositoryUniqueId, documentUniqueId: NIST_DOC_UNIQUE_ID }])), SOAP_CT);
  await post(`${net.baseUrl}/xds/imaging`, soapRequest(RETRIEVE_IMAGING_DOCUMENT_SET_ACTION, sample('nist-rad69-request-ids4810.xml').toString('utf8')), SOAP_CT);
  assert.ok(await net.network.audit.flush(5000));
  const want = ['ITI-41', 'ITI-42', 'ITI-18', 'ITI-43', 'RAD-69'];
  let missing = want;
  for (let i = 0; i < 50 && missing.length > 0; i++) {
    const rows = await db().selectFrom('audit_record').select('event_types').execute();
    missing = want.filter((t) => !rows.some((r) => r.event_types.includes(t)));
    if (missing.length > 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(missing, []);
});
