// Reading and writing SOAP messages on the wire: plain application/soap+xml bodies and
// MTOM/XOP multipart/related packages (W3C XOP 1.0, SOAP MTOM, ihe-protocols.md §2).
//
// Reading streams: binary parts are never buffered here, each one is handed as a Readable to a
// caller-provided sink (which writes it to a blob store and hashes it on the way). Only the SOAP
// root part is buffered, bounded by `maxEnvelopeBytes`. Every size is bounded and a body that
// ends early is a typed error.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import Dicer from 'dicer';
import { MtomError, SoapError, SoapHttpError, XmlParseError } from './errors.ts';
import { readSoapEnvelope, type EnvelopeOptions, type SoapEnvelope } from './envelope.ts';
import { formatParam, parseMediaType, stripAngleBrackets, type MediaType } from './content-type.ts';
import { MultipartLineEndingNormalizer } from './multipart-line-endings.ts';
import { SOAP12_MEDIA_TYPE, XOP_MEDIA_TYPE, XOP_NS, type QName } from './namespaces.ts';
import { attribute, findDescendants, isElement, ownText, parseXml, type XmlElement, type XmlLimits } from './safe-xml.ts';

// ---------------------------------------------------------------------------------------------
// Types shared by reader, writer and client

/** One binary object handed to the sink while the message is being read. */
export interface IncomingAttachment {
  /** Content-ID without angle brackets (or a generated id for inline base64 content). */
  readonly contentId: string;
  /** Content-Type of the MIME part; 'application/octet-stream' for inline base64 content. */
  readonly contentType: string;
  /** All MIME part headers, lower-cased names (empty for inline content). */
  readonly headers: Readonly<Record<string, string>>;
  /** The bytes. The sink must consume it (or resolve, after which the rest is discarded). */
  readonly stream: Readable;
  readonly source: 'mime-part' | 'inline-base64';
}

/**
 * Stores one attachment and returns the caller's reference to it (e.g. blob key + SHA-1 + size).
 * It must settle when `attachment.stream` errors (a truncated upload destroys the stream).
 */
export type AttachmentSink<T> = (attachment: IncomingAttachment) => Promise<T>;

export interface SoapMessageLimits {
  /** Largest SOAP part (plain body or MTOM root part), bytes. */
  maxEnvelopeBytes: number;
  /** Most MIME parts in a package (root included). */
  maxParts: number;
  /** Largest header block of one MIME part, bytes. */
  maxPartHeaderBytes: number;
  /** Largest attachment, bytes. */
  maxAttachmentBytes: number;
  /** Largest HTTP body as a whole, bytes. */
  maxTotalBytes: number;
  /** XML limits for the SOAP part (maxBytes is taken from maxEnvelopeBytes). */
  xml: Partial<Omit<XmlLimits, 'maxBytes'>>;
}

export const DEFAULT_SOAP_MESSAGE_LIMITS: Readonly<SoapMessageLimits> = Object.freeze({
  maxEnvelopeBytes: 16 * 1024 * 1024,
  maxParts: 10_000,
  maxPartHeaderBytes: 16 * 1024,
  maxAttachmentBytes: 4 * 1024 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024 * 1024,
  xml: {},
});

export interface ReadSoapMessageOptions<T> {
  readonly sink: AttachmentSink<T>;
  readonly limits?: Partial<SoapMessageLimits>;
  /**
   * Elements whose text is base64 binary when they carry no xop:Include (e.g. xdsb:Document).
   * Their content is decoded and handed to the sink like an attachment, then dropped from the tree.
   */
  readonly inlineBinaryElements?: readonly QName[];
  readonly envelope?: EnvelopeOptions;
  /** Called for each stored attachment when reading fails afterwards, so the caller can delete it. */
  readonly discard?: (ref: T) => Promise<void>;
  readonly signal?: AbortSignal;
}

export interface ReceivedBinary<T> {
  /** The element holding the binary (parent of xop:Include, or the inline base64 element). */
  readonly element: XmlElement;
  readonly contentId: string;
  readonly contentType: string;
  readonly source: 'xop' | 'inline-base64';
  readonly ref: T;
}

export interface SoapMessage<T> {
  readonly envelope: SoapEnvelope;
  readonly mtom: boolean;
  readonly binaries: readonly ReceivedBinary<T>[];
  /** MIME parts no xop:Include referenced (stored by the sink all the same). */
  readonly unreferencedAttachments: ReadonlyArray<{ readonly contentId: string; readonly contentType: string; readonly ref: T }>;
  /** The binary held by an element (e.g. an xdsb:Document), if any. */
  binaryOf(element: XmlElement): ReceivedBinary<T> | undefined;
}

// ---------------------------------------------------------------------------------------------
// Small stream helpers

class ByteLimit extends Transform {
  private count = 0;
  constructor(
    private readonly max: number,
    private readonly makeError: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.max) cb(this.makeError());
    else cb(null, chunk);
  }
}

export interface StreamDigest {
  readonly size: number;
  /** Lower-case hex SHA-1, the XDS `hash` slot format. */
  readonly sha1: string;
}

/** Passes bytes through while counting them and computing SHA-1 (for sinks). */
export function digestStream(source: Readable): { stream: Readable; digest: Promise<StreamDigest> } {
  const hash = createHash('sha1');
  let size = 0;
  const out = new PassThrough();
  const digest = new Promise<StreamDigest>((resolve, reject) => {
    source.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    source.once('error', (err) => {
      out.destroy(err);
      reject(err);
    });
    out.once('end', () => resolve({ size, sha1: hash.digest('hex') }));
  });
  digest.catch(() => undefined); // the consumer of `stream` sees the error too
  source.pipe(out);
  return { stream: out, digest };
}

export interface BufferedAttachment {
  readonly contentId: string;
  readonly contentType: string;
  readonly data: Buffer;
  readonly size: number;
  readonly sha1: string;
}

/** A sink that keeps attachments in memory (small messages, tests, consumer-side helpers). */
export function memoryAttachmentSink(maxBytes = 64 * 1024 * 1024): AttachmentSink<BufferedAttachment> {
  return async (a) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of a.stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new MtomError('MTOM_LIMIT_EXCEEDED', `attachment ${a.contentId} larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    const data = Buffer.concat(chunks);
    return { contentId: a.contentId, contentType: a.contentType, data, size, sha1: createHash('sha1').update(data).digest('hex') };
  };
}

/**
 * Reads a whole (small) body. On failure the request stream is neither destroyed nor left
 * paused: the rest is drained and discarded, so the HTTP layer can still send the fault.
 */
function readAllBounded(body: Readable, max: number, signal: AbortSignal | undefined): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > max) fail(new XmlParseError('XML_LIMIT_EXCEEDED', `SOAP message larger than ${max} bytes`, undefined, true));
      else chunks.push(b);
    };
    const onEnd = (): void => {
      if (settled) return;
      settled = true;
      detach();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => fail(new SoapHttpError('HTTP_ABORTED', 'the request body ended abnormally', err));
    const onClose = (): void => {
      if (!body.readableEnded) fail(new SoapHttpError('HTTP_ABORTED', 'the request body was closed before its end'));
    };
    const onAbort = (): void => fail(new SoapHttpError('HTTP_ABORTED', 'reading the request was aborted'));
    function detach(): void {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      body.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    }
    function fail(err: SoapError): void {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      // The error listener stays, so a late client abort cannot become an unhandled 'error'.
      chunks.length = 0;
      body.resume();
      reject(err);
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', onError);
    body.once('close', onClose);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Decodes strict base64 (whitespace allowed between groups); Node's decoder would skip junk silently. */
export function decodeBase64Strict(text: string): Buffer {
  const compact = text.replace(/[ \t\r\n]+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new MtomError('BINARY_INVALID_BASE64', 'inline binary content is not valid base64');
  }
  return Buffer.from(compact, 'base64');
}

/** Decodes the `cid:` URL of an xop:Include href into a Content-ID (RFC 2392: percent-encoded). */
export function contentIdFromHref(href: string): string {
  const h = href.trim();
  if (!/^cid:/i.test(h)) throw new MtomError('MTOM_UNRESOLVED_INCLUDE', `xop:Include href '${h.slice(0, 80)}' is not a cid: URL`);
  try {
    return stripAngleBrackets(decodeURIComponent(h.slice(4)));
  } catch {
    throw new MtomError('MTOM_UNRESOLVED_INCLUDE', `xop:Include href '${h.slice(0, 80)}' has invalid percent-encoding`);
  }
}

interface StoredPart<T> {
  readonly contentId: string;
  readonly contentType: string;
  readonly ref: T;
}

/**
 * Reads a SOAP request or response body from a stream.
 * `contentType` is the HTTP Content-Type header. application/soap+xml and MTOM multipart/related
 * are read; text/xml is read only to answer SOAP 1.1 with a VersionMismatch fault; anything
 * else is HTTP 415.
 */
export async function readSoapMessage<T>(
  body: Readable,
  contentType: string | undefined,
  options: ReadSoapMessageOptions<T>,
): Promise<SoapMessage<T>> {
  const limits: SoapMessageLimits = { ...DEFAULT_SOAP_MESSAGE_LIMITS, ...options.limits };
  const media = parseMediaType(contentType);
  if (media.mediaType === SOAP12_MEDIA_TYPE || media.mediaType === 'text/xml') {
    const bytes = await readAllBounded(body, Math.min(limits.maxEnvelopeBytes, limits.maxTotalBytes), options.signal);
    const envelope = parseRoot(bytes, media, limits, options);
    const stored: Array<StoredPart<T>> = [];
    try {
      const binaries = await resolveBinaries(envelope, new Map(), options, false, stored);
      return makeMessage(envelope, false, binaries, []);
    } catch (err) {
      await discardAll(stored, options);
      throw err;
    }
  }
  if (media.mediaType === 'multipart/related') return readMtom(body, media, limits, options);
  throw new SoapHttpError('HTTP_UNSUPPORTED_MEDIA_TYPE', `unsupported media type '${media.mediaType}'`);
}

function parseRoot<T>(bytes: Buffer, media: MediaType, limits: SoapMessageLimits, options: ReadSoapMessageOptions<T>, packageAction?: string): SoapEnvelope {
  const { root } = parseXml(bytes, {
    charset: media.params.get('charset'),
    limits: { ...limits.xml, maxBytes: limits.maxEnvelopeBytes },
  });
  const contentTypeAction = media.params.get('action') ?? packageAction;
  return readSoapEnvelope(root, { ...options.envelope, contentTypeAction: options.envelope?.contentTypeAction ?? contentTypeAction });
}

function makeMessage<T>(
  envelope: SoapEnvelope,
  mtom: boolean,
  binaries: ReceivedBinary<T>[],
  unreferenced: Array<StoredPart<T>>,
): SoapMessage<T> {
  const byElement = new Map<XmlElement, ReceivedBinary<T>>(binaries.map((b) => [b.element, b]));
  return {
    envelope,
    mtom,
    binaries,
    unreferencedAttachments: unreferenced,
    binaryOf: (element) => byElement.get(element),
  };
}

async function discardAll<T>(stored: ReadonlyArray<StoredPart<T>>, options: ReadSoapMessageOptions<T>): Promise<void> {
  if (!options.discard) return;
  await Promise.allSettled(stored.map((s) => (options.discard as (ref: T) => Promise<void>)(s.ref)));
}

/** Resolves xop:Include references and decodes inline base64 elements into the sink. */
async function resolveBinaries<T>(
  envelope: SoapEnvelope,
  parts: ReadonlyMap<string, StoredPart<T>>,
  options: ReadSoapMessageOptions<T>,
  mtom: boolean,
  stored: Array<StoredPart<T>>,
): Promise<ReceivedBinary<T>[]> {
  const binaries: ReceivedBinary<T>[] = [];
  const includes = findDescendants(envelope.envelope, (e) => e.ns === XOP_NS && e.local === 'Include');
  for (const { element: include, parent } of includes) {
    const href = attribute(include, 'href');
    if (href === undefined) throw new MtomError('MTOM_UNRESOLVED_INCLUDE', 'xop:Include without href');
    const contentId = contentIdFromHref(href);
    if (!mtom) throw new MtomError('MTOM_UNRESOLVED_INCLUDE', `xop:Include ${contentId} in a message that is not an MTOM package`);
    const part = parts.get(contentId);
    if (!part) throw new MtomError('MTOM_UNRESOLVED_INCLUDE', `xop:Include references cid:${contentId}, which is not a part of the package`);
    // XOP §3: the element holding an Include has no other content.
    if (parent.children.some((c) => (isElement(c) ? c !== include : c.trim() !== ''))) {
      throw new MtomError('MTOM_MALFORMED', `element <${parent.local}> mixes xop:Include with other content`);
    }
    binaries.push({ element: parent, contentId, contentType: part.contentType, source: 'xop', ref: part.ref });
  }
  const wanted = options.inlineBinaryElements ?? [];
  if (wanted.length > 0) {
    const withInclude = new Set(binaries.map((b) => b.element));
    const inline = findDescendants(envelope.body, (e) => !withInclude.has(e) && wanted.some((q) => q.ns === e.ns && q.local === e.local));
    let n = 0;
    for (const { element } of inline) {
      if (element.children.some(isElement)) throw new MtomError('MTOM_MALFORMED', `<${element.local}> must hold base64 text or one xop:Include`);
      const data = decodeBase64Strict(ownText(element));
      element.children.length = 0; // the decoded bytes go to the sink; free the text
      const contentId = `inline-${++n}`;
      const contentType = 'application/octet-stream';
      const ref = await options.sink({ contentId, contentType, headers: {}, stream: Readable.from([data]), source: 'inline-base64' });
      stored.push({ contentId, contentType, ref });
      binaries.push({ element, contentId, contentType, source: 'inline-base64', ref });
    }
  }
  return binaries;
}

function headerValue(header: Record<string, string[] | undefined>, name: string): string | undefined {
  const v = header[name];
  return v === undefined ? undefined : v.join(', ');
}

async function readMtom<T>(
  body: Readable,
  media: MediaType,
  limits: SoapMessageLimits,
  options: ReadSoapMessageOptions<T>,
): Promise<SoapMessage<T>> {
  const boundary = media.params.get('boundary');
  if (boundary === undefined || boundary.length < 1 || boundary.length > 70 || /[\r\n]/.test(boundary)) {
    throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', 'multipart/related without a valid boundary parameter');
  }
  const packageType = media.params.get('type')?.toLowerCase();
  if (packageType !== undefined && packageType !== XOP_MEDIA_TYPE && packageType !== SOAP12_MEDIA_TYPE && packageType !== 'text/xml') {
    throw new SoapHttpError('HTTP_UNSUPPORTED_MEDIA_TYPE', `multipart/related of type '${packageType}' is not a SOAP package`);
  }
  const start = media.params.has('start') ? stripAngleBrackets(media.params.get('start') as string) : undefined;
  const packageAction = media.params.get('action');
  if (options.signal?.aborted) throw new SoapHttpError('HTTP_ABORTED', 'reading the request was aborted');

  const parts = new Map<string, StoredPart<T>>();
  const seenContentIds = new Set<string>();
  const stored: Array<StoredPart<T>> = [];
  const sinkPromises: Array<Promise<void>> = [];
  const activeStreams = new Set<PassThrough | Transform>();
  let envelope: SoapEnvelope | undefined;
  let rootSeen = false;
  let partCount = 0;
  let failure: unknown;

  const counter = new ByteLimit(limits.maxTotalBytes, () => new SoapHttpError('HTTP_PAYLOAD_TOO_LARGE', `request body larger than ${limits.maxTotalBytes} bytes`));
  const normalizer = new MultipartLineEndingNormalizer(boundary);
  const dicer = new Dicer({ boundary, maxHeaderPairs: 100 });

  let detach = (): void => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    const fail = (err: unknown): void => {
      if (failure !== undefined) return;
      failure = err;
      // Stop parsing but leave the request stream itself alone: destroying it would make it
      // impossible to send the fault response.
      body.unpipe(counter);
      body.resume(); // drain and discard the rest (see readAllBounded)
      counter.destroy();
      normalizer.destroy();
      dicer.removeAllListeners('part');
      dicer.destroy();
      for (const s of activeStreams) s.destroy(err instanceof Error ? err : new Error(String(err)));
      reject(err);
    };
    const onAbort = (): void => fail(new SoapHttpError('HTTP_ABORTED', 'reading the request was aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const onBodyError = (err: Error): void => fail(new SoapHttpError('HTTP_ABORTED', 'the request body ended abnormally', err));
    const onBodyClose = (): void => {
      if (!body.readableEnded) fail(new SoapHttpError('HTTP_ABORTED', 'the request body was closed before its end'));
    };
    body.on('error', onBodyError);
    body.once('close', onBodyClose);
    detach = () => {
      body.off('error', onBodyError);
      body.off('close', onBodyClose);
      options.signal?.removeEventListener('abort', onAbort);
    };
    counter.once('error', fail);
    normalizer.once('error', fail);
    dicer.on('error', (err: Error) => {
      const truncated = /unexpected end/i.test(err.message);
      fail(new MtomError(truncated ? 'MTOM_TRUNCATED' : 'MTOM_MALFORMED', truncated ? 'multipart body ended before its closing boundary' : `malformed multipart body: ${err.message}`, err));
    });
    dicer.once('finish', () => {
      if (failure === undefined) resolve();
    });

    dicer.on('part', (part: Dicer.PartStream) => {
      const index = partCount++;
      if (partCount > limits.maxParts) {
        part.resume();
        fail(new MtomError('MTOM_LIMIT_EXCEEDED', `more than ${limits.maxParts} MIME parts`));
        return;
      }
      let headerSeen = false;
      part.on('error', (err: Error) => {
        const truncated = /terminated early|unexpected end/i.test(err.message);
        fail(new MtomError(truncated ? 'MTOM_TRUNCATED' : 'MTOM_MALFORMED', truncated ? 'multipart body ended inside a part' : `malformed MIME part: ${err.message}`, err));
      });
      part.on('end', () => {
        if (!headerSeen) fail(new MtomError('MTOM_MALFORMED', `MIME part ${index + 1} has no header block`));
      });
      part.once('header', (raw: object) => {
        headerSeen = true;
        const header = raw as Record<string, string[] | undefined>;
        let headerBytes = 0;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(header)) {
          const value = (v ?? []).join(', ');
          headerBytes += k.length + value.length + 4;
          headers[k] = value;
        }
        if (headerBytes > limits.maxPartHeaderBytes) {
          fail(new MtomError('MTOM_LIMIT_EXCEEDED', `MIME part headers larger than ${limits.maxPartHeaderBytes} bytes`));
          return;
        }
        const cidHeader = headerValue(header, 'content-id');
        const contentId = cidHeader === undefined ? undefined : stripAngleBrackets(cidHeader);
        const isRoot = start === undefined ? index === 0 : contentId === start;
        const cte = (headerValue(header, 'content-transfer-encoding') ?? 'binary').trim().toLowerCase();
        if (cte !== 'binary' && cte !== '8bit' && cte !== '7bit') {
          fail(new MtomError('MTOM_UNSUPPORTED_TRANSFER_ENCODING', `Content-Transfer-Encoding '${cte.slice(0, 30)}' is not supported (MTOM uses binary)`));
          return;
        }
        let partType: MediaType;
        try {
          partType = parseMediaType(headerValue(header, 'content-type') ?? 'application/octet-stream');
        } catch (err) {
          fail(new MtomError('MTOM_MALFORMED', `MIME part ${index + 1} has a malformed Content-Type`, err));
          return;
        }

        if (isRoot) {
          rootSeen = true;
          if (partType.mediaType !== XOP_MEDIA_TYPE && partType.mediaType !== SOAP12_MEDIA_TYPE && partType.mediaType !== 'text/xml') {
            fail(new MtomError('MTOM_MALFORMED', `root part has media type '${partType.mediaType}', expected ${XOP_MEDIA_TYPE}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          part.on('data', (chunk: Buffer) => {
            if (failure !== undefined) return;
            size += chunk.length;
            if (size > limits.maxEnvelopeBytes) {
              fail(new MtomError('MTOM_LIMIT_EXCEEDED', `SOAP part larger than ${limits.maxEnvelopeBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          part.on('end', () => {
            if (failure !== undefined) return;
            try {
              // Parse as soon as the root is complete: a bad envelope stops the upload early.
              envelope = parseRoot(Buffer.concat(chunks), partType, limits, options, packageAction);
            } catch (err) {
              fail(err);
            }
          });
          return;
        }

        if (contentId === undefined || contentId === '') {
          fail(new MtomError('MTOM_MALFORMED', `MIME part ${index + 1} has no Content-ID`));
          return;
        }
        if (seenContentIds.has(contentId) || contentId === start) {
          fail(new MtomError('MTOM_DUPLICATE_CONTENT_ID', `Content-ID <${contentId}> appears twice`));
          return;
        }
        const limiter = new ByteLimit(limits.maxAttachmentBytes, () => new MtomError('MTOM_LIMIT_EXCEEDED', `attachment <${contentId}> larger than ${limits.maxAttachmentBytes} bytes`));
        activeStreams.add(limiter);
        limiter.once('error', fail);
        part.pipe(limiter);
        const sinkDone = options
          .sink({ contentId, contentType: partType.mediaType, headers, stream: limiter, source: 'mime-part' })
          .then((ref) => {
            const entry = { contentId, contentType: partType.mediaType, ref };
            parts.set(contentId, entry);
            stored.push(entry);
            // A sink that resolved without reading everything: discard the rest so parsing goes on.
            if (!limiter.readableEnded) limiter.resume();
          })
          .finally(() => activeStreams.delete(limiter));
        sinkPromises.push(sinkDone);
        sinkDone.catch((err: unknown) => fail(err));
        seenContentIds.add(contentId);
      });
      // Dicer counts a part finished only once it has been read; headers come before any data.
      part.resume();
    });
  });

  body.pipe(counter).pipe(normalizer).pipe(dicer);

  try {
    await finished;
    await Promise.all(sinkPromises);
    if (!rootSeen) {
      throw new MtomError('MTOM_ROOT_NOT_FOUND', start === undefined ? 'package has no parts' : `root part <${start}> (start parameter) not found`);
    }
    if (envelope === undefined) throw new MtomError('MTOM_ROOT_NOT_FOUND', 'root part could not be read');
    const binaries = await resolveBinaries(envelope, parts, options, true, stored);
    const referenced = new Set(binaries.filter((b) => b.source === 'xop').map((b) => b.contentId));
    const unreferenced = [...parts.values()].filter((p) => !referenced.has(p.contentId));
    detach();
    return makeMessage(envelope, true, binaries, unreferenced);
  } catch (err) {
    // Our listeners stay on `body` after a failure so a late client abort cannot go unhandled.
    await Promise.allSettled(sinkPromises);
    await discardAll(stored, options);
    throw failure ?? err;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface OutgoingAttachment {
  /** Content-ID without angle brackets; the same value goes into the xop:Include href. */
  readonly contentId: string;
  readonly contentType: string;
  /** The bytes, or a factory opened only when the part is written (one file handle at a time). */
  readonly content: Readable | Uint8Array | (() => Readable | Promise<Readable>);
}

export interface MtomPackage {
  /** HTTP Content-Type of the package. */
  readonly contentType: string;
  readonly body: Readable;
  readonly boundary: string;
}

export interface MtomWriteOptions {
  /** SOAP action, repeated in the Content-Type `action` parameters. */
  readonly action?: string;
  readonly boundary?: string;
  readonly rootContentId?: string;
}

/** A new Content-ID, unique enough to never collide within a package. */
export function newContentId(domain = 'imageshare.invalid'): string {
  return `${randomBytes(12).toString('hex')}@${domain}`;
}

/** RFC 2392 cid: URL for a Content-ID (percent-encodes what may not appear raw). */
export function cidUrl(contentId: string): string {
  return `cid:${contentId.replace(/[^A-Za-z0-9@._~!$&'()*+,;=:-]/g, (c) => encodeURIComponent(c))}`;
}

/** `<xop:Include>` element referencing an attachment. */
export function xopIncludeXml(contentId: string): string {
  return `<xop:Include xmlns:xop="${XOP_NS}" href="${cidUrl(contentId).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}"/>`;
}

function assertHeaderSafe(value: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\r\n\u0000-\u001f\u007f]/.test(value) || value.length > 1024) throw new Error(`invalid ${what} for a MIME header: ${JSON.stringify(value.slice(0, 60))}`);
}

/**
 * Builds an MTOM/XOP package: root part = the SOAP envelope, then one binary part per
 * attachment, streamed in order with back-pressure.
 */
export function writeMtomMessage(envelopeXml: string, attachments: readonly OutgoingAttachment[], options: MtomWriteOptions = {}): MtomPackage {
  const boundary = options.boundary ?? `MIMEBoundary_${randomBytes(24).toString('hex')}`;
  const rootId = options.rootContentId ?? newContentId();
  assertHeaderSafe(boundary, 'boundary');
  assertHeaderSafe(rootId, 'Content-ID');
  const seen = new Set<string>([rootId]);
  for (const a of attachments) {
    assertHeaderSafe(a.contentId, 'Content-ID');
    assertHeaderSafe(a.contentType, 'Content-Type');
    if (seen.has(a.contentId)) throw new Error(`duplicate Content-ID ${a.contentId}`);
    seen.add(a.contentId);
  }
  const actionParam = options.action ? `; ${formatParam('action', options.action)}` : '';
  const rootType = `${XOP_MEDIA_TYPE}; charset=UTF-8; type="${SOAP12_MEDIA_TYPE}"${actionParam}`;
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(`--${boundary}\r\nContent-Type: ${rootType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${rootId}>\r\n\r\n`, 'latin1');
    yield Buffer.from(envelopeXml, 'utf8');
    for (const a of attachments) {
      yield Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${a.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${a.contentId}>\r\n\r\n`, 'latin1');
      const content = typeof a.content === 'function' ? await a.content() : a.content;
      if (content instanceof Uint8Array) yield Buffer.from(content.buffer, content.byteOffset, content.byteLength);
      else for await (const chunk of content as AsyncIterable<Buffer | string>) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  }
  const contentType =
    `multipart/related; ${formatParam('boundary', boundary)}; type="${XOP_MEDIA_TYPE}"; ${formatParam('start', `<${rootId}>`)}; ` +
    `start-info="${SOAP12_MEDIA_TYPE}"${actionParam}`;
  return { contentType, body: Readable.from(generate()), boundary };
}
