import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { AddressingError, MustUnderstandError, SoapError, VersionMismatchError } from './errors.ts';
import {
  expectAction,
  parseSoapEnvelope,
  readSoapFault,
  soapFaultResponse,
  soapResponse,
  writeSoapEnvelope,
  writeSoapFault,
  writeSoapRequest,
  writeSoapResponse,
  type SoapEnvelope,
} from './envelope.ts';
import { SOAP11_ENVELOPE_NS, SOAP12_ENVELOPE_NS, WSA_ANONYMOUS, WSA_FAULT_ACTION, WSA_NS } from './namespaces.ts';
import { childElements, parseXmlText, resolveQNameValue, attribute } from './safe-xml.ts';

const shared = { skip: requireTools({ shared: true }) };
const sample = (name: string): Buffer => readFileSync(join(samplesDir, name));

const ENV = SOAP12_ENVELOPE_NS;
function envelope(headers: string, body = '<x:Op xmlns:x="urn:x"/>', extraNs = ''): string {
  return `<s:Envelope xmlns:s="${ENV}" xmlns:a="${WSA_NS}"${extraNs}><s:Header>${headers}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}
const ACTION = '<a:Action s:mustUnderstand="true">urn:test:Op</a:Action><a:MessageID>urn:uuid:1</a:MessageID>';

function expectError<T extends SoapError>(fn: () => unknown, type: new (...args: never[]) => T, code?: string): T {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    if (code) assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${type.name}`);
}

test('NIST sample envelopes parse with any prefixes (requests and responses)', shared, () => {
  const sq = parseSoapEnvelope(sample('nist-iti18-finddocuments.soap.xml'));
  assert.equal(sq.addressing.action, 'urn:ihe:iti:2007:RegistryStoredQuery');
  assert.equal(sq.payload?.local, 'AdhocQueryRequest');

  const reg = parseSoapEnvelope(sample('nist-iti42-register-default-ns.soap.xml'));
  assert.equal(reg.addressing.action, 'urn:ihe:iti:2007:RegisterDocumentSet-b');
  assert.equal(reg.addressing.messageId, 'urn:uuid:FEE2030F0A7AC9E6301480434899886');
  assert.equal(reg.addressing.replyTo?.address, WSA_ANONYMOUS);
  assert.equal(reg.payload?.local, 'SubmitObjectsRequest');

  const ret = parseSoapEnvelope(sample('nist-iti43-request.soap.xml'));
  assert.equal(ret.addressing.action, 'urn:ihe:iti:2007:RetrieveDocumentSet');
  assert.equal(ret.addressing.to, 'http://localhost:2647/XdsService/IHEXDSRepository.svc');
  assert.ok(ret.addressing.anyMustUnderstand, 'mustUnderstand="1" counts as true');

  const pnrResponse = parseSoapEnvelope(sample('nist-iti41-response-success.soap.xml'));
  assert.equal(pnrResponse.addressing.action, 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse');
  assert.deepEqual(pnrResponse.addressing.relatesTo, [{ messageId: 'urn:uuid:6d296e90-e5dc-43d0-b455-7c1f3eb35d83', relationshipType: 'http://www.w3.org/2005/08/addressing/reply' }]);

  for (const name of ['nist-iti43-response.soap.xml', 'nist-iti38-response.soap.xml', 'nist-iti39-request.soap.xml']) {
    const e = parseSoapEnvelope(sample(name));
    assert.ok(e.addressing.action?.startsWith('urn:ihe:iti:2007:'), name);
  }
});

test('A-SOAP-01: a SOAP 1.1 envelope is not processed; the answer is a VersionMismatch fault', () => {
  const soap11 = `<e:Envelope xmlns:e="${SOAP11_ENVELOPE_NS}"><e:Body><x xmlns="urn:x"/></e:Body></e:Envelope>`;
  const err = expectError(() => parseSoapEnvelope(soap11), VersionMismatchError, 'SOAP_VERSION_MISMATCH');
  assert.equal(err.faultCode, 'VersionMismatch');
  const res = soapFaultResponse(err);
  assert.equal(res.statusCode, 500);
  assert.match(res.contentType, /^text\/xml/);
  const root = parseXmlText(res.body);
  assert.equal(root.ns, SOAP11_ENVELOPE_NS, 'a SOAP 1.1 sender gets a fault it can read (SOAP 1.2 Part 1 Appendix A)');
  assert.match(res.body, /<faultcode>e:VersionMismatch<\/faultcode>/);
  assert.match(res.body, /SupportedEnvelope qname="u:Envelope"/);
  // Any other root element is a VersionMismatch too.
  expectError(() => parseSoapEnvelope('<Envelope/>'), VersionMismatchError);
  const other = soapFaultResponse(expectError(() => parseSoapEnvelope('<x:Envelope xmlns:x="urn:other"/>'), VersionMismatchError));
  assert.equal(parseXmlText(other.body).ns, SOAP12_ENVELOPE_NS);
  assert.match(other.body, /<s:Value>s:VersionMismatch<\/s:Value>/);
});

test('A-SOAP-02: a response carries exactly one wsa:Action and RelatesTo = the request MessageID', shared, () => {
  const request = parseSoapEnvelope(sample('nist-iti43-request.soap.xml'));
  const xml = writeSoapResponse(request, 'urn:ihe:iti:2007:RetrieveDocumentSetResponse', '<r xmlns="urn:x"/>');
  const response = parseSoapEnvelope(xml);
  assert.equal(response.addressing.action, 'urn:ihe:iti:2007:RetrieveDocumentSetResponse');
  assert.deepEqual(response.addressing.relatesTo.map((r) => r.messageId), ['urn:uuid:0fbfdced-6c01-4d09-a110-2201afedaa02']);
  assert.match(response.addressing.messageId ?? '', /^urn:uuid:[0-9a-f-]{36}$/);
  assert.notEqual(response.addressing.messageId, request.addressing.messageId);
  const actions = response.headers.filter((h) => h.element.ns === WSA_NS && h.element.local === 'Action');
  assert.equal(actions.length, 1);
  assert.equal(actions[0]?.mustUnderstand, true);
});

test('A-SOAP-06: mustUnderstand="1", ReplyTo anonymous, an unknown header without mustUnderstand and default namespaces are accepted', () => {
  const xml =
    `<Envelope xmlns="${ENV}"><Header>` +
    `<Action xmlns="${WSA_NS}" xmlns:s="${ENV}" s:mustUnderstand="1">urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</Action>` +
    `<MessageID xmlns="${WSA_NS}">urn:uuid:42</MessageID>` +
    `<ReplyTo xmlns="${WSA_NS}"><Address>${WSA_ANONYMOUS}</Address></ReplyTo>` +
    `<Extra xmlns="urn:vendor:extension">ignored</Extra>` +
    `</Header><Body><ProvideAndRegisterDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"/></Body></Envelope>`;
  const env = parseSoapEnvelope(xml);
  assert.equal(env.addressing.action, 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b');
  assert.equal(env.addressing.replyTo?.address, WSA_ANONYMOUS);
  assert.equal(env.payload?.local, 'ProvideAndRegisterDocumentSetRequest');
  assert.equal(env.headers.find((h) => h.element.local === 'Extra')?.mustUnderstand, false);
});

test('SOAP 1.2 mustUnderstand: a targeted unknown header with mustUnderstand=true is a MustUnderstand fault', () => {
  const unknown = '<v:Security xmlns:v="urn:vendor" s:mustUnderstand="true"/>';
  const err = expectError(() => parseSoapEnvelope(envelope(ACTION + unknown)), MustUnderstandError, 'SOAP_MUST_UNDERSTAND');
  assert.deepEqual(err.notUnderstood, [{ ns: 'urn:vendor', local: 'Security' }]);
  const res = soapFaultResponse(err, { messageId: 'urn:uuid:1' });
  assert.equal(res.statusCode, 500);
  const fault = parseXmlText(res.body);
  const header = childElements(fault, ENV, 'Header')[0];
  const nu = header ? childElements(header, ENV, 'NotUnderstood')[0] : undefined;
  assert.ok(nu, 'env:NotUnderstood header block');
  assert.deepEqual(resolveQNameValue(nu, attribute(nu, 'qname') ?? ''), { ns: 'urn:vendor', local: 'Security' });
  // Understood when declared by the caller; not targeted when role is "none" or another node's.
  parseSoapEnvelope(envelope(ACTION + unknown), { understoodHeaders: [{ ns: 'urn:vendor', local: 'Security' }] });
  parseSoapEnvelope(envelope(ACTION + `<v:S xmlns:v="urn:v" s:mustUnderstand="1" s:role="${ENV}/role/none"/>`));
  parseSoapEnvelope(envelope(ACTION + '<v:S xmlns:v="urn:v" s:mustUnderstand="1" s:role="urn:some:other:node"/>'));
  expectError(() => parseSoapEnvelope(envelope(ACTION + `<v:S xmlns:v="urn:v" s:mustUnderstand="1" s:role="${ENV}/role/next"/>`)), MustUnderstandError);
  expectError(() => parseSoapEnvelope(envelope(ACTION + '<v:S xmlns:v="urn:v" s:mustUnderstand="yes"/>')), SoapError, 'SOAP_INVALID_ENVELOPE');
});

test('WS-Addressing: exactly one Action, no surrounding whitespace, single-valued headers', () => {
  const missing = expectError(() => parseSoapEnvelope(envelope('<a:MessageID>urn:uuid:1</a:MessageID>')), AddressingError, 'WSA_HEADER_REQUIRED');
  assert.deepEqual(missing.subcodes.map((q) => q.local), ['MessageAddressingHeaderRequired']);
  const two = expectError(() => parseSoapEnvelope(envelope(ACTION + '<a:Action>urn:test:Op</a:Action>')), AddressingError, 'WSA_INVALID_CARDINALITY');
  assert.deepEqual(two.subcodes.map((q) => q.local), ['InvalidAddressingHeader', 'InvalidCardinality']);
  expectError(() => parseSoapEnvelope(envelope('<a:Action> urn:test:Op</a:Action>')), AddressingError, 'WSA_INVALID_HEADER');
  expectError(() => parseSoapEnvelope(envelope('<a:Action>urn:test:Op\n</a:Action>')), AddressingError, 'WSA_INVALID_HEADER');
  expectError(() => parseSoapEnvelope(envelope('<a:Action>not an iri</a:Action>')), AddressingError, 'WSA_INVALID_HEADER');
  const actionOnly = '<a:Action>urn:test:Op</a:Action>';
  expectError(() => parseSoapEnvelope(envelope(`${actionOnly}<a:MessageID>x:1</a:MessageID><a:MessageID>x:2</a:MessageID>`)), AddressingError, 'WSA_INVALID_CARDINALITY');
  expectError(() => parseSoapEnvelope(envelope(`${actionOnly}<a:To>x:1</a:To><a:To>x:2</a:To>`)), AddressingError, 'WSA_INVALID_CARDINALITY');
  expectError(() => parseSoapEnvelope(envelope(`${ACTION}<a:ReplyTo><a:Address>x:1</a:Address></a:ReplyTo><a:ReplyTo><a:Address>x:1</a:Address></a:ReplyTo>`)), AddressingError, 'WSA_INVALID_CARDINALITY');
  expectError(() => parseSoapEnvelope(envelope(`${ACTION}<a:ReplyTo/>`)), AddressingError, 'WSA_INVALID_HEADER');
  expectError(() => parseSoapEnvelope(envelope('<a:Action>urn:test:Op</a:Action>'), { requireMustUnderstandOnAddressing: true }), AddressingError, 'WSA_INVALID_HEADER');
  expectError(() => parseSoapEnvelope(envelope(actionOnly), { requireMessageId: true }), AddressingError, 'WSA_HEADER_REQUIRED');
});

test('WS-Addressing: the Content-Type action parameter must equal wsa:Action', () => {
  parseSoapEnvelope(envelope(ACTION), { contentTypeAction: 'urn:test:Op' });
  const err = expectError(() => parseSoapEnvelope(envelope(ACTION), { contentTypeAction: 'urn:test:Other' }), AddressingError, 'WSA_ACTION_MISMATCH');
  assert.deepEqual(err.subcodes.map((q) => q.local), ['InvalidAddressingHeader', 'ActionMismatch']);
});

test('envelope structure: Body required, nothing after Body, no stray text', () => {
  expectError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${ENV}"><s:Header/></s:Envelope>`), SoapError, 'SOAP_INVALID_ENVELOPE');
  expectError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${ENV}"><s:Body/><s:Header/></s:Envelope>`), SoapError, 'SOAP_INVALID_ENVELOPE');
  expectError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${ENV}"><s:Body/><x/></s:Envelope>`), SoapError, 'SOAP_INVALID_ENVELOPE');
  expectError(() => parseSoapEnvelope(`<s:Envelope xmlns:s="${ENV}">text<s:Body/></s:Envelope>`), SoapError, 'SOAP_INVALID_ENVELOPE');
  expectError(() => parseSoapEnvelope(envelope(ACTION + '<unqualified/>')), SoapError, 'SOAP_INVALID_ENVELOPE');
  const env = parseSoapEnvelope(`<s:Envelope xmlns:s="${ENV}"><s:Body/></s:Envelope>`, { requireAction: false });
  assert.equal(env.payload, undefined);
});

test('expectAction answers an unsupported action with wsa:ActionNotSupported and ProblemAction', () => {
  const env: SoapEnvelope = parseSoapEnvelope(envelope(ACTION));
  assert.equal(expectAction(env, ['urn:test:Op']), 'urn:test:Op');
  const err = expectError(() => expectAction(env, ['urn:ihe:iti:2007:RegistryStoredQuery']), AddressingError, 'WSA_ACTION_NOT_SUPPORTED');
  const res = soapFaultResponse(err, env.addressing);
  assert.equal(res.statusCode, 400);
  const fault = parseSoapEnvelope(res.body);
  assert.equal(fault.addressing.action, WSA_FAULT_ACTION);
  assert.deepEqual(fault.addressing.relatesTo.map((r) => r.messageId), ['urn:uuid:1']);
  const read = readSoapFault(fault);
  assert.equal(read?.code, 'Sender');
  assert.deepEqual(read?.subcodes, [{ ns: WSA_NS, local: 'ActionNotSupported' }]);
  assert.match(read?.detailText ?? '', /urn:test:Op/);
});

test('SOAP 1.2 faults: Sender/Receiver codes, subcodes, reason and detail round-trip; internal errors do not leak', () => {
  const xml = writeSoapFault(
    { code: 'Sender', subcodes: [{ ns: 'urn:sub', local: 'Bad' }, { ns: WSA_NS, local: 'InvalidCardinality' }], reason: 'bad <input> & more', detailXml: '<d:Why xmlns:d="urn:d">because</d:Why>' },
    { relatesTo: 'urn:uuid:req' },
  );
  const env = parseSoapEnvelope(xml);
  assert.deepEqual(readSoapFault(env), {
    code: 'Sender',
    subcodes: [{ ns: 'urn:sub', local: 'Bad' }, { ns: WSA_NS, local: 'InvalidCardinality' }],
    reason: 'bad <input> & more',
    detailText: 'because',
  });
  const internal = soapFaultResponse(new Error('database password is hunter2'));
  assert.equal(internal.statusCode, 500);
  assert.doesNotMatch(internal.body, /hunter2/);
  assert.equal(readSoapFault(parseSoapEnvelope(internal.body))?.code, 'Receiver');
});

test('writeSoapRequest / writeSoapEnvelope / soapResponse produce envelopes that parse back', () => {
  const res = soapResponse({ addressing: parseSoapEnvelope(envelope(ACTION)).addressing }, 'urn:test:OpResponse', '<x:R xmlns:x="urn:x"/>');
  assert.equal(res.statusCode, 200);
  assert.equal(res.contentType, 'application/soap+xml; charset=UTF-8; action="urn:test:OpResponse"');
  assert.deepEqual(parseSoapEnvelope(res.body, { contentTypeAction: 'urn:test:OpResponse' }).addressing.relatesTo.map((r) => r.messageId), ['urn:uuid:1']);
  const req = parseSoapEnvelope(writeSoapRequest('urn:test:Op', '<x:Op xmlns:x="urn:x">v</x:Op>', 'https://peer.invalid/xds', 'urn:uuid:abc'));
  assert.equal(req.addressing.messageId, 'urn:uuid:abc');
  assert.equal(req.addressing.to, 'https://peer.invalid/xds');
  assert.equal(req.addressing.replyTo?.address, WSA_ANONYMOUS);
  const noMu = parseSoapEnvelope(writeSoapEnvelope({ action: 'urn:test:Op', bodyXml: '<x xmlns="urn:x"/>', mustUnderstand: false }));
  assert.equal(noMu.addressing.anyMustUnderstand, false);
});

test('fuzz: every truncation of a real envelope fails with a SoapError', shared, () => {
  const full = sample('nist-iti43-request.soap.xml');
  for (let cut = 0; cut < full.length - 1; cut++) {
    try {
      parseSoapEnvelope(full.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof SoapError, `cut at ${cut}: ${String(err)}`);
      continue;
    }
    // Truncating trailing whitespace/newline after </s:Envelope> may still be a complete document.
    assert.ok(full.subarray(cut).toString().trim() === '', `cut at ${cut} was accepted`);
  }
});
