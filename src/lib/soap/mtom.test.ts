import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { MtomError, SoapError, SoapHttpError, XmlParseError } from './errors.ts';
import { writeSoapEnvelope } from './envelope.ts';
import { memoryAttachmentSink, readSoapMessage, writeMtomMessage, xopIncludeXml, digestStream, type AttachmentSink, type BufferedAttachment } from './mtom.ts';
import { SOAP12_ENVELOPE_NS, WSA_NS } from './namespaces.ts';
import { ownText } from './safe-xml.ts';
import { chunkedReadable, crlfFraming, NIST_PNR_ATTACHMENT_CID, NIST_PNR_BOUNDARY, NIST_PNR_CONTENT_TYPE, seededRandom } from './test-fixtures.ts';

const shared = { skip: requireTools({ shared: true }) };
const XDSB_DOCUMENT = { ns: 'urn:ihe:iti:xds-b:2007', local: 'Document' };
const nistBody = (): Buffer => readFileSync(join(samplesDir, 'nist-iti41-pnr-mtom-xop.body.txt'));
const nistDocument = (): Buffer => readFileSync(join(samplesDir, 'nist-iti41-document-36bytes.txt'));

async function read(body: Buffer | Readable, contentType: string, options: { chunk?: number; limits?: Parameters<typeof readSoapMessage>[2]['limits'] } = {}) {
  const stream = Buffer.isBuffer(body) ? chunkedReadable(body, options.chunk ?? 65536) : body;
  return readSoapMessage<BufferedAttachment>(stream, contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT], limits: options.limits });
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => SoapError, code?: string): Promise<SoapError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    if (code) assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${type.name}${code ? ` ${code}` : ''}`);
}

const envelopeWith = (body: string): string => writeSoapEnvelope({ action: 'urn:test:Op', bodyXml: body });
const doc = (content: string): string => `<d:Req xmlns:d="urn:ihe:iti:xds-b:2007"><d:Document id="Doc1">${content}</d:Document></d:Req>`;

function mimePackage(parts: Array<{ headers: string[]; body: Buffer | string }>, boundary = 'b1'): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    out.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`), Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}
const ROOT_HEADERS = ['Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"', 'Content-ID: <root@x>'];
const MTOM_TYPE = 'multipart/related; boundary=b1; type="application/xop+xml"; start-info="application/soap+xml"';

test('A-SOAP-03: NIST ITI-41 MTOM body with a plain cid: href gives the 36-byte document and the metadata', shared, async () => {
  const expected = nistDocument();
  for (const body of [nistBody(), crlfFraming(nistBody(), NIST_PNR_BOUNDARY)]) {
    for (const chunk of [1, 13, 4096, 1 << 20]) {
      const msg = await read(body, NIST_PNR_CONTENT_TYPE, { chunk });
      assert.equal(msg.mtom, true);
      assert.equal(msg.envelope.addressing.action, 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b');
      assert.equal(msg.envelope.payload?.local, 'ProvideAndRegisterDocumentSetRequest');
      assert.equal(msg.binaries.length, 1);
      const b = msg.binaries[0];
      assert.equal(b?.source, 'xop');
      assert.equal(b?.contentId, NIST_PNR_ATTACHMENT_CID);
      assert.equal(b?.element.local, 'Document');
      assert.equal(b?.contentType, 'text/plain');
      assert.deepEqual(b?.ref.data, expected, `chunk ${chunk}`);
      assert.equal(b?.ref.sha1, 'e543712c0e10501972de13a5bfcbe826c49feb75');
      assert.deepEqual(msg.unreferencedAttachments, []);
    }
  }
});

test('A-SOAP-04: a percent-encoded cid: href is decoded before matching the Content-ID', shared, async () => {
  const encoded = nistBody().toString('latin1').replace(`href="cid:${NIST_PNR_ATTACHMENT_CID}"`, `href="cid:${NIST_PNR_ATTACHMENT_CID.replace('@', '%40').replace('.', '%2E')}"`);
  assert.notEqual(encoded, nistBody().toString('latin1'));
  const msg = await read(Buffer.from(encoded, 'latin1'), NIST_PNR_CONTENT_TYPE);
  assert.deepEqual(msg.binaries[0]?.ref.data, nistDocument());
});

test('A-SOAP-05: an XOP package with an inline base64 document delivers the 38 decoded bytes to the sink', shared, async () => {
  const content = Buffer.from('This is my document.\r\n\r\nIt is great!\r\n');
  assert.equal(content.length, 38);
  const text = nistBody().toString('latin1');
  const include = /<xop:Include[^>]*\/>/.exec(text)?.[0] ?? '';
  const inline = text.replace(include, content.toString('base64').replace(/(.{20})/g, '$1\n'));
  const msg = await read(Buffer.from(inline, 'latin1'), NIST_PNR_CONTENT_TYPE);
  assert.equal(msg.binaries.length, 1);
  assert.equal(msg.binaries[0]?.source, 'inline-base64');
  assert.deepEqual(msg.binaries[0]?.ref.data, content);
  assert.equal(ownText(msg.binaries[0]?.element ?? msg.envelope.body), '', 'decoded text is dropped from the tree');
  assert.deepEqual(msg.unreferencedAttachments.map((a) => a.contentId), [NIST_PNR_ATTACHMENT_CID]);
});

test('plain application/soap+xml with inline base64 documents goes to the sink too', async () => {
  const data = randomBytes(1000);
  const xml = envelopeWith(doc(data.toString('base64')));
  const msg = await read(Buffer.from(xml), 'application/soap+xml; charset=utf-8; action="urn:test:Op"');
  assert.equal(msg.mtom, false);
  assert.deepEqual(msg.binaries[0]?.ref.data, data);
  await rejectsWith(read(Buffer.from(envelopeWith(doc('not base64!'))), 'application/soap+xml'), MtomError, 'BINARY_INVALID_BASE64');
  await rejectsWith(read(Buffer.from(envelopeWith(doc(xopIncludeXml('x@y')))), 'application/soap+xml'), MtomError, 'MTOM_UNRESOLVED_INCLUDE');
});

test('the start parameter selects the root part, wherever it is', async () => {
  const data = Buffer.from('attachment bytes');
  const body = mimePackage([
    { headers: ['Content-Type: image/png', 'Content-ID: <att@x>'], body: data },
    { headers: ROOT_HEADERS, body: envelopeWith(doc(xopIncludeXml('att@x'))) },
  ]);
  const msg = await read(body, `${MTOM_TYPE}; start="<root@x>"`);
  assert.deepEqual(msg.binaries[0]?.ref.data, data);
  assert.equal(msg.binaries[0]?.contentType, 'image/png');
  await rejectsWith(read(body, `${MTOM_TYPE}; start="<missing@x>"`), MtomError, 'MTOM_ROOT_NOT_FOUND');
});

test('framing errors are typed: media type, boundary, Content-ID, transfer encoding, includes', async () => {
  const good = envelopeWith(doc(xopIncludeXml('att@x')));
  await rejectsWith(read(Buffer.from(good), 'application/json'), SoapHttpError, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
  await rejectsWith(read(Buffer.from(good), 'multipart/related; type="application/xop+xml"'), SoapHttpError, 'HTTP_BAD_CONTENT_TYPE');
  await rejectsWith(read(Buffer.from(good), 'multipart/related; boundary=a; boundary=b'), SoapHttpError, 'HTTP_BAD_CONTENT_TYPE');
  await rejectsWith(read(Buffer.from(good), undefined as unknown as string), SoapHttpError, 'HTTP_BAD_CONTENT_TYPE');
  await rejectsWith(read(mimePackage([{ headers: ROOT_HEADERS, body: good }]), MTOM_TYPE), MtomError, 'MTOM_UNRESOLVED_INCLUDE');
  await rejectsWith(
    read(mimePackage([{ headers: ROOT_HEADERS, body: good }, { headers: ['Content-Type: a/b'], body: 'x' }]), MTOM_TYPE),
    MtomError,
    'MTOM_MALFORMED',
  );
  await rejectsWith(
    read(mimePackage([{ headers: ROOT_HEADERS, body: good }, { headers: ['Content-ID: <att@x>', 'Content-Transfer-Encoding: base64'], body: 'eA==' }]), MTOM_TYPE),
    MtomError,
    'MTOM_UNSUPPORTED_TRANSFER_ENCODING',
  );
  await rejectsWith(
    read(mimePackage([{ headers: ROOT_HEADERS, body: good }, { headers: ['Content-ID: <att@x>'], body: '1' }, { headers: ['Content-ID: <att@x>'], body: '2' }]), MTOM_TYPE),
    MtomError,
    'MTOM_DUPLICATE_CONTENT_ID',
  );
  await rejectsWith(read(mimePackage([{ headers: ['Content-Type: text/plain', 'Content-ID: <r>'], body: good }]), MTOM_TYPE), MtomError, 'MTOM_MALFORMED');
  await rejectsWith(read(Buffer.from('--b1--\r\n'), MTOM_TYPE), MtomError, 'MTOM_ROOT_NOT_FOUND');
});

test('the root part gets the same XML security rules (DTD, encoding) inside an MTOM package', async () => {
  const evil = `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="${SOAP12_ENVELOPE_NS}"><s:Body>&x;</s:Body></s:Envelope>`;
  await rejectsWith(read(mimePackage([{ headers: ROOT_HEADERS, body: evil }]), MTOM_TYPE), XmlParseError, 'XML_DTD_FORBIDDEN');
  const badUtf8 = Buffer.concat([Buffer.from(envelopeWith('<x:a xmlns:x="urn:x">')), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('</x:a>')]);
  const xml = Buffer.from(badUtf8.toString('latin1').replace('</s:Body>', '</s:Body>'), 'latin1');
  await rejectsWith(read(mimePackage([{ headers: ROOT_HEADERS, body: xml }]), MTOM_TYPE), XmlParseError, 'XML_ENCODING');
  await rejectsWith(read(xml, 'application/soap+xml; charset=UTF-8'), XmlParseError, 'XML_ENCODING');
});

test('limits: parts, part headers, envelope, attachment and total size', async () => {
  const root = { headers: ROOT_HEADERS, body: envelopeWith(doc(xopIncludeXml('a0@x'))) };
  const many = mimePackage([root, ...Array.from({ length: 20 }, (_, i) => ({ headers: [`Content-ID: <a${i}@x>`], body: 'x' }))]);
  await rejectsWith(read(many, MTOM_TYPE, { limits: { maxParts: 10 } }), MtomError, 'MTOM_LIMIT_EXCEEDED');
  const bigHeader = mimePackage([root, { headers: ['Content-ID: <a0@x>', `X-Pad: ${'p'.repeat(20000)}`], body: 'x' }]);
  await rejectsWith(read(bigHeader, MTOM_TYPE), MtomError, 'MTOM_LIMIT_EXCEEDED');
  const bigAttachment = mimePackage([root, { headers: ['Content-ID: <a0@x>'], body: randomBytes(100_000) }]);
  const e1 = await rejectsWith(read(bigAttachment, MTOM_TYPE, { limits: { maxAttachmentBytes: 50_000 } }), MtomError, 'MTOM_LIMIT_EXCEEDED');
  assert.equal(e1.httpStatus, 413);
  await rejectsWith(read(bigAttachment, MTOM_TYPE, { limits: { maxTotalBytes: 50_000 } }), SoapHttpError, 'HTTP_PAYLOAD_TOO_LARGE');
  await rejectsWith(read(bigAttachment, MTOM_TYPE, { limits: { maxEnvelopeBytes: 200 } }), MtomError, 'MTOM_LIMIT_EXCEEDED');
  await rejectsWith(read(Buffer.from(envelopeWith('<x xmlns="urn:x"/>')), 'application/soap+xml', { limits: { maxEnvelopeBytes: 100 } }), XmlParseError, 'XML_LIMIT_EXCEEDED');
});

test('a truncated MTOM body is a typed error at every cut point, never a hang', shared, async () => {
  const full = crlfFraming(nistBody(), NIST_PNR_BOUNDARY);
  const step = 97;
  for (let cut = 0; cut < full.length - 2; cut += step) {
    const err = await rejectsWith(read(full.subarray(0, cut), NIST_PNR_CONTENT_TYPE), SoapError);
    assert.ok(['MTOM_TRUNCATED', 'MTOM_ROOT_NOT_FOUND', 'MTOM_MALFORMED'].includes(err.code), `cut ${cut}: ${err.code} ${err.message}`);
  }
  const lf = nistBody();
  await rejectsWith(read(lf.subarray(0, lf.length - 10), NIST_PNR_CONTENT_TYPE), MtomError, 'MTOM_TRUNCATED');
});

test('a request stream that dies mid-way (client abort) is HTTP_ABORTED', async () => {
  const body = new PassThrough();
  const promise = read(body, MTOM_TYPE);
  body.write(mimePackage([{ headers: ROOT_HEADERS, body: envelopeWith('<x xmlns="urn:x"/>') }]).subarray(0, 100));
  setImmediate(() => body.destroy(new Error('socket hang up')));
  await rejectsWith(promise, SoapHttpError, 'HTTP_ABORTED');
  const stalled = new PassThrough();
  const controller = new AbortController();
  const p2 = readSoapMessage(stalled, MTOM_TYPE, { sink: memoryAttachmentSink(), signal: controller.signal });
  stalled.write('--b1\r\n');
  setTimeout(() => controller.abort(), 20);
  await rejectsWith(p2, SoapHttpError, 'HTTP_ABORTED');
});

test('sink failures propagate, and already stored attachments are discarded', async () => {
  const body = mimePackage([
    { headers: ROOT_HEADERS, body: envelopeWith(doc(xopIncludeXml('a@x'))) },
    { headers: ['Content-ID: <a@x>'], body: 'first' },
    { headers: ['Content-ID: <b@x>'], body: 'second' },
  ]);
  const discarded: string[] = [];
  const sink: AttachmentSink<string> = async (a) => {
    const chunks: Buffer[] = [];
    for await (const c of a.stream as AsyncIterable<Buffer>) chunks.push(c);
    if (a.contentId === 'b@x') throw new Error('disk full');
    return a.contentId;
  };
  await assert.rejects(
    readSoapMessage(chunkedReadable(body, 7), MTOM_TYPE, { sink, discard: async (ref) => void discarded.push(ref) }),
    /disk full/,
  );
  assert.deepEqual(discarded, ['a@x']);
  // A sink that resolves without reading does not stall the parser.
  const lazy: AttachmentSink<string> = async (a) => a.contentId;
  const msg = await readSoapMessage(chunkedReadable(body, 3), MTOM_TYPE, { sink: lazy });
  assert.equal(msg.binaries[0]?.ref, 'a@x');
  assert.deepEqual(msg.unreferencedAttachments.map((u) => u.ref), ['b@x']);
});

test('MTOM writer → reader round trip with streamed attachments containing boundary-like bytes', async () => {
  const tricky = Buffer.concat([Buffer.from('\r\n--MIMEBoundary_\r\n--\r\n\r\n'), randomBytes(300_000), Buffer.from('\r\n--')]);
  const small = Buffer.from('small');
  const body = doc(xopIncludeXml('big@x')).replace('</d:Req>', `<d:Document id="Doc2">${xopIncludeXml('small part@x')}</d:Document></d:Req>`);
  const pkg = writeMtomMessage(
    envelopeWith(body),
    [
      { contentId: 'big@x', contentType: 'application/dicom', content: () => chunkedReadable(tricky, 1000) },
      { contentId: 'small part@x', contentType: 'text/plain', content: small },
    ],
    { action: 'urn:test:Op' },
  );
  assert.match(pkg.contentType, /^multipart\/related; boundary=MIMEBoundary_[0-9a-f]+; type="application\/xop\+xml"; start="<[0-9a-f]+@imageshare\.invalid>"; start-info="application\/soap\+xml"; action="urn:test:Op"$/);
  const msg = await readSoapMessage(pkg.body, pkg.contentType, { sink: memoryAttachmentSink(), inlineBinaryElements: [XDSB_DOCUMENT] });
  assert.equal(msg.binaries.length, 2);
  assert.deepEqual(msg.binaries[0]?.ref.data, tricky);
  assert.equal(msg.binaries[0]?.contentType, 'application/dicom');
  assert.deepEqual(msg.binaries[1]?.ref.data, small);
  assert.equal(msg.envelope.addressing.action, 'urn:test:Op');
  assert.throws(() => writeMtomMessage('<x/>', [{ contentId: 'a\r\nX-Injected: 1', contentType: 'text/plain', content: small }]));
});

test('large attachments stream through the sink; nothing buffers the whole part', async () => {
  const total = 64 * 1024 * 1024;
  const chunk = randomBytes(64 * 1024);
  let produced = 0;
  let producedAtFirstChunk = -1;
  async function* body(): AsyncGenerator<Buffer> {
    yield mimePackage([{ headers: ROOT_HEADERS, body: envelopeWith(doc(xopIncludeXml('big@x'))) }]).subarray(0, -8); // without the close delimiter
    yield Buffer.from('\r\n--b1\r\nContent-ID: <big@x>\r\nContent-Type: application/dicom\r\n\r\n');
    for (let sent = 0; sent < total; sent += chunk.length) {
      produced += chunk.length;
      yield chunk;
    }
    yield Buffer.from('\r\n--b1--\r\n');
  }
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sink: AttachmentSink<{ size: number; sha1: string }> = async (a) => {
    const { stream, digest } = digestStream(a.stream);
    for await (const _c of stream) {
      if (producedAtFirstChunk < 0) producedAtFirstChunk = produced;
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - heapBefore);
    }
    return digest;
  };
  const expected = createHash('sha1');
  for (let sent = 0; sent < total; sent += chunk.length) expected.update(chunk);
  const msg = await readSoapMessage(Readable.from(body()), MTOM_TYPE, { sink });
  assert.equal(msg.binaries[0]?.ref.size, total);
  assert.equal(msg.binaries[0]?.ref.sha1, expected.digest('hex'));
  assert.ok(producedAtFirstChunk < 4 * 1024 * 1024, `sink saw its first bytes only after ${producedAtFirstChunk} bytes were produced`);
  assert.ok(peak < 48 * 1024 * 1024, `memory grew by ${Math.round(peak / 1e6)} MB while streaming 64 MiB`);
});

test('fuzz: mutated MTOM bodies are read or rejected with a SoapError, never crash or hang', shared, async () => {
  const base = crlfFraming(nistBody(), NIST_PNR_BOUNDARY);
  const rnd = seededRandom(7);
  const inserts = ['\r\n', '--', `--${NIST_PNR_BOUNDARY}`, '&xxe;', '<!DOCTYPE x>', '\u00ff', '\r\n\r\n', 'Content-ID: <x>\r\n', '<', '"'];
  for (let i = 0; i < 300; i++) {
    let b = Buffer.from(base);
    for (let e = 0; e < 1 + Math.floor(rnd() * 3); e++) {
      const at = Math.floor(rnd() * b.length);
      const op = rnd();
      if (op < 0.4) b = Buffer.concat([b.subarray(0, at), Buffer.from(inserts[Math.floor(rnd() * inserts.length)] as string, 'latin1'), b.subarray(at)]);
      else if (op < 0.7) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 20))]);
      else b[at] = Math.floor(rnd() * 256);
    }
    try {
      await read(b, NIST_PNR_CONTENT_TYPE, { chunk: 1 + Math.floor(rnd() * 200) });
    } catch (err) {
      assert.ok(err instanceof SoapError, `iteration ${i}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
});

test('WS-Addressing is checked on MTOM roots too (Content-Type action vs wsa:Action)', shared, async () => {
  const wrongAction = NIST_PNR_CONTENT_TYPE.replace('ProvideAndRegisterDocumentSet-b"', 'RegisterDocumentSet-b"');
  const err = await rejectsWith(read(nistBody(), wrongAction), SoapError, 'WSA_ACTION_MISMATCH');
  assert.equal(err.subcodes[0]?.ns, WSA_NS);
});
