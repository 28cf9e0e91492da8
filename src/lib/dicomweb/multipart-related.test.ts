import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MultipartError, parseMediaType, parseMultipartRelatedContentType, readMultipartRelated } from './multipart-related.ts';

const B = 'b0undary';

function body(parts: ReadonlyArray<{ headers?: string; content: Buffer | string }>, opts: { preamble?: string; close?: boolean } = {}): Buffer {
  const chunks: Buffer[] = [Buffer.from(opts.preamble ?? '')];
  for (const p of parts) chunks.push(Buffer.from(`--${B}\r\n${p.headers ?? 'Content-Type: application/dicom\r\n'}\r\n`), Buffer.from(p.content), Buffer.from('\r\n'));
  if (opts.close !== false) chunks.push(Buffer.from(`--${B}--\r\n`));
  return Buffer.concat(chunks);
}

/** Feeds the body in small pieces, as a network would. */
function streamOf(bytes: Buffer, pieceSize = 7): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
  return Readable.from(pieces);
}

async function collect(bytes: Buffer, limits = {}) {
  const out: Array<{ type: string | null; id: string | null; content: Buffer; headers: Map<string, string> }> = [];
  for await (const part of readMultipartRelated(streamOf(bytes), B, limits)) {
    const chunks: Buffer[] = [];
    for await (const c of part.body as AsyncIterable<Buffer>) chunks.push(c);
    out.push({ type: part.contentType, id: part.contentId, content: Buffer.concat(chunks), headers: new Map(part.headers) });
  }
  return out;
}

async function failureOf(bytes: Buffer, limits = {}): Promise<MultipartError> {
  try {
    await collect(bytes, limits);
  } catch (err) {
    assert.ok(err instanceof MultipartError, String(err));
    return err;
  }
  assert.fail('expected a MultipartError');
}

describe('parseMultipartRelatedContentType', () => {
  test('reads boundary, type, start and start-info (quoted or not, any case)', () => {
    const ct = parseMultipartRelatedContentType('Multipart/Related; type="application/dicom"; boundary="a b:c"; start="<root@x>"; start-info="text/xml"');
    assert.deepEqual(ct, { boundary: 'a b:c', type: 'application/dicom', start: '<root@x>', startInfo: 'text/xml' });
    assert.equal(parseMultipartRelatedContentType('multipart/related;boundary=xyz').type, null);
  });
  test('other media types are unsupported; a missing boundary or bad syntax is a bad content type', () => {
    const code = (h: string | undefined) => {
      try {
        parseMultipartRelatedContentType(h);
      } catch (err) {
        return (err as MultipartError).code;
      }
      return 'ok';
    };
    assert.equal(code('application/dicom'), 'unsupported-media-type');
    assert.equal(code('multipart/form-data; boundary=x'), 'unsupported-media-type');
    assert.equal(code(undefined), 'unsupported-media-type');
    assert.equal(code('multipart/related; type=application/dicom'), 'bad-content-type');
    assert.equal(code(`multipart/related; boundary=${'x'.repeat(71)}`), 'bad-content-type');
    assert.equal(code('multipart/related; boundary="unterminated'), 'bad-content-type');
  });
  test('parseMediaType keeps escaped quotes', () => {
    assert.equal(parseMediaType('a/b; x="1\\"2"')?.parameters.get('x'), '1"2');
    assert.equal(parseMediaType('not a type'), null);
  });
});

describe('readMultipartRelated', () => {
  test('delivers each part with its headers and exact bytes, binary and CRLF inside included', async () => {
    const binary = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10, 13, 10, 1]);
    const parts = await collect(
      body(
        [
          { content: binary, headers: 'Content-Type: application/dicom\r\nContent-ID: <one@x>\r\n' },
          { content: `--${B.slice(0, 4)} almost a boundary`, headers: 'content-type: Application/DICOM; transfer-syntax=1.2.840.10008.1.2.1\r\nX-Extra: 1\r\n' },
          { content: '', headers: '' },
        ],
        { preamble: 'ignored preamble\r\n' },
      ),
    );
    assert.equal(parts.length, 3);
    assert.ok(parts[0]!.content.equals(binary));
    assert.equal(parts[0]!.id, 'one@x');
    assert.equal(parts[1]!.type, 'application/dicom');
    assert.equal(parts[1]!.headers.get('x-extra'), '1');
    assert.equal(parts[1]!.content.toString(), `--${B.slice(0, 4)} almost a boundary`);
    assert.equal(parts[2]!.type, null);
    assert.equal(parts[2]!.content.length, 0);
  });
  test('a part left unread is drained before the next one', async () => {
    const parts: number[] = [];
    for await (const part of readMultipartRelated(streamOf(body([{ content: 'x'.repeat(100_000) }, { content: 'second' }]), 1000), B)) parts.push(part.index);
    assert.deepEqual(parts, [0, 1]);
  });
  test('a body without its closing boundary is truncated', async () => {
    assert.equal((await failureOf(body([{ content: 'abc' }], { close: false }))).code, 'truncated');
    const whole = body([{ content: 'a'.repeat(5000) }, { content: 'b'.repeat(5000) }]);
    assert.equal((await failureOf(whole.subarray(0, 7000))).code, 'truncated');
  });
  test('a body with no boundary at all fails', async () => {
    const err = await failureOf(Buffer.from('this is not multipart at all'));
    assert.ok(['truncated', 'malformed'].includes(err.code));
  });
  test('limits: part count and header size', async () => {
    assert.equal((await failureOf(body([{ content: '1' }, { content: '2' }, { content: '3' }]), { maxParts: 2 })).code, 'too-many-parts');
    const bigHeader = `Content-Type: application/dicom\r\nX-Big: ${'h'.repeat(20_000)}\r\n`;
    assert.equal((await failureOf(body([{ content: '1', headers: bigHeader }]), { maxHeaderBytes: 16 * 1024 })).code, 'header-too-large');
  });
  test('a failing request stream is reported as truncated', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from(`--${B}\r\nContent-Type: application/dicom\r\n\r\nabc`));
    setImmediate(() => source.destroy(new Error('socket hang up')));
    let error: unknown;
    try {
      for await (const part of readMultipartRelated(source, B)) for await (const _ of part.body) void _;
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof MultipartError);
    assert.equal(error.code, 'truncated');
  });
});
