// Streaming reader of multipart/related request bodies (RFC 2387), as STOW-RS sends them (PS3.18
// 8.6.1.2): each part is handed over as a stream with its headers, one at a time, so a body of any size
// passes with constant memory (dicer pauses the request while a part's consumer is slow).
import type { Readable } from 'node:stream';
import Dicer from 'dicer';

export type MultipartErrorCode =
  /** The Content-Type is not multipart/related (answer 415). */
  | 'unsupported-media-type'
  /** The Content-Type is multipart/related but unusable (no boundary, bad syntax). */
  | 'bad-content-type'
  /** The body ended before the closing boundary. */
  | 'truncated'
  /** The body is not multipart, or a part is broken. */
  | 'malformed'
  | 'too-many-parts'
  | 'header-too-large';

export class MultipartError extends Error {
  override readonly name = 'MultipartError';
  constructor(
    readonly code: MultipartErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MultipartRelatedContentType {
  boundary: string;
  /** The `type` parameter: the media type of the root (and, in STOW-RS, of every) part; lower case. */
  type: string | null;
  /** The `start` parameter: Content-ID of the root part. */
  start: string | null;
  /** The `start-info` parameter. */
  startInfo: string | null;
}

/** Splits `a/b; k=v; k2="v 2"` into the lower-case media type and its parameters (names lower case). */
export function parseMediaType(header: string): { mediaType: string; parameters: Map<string, string> } | null {
  const semicolon = header.indexOf(';');
  const mediaType = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mediaType)) return null;
  const parameters = new Map<string, string>();
  let rest = semicolon < 0 ? '' : header.slice(semicolon + 1);
  const parameter = /^\s*([A-Za-z0-9!#$&^_.+*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s"]*))\s*(?:;|$)/;
  while (rest.trim() !== '') {
    const m = parameter.exec(rest);
    if (m === null) return null;
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    parameters.set(m[1]!.toLowerCase(), value);
    rest = rest.slice(m[0].length);
  }
  return { mediaType, parameters };
}

/** Reads boundary, type, start and start-info from a Content-Type header. Throws MultipartError. */
export function parseMultipartRelatedContentType(header: string | undefined): MultipartRelatedContentType {
  if (header === undefined || header.trim() === '') throw new MultipartError('unsupported-media-type', 'no Content-Type: expected multipart/related');
  const parsed = parseMediaType(header);
  if (parsed === null) throw new MultipartError('bad-content-type', 'the Content-Type header cannot be parsed');
  if (parsed.mediaType !== 'multipart/related') {
    throw new MultipartError('unsupported-media-type', `Content-Type ${parsed.mediaType} is not supported: expected multipart/related`);
  }
  const boundary = parsed.parameters.get('boundary');
  // RFC 2046 5.1.1: 1 to 70 characters.
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70) {
    throw new MultipartError('bad-content-type', 'multipart/related needs a boundary parameter of 1 to 70 characters');
  }
  return {
    boundary,
    type: parsed.parameters.get('type')?.trim().toLowerCase() ?? null,
    start: parsed.parameters.get('start') ?? null,
    startInfo: parsed.parameters.get('start-info') ?? null,
  };
}

export interface MultipartPart {
  /** 0-based position in the body. */
  index: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: ReadonlyMap<string, string>;
  /** Media type of the part (lower case, no parameters), or null when the part has no Content-Type. */
  contentType: string | null;
  contentTypeParameters: ReadonlyMap<string, string>;
  /** Content-ID without angle brackets, when given. */
  contentId: string | null;
  /** The part's bytes. Read it to the end (or leave it: the reader drains it before the next part). */
  body: Readable;
}

export interface MultipartLimits {
  /** Most parts accepted in one body (default 100,000). */
  maxParts?: number;
  /** Most bytes of headers in one part (default 16 KiB). */
  maxHeaderBytes?: number;
}

type Event = { kind: 'part'; part: Dicer.PartStream; headers: Record<string, string[]> } | { kind: 'end' } | { kind: 'error'; error: MultipartError };

/**
 * Reads a multipart/related body part by part. Each part must be consumed (or abandoned) before the
 * next is requested; the reader drains an abandoned one. Throws MultipartError (truncated, malformed,
 * limits). Breaking out of the loop stops reading the body.
 */
export async function* readMultipartRelated(body: Readable, boundary: string, limits: MultipartLimits = {}): AsyncGenerator<MultipartPart, void, undefined> {
  const maxParts = limits.maxParts ?? 100_000;
  const maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
  // partHwm (not in @types/dicer): larger part buffers mean fewer pause/resume cycles per part.
  const dicer = new Dicer({ boundary, maxHeaderPairs: 100, partHwm: 1024 * 1024 } as Dicer.Config);
  const queue: Event[] = [];
  let wake: (() => void) | null = null;
  let failed = false;
  let current: Dicer.PartStream | null = null;
  const push = (e: Event) => {
    queue.push(e);
    wake?.();
    wake = null;
  };
  const fail = (error: MultipartError) => {
    if (failed) return;
    failed = true;
    push({ kind: 'error', error });
  };
  dicer.on('part', (part) => {
    // Until its headers are known a part is not handed over; a part error before that fails the body.
    part.once('header', (headers) => push({ kind: 'part', part, headers: headers as Record<string, string[]> }));
    part.on('error', (err: Error) => fail(toMultipartError(err)));
  });
  // The preamble is ignored; its errors repeat the body's, reported by dicer itself.
  dicer.on('preamble', (preamble) => preamble.on('error', () => undefined).resume());
  dicer.on('error', (err: Error) => fail(toMultipartError(err)));
  dicer.on('finish', () => push({ kind: 'end' }));
  // The request stream failing (client gone) ends the part being read too, or its reader would wait forever.
  const bodyFailed = (error: MultipartError) => {
    fail(error);
    if (current !== null && !current.readableEnded) current.destroy(error);
  };
  body.on('error', (err: Error) => bodyFailed(new MultipartError('truncated', `the request body failed: ${err.message}`, { cause: err })));
  body.on('close', () => {
    if (!body.readableEnded) bodyFailed(new MultipartError('truncated', 'the request ended before its body was complete'));
  });
  body.pipe(dicer);

  let index = 0;
  try {
    for (;;) {
      if (current !== null && !current.readableEnded) current.resume();
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const event = queue.shift()!;
      if (event.kind === 'error') throw event.error;
      if (event.kind === 'end') {
        // A failure raised while finishing (dicer reports truncation right after 'finish') wins.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const late = queue.find((e): e is Extract<Event, { kind: 'error' }> => e.kind === 'error');
        if (late) throw late.error;
        return;
      }
      if (index >= maxParts) throw new MultipartError('too-many-parts', `more than ${maxParts} parts`);
      const headers = new Map<string, string>();
      let headerBytes = 0;
      for (const [name, values] of Object.entries(event.headers)) {
        const value = values.join(', ');
        headerBytes += name.length + value.length + 4;
        headers.set(name.toLowerCase(), value);
      }
      if (headerBytes > maxHeaderBytes) throw new MultipartError('header-too-large', `part ${index} has more than ${maxHeaderBytes} bytes of headers`);
      const typeHeader = headers.get('content-type');
      const parsedType = typeHeader === undefined ? null : parseMediaType(typeHeader);
      if (typeHeader !== undefined && parsedType === null) throw new MultipartError('malformed', `part ${index} has an unreadable Content-Type`);
      const contentId = headers.get('content-id')?.trim().replace(/^<(.*)>$/, '$1') ?? null;
      current = event.part;
      yield {
        index,
        headers,
        contentType: parsedType?.mediaType ?? null,
        contentTypeParameters: parsedType?.parameters ?? new Map<string, string>(),
        contentId,
        body: event.part,
      };
      index++;
    }
  } finally {
    body.unpipe(dicer);
    if (current !== null && !current.readableEnded) current.resume();
    dicer.removeAllListeners('part');
    // Keep an error listener: dicer may still report the end of a body we stopped reading.
    dicer.on('error', () => undefined);
  }
}

function toMultipartError(err: Error): MultipartError {
  if (err instanceof MultipartError) return err;
  const truncated = /unexpected end|terminated early/i.test(err.message);
  return new MultipartError(truncated ? 'truncated' : 'malformed', truncated ? 'the multipart body ended before its closing boundary' : `malformed multipart body: ${err.message}`, { cause: err });
}
