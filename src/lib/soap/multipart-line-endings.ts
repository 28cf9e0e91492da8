// Tolerance for multipart bodies written with bare LF line endings.
//
// RFC 2046 requires CRLF, and dicer only recognises "\r\n--boundary" and "\r\n\r\n" after the
// part headers. Some tools (and test vectors stored in git, like NIST's PnrXop body.txt) use LF
// only. This Transform looks at the line ending of the first boundary line: with CRLF it passes
// everything through untouched; with a bare LF it rewrites only the framing — boundary lines,
// the line break before each boundary and the part header lines — to CRLF, never the part
// content. The content bytes are therefore identical to what the sender meant: in an LF body the
// single LF before "--boundary" is the delimiter's line break, exactly as CRLF would be.
import { Transform, type TransformCallback } from 'node:stream';

type State = 'detect' | 'passthrough' | 'after-boundary' | 'headers' | 'body';

const LF = 0x0a;
const CR = 0x0d;
/** Bytes kept while looking for the first boundary before giving up and passing through. */
const MAX_PREAMBLE = 64 * 1024;
/** Longest header line buffered; longer ones are passed through (dicer bounds headers anyway). */
const MAX_HEADER_LINE = 64 * 1024;

export class MultipartLineEndingNormalizer extends Transform {
  private state: State = 'detect';
  private pending: Buffer = Buffer.alloc(0);
  private readonly dashBoundary: Buffer;
  private readonly lfDelimiter: Buffer;
  /** 'crlf' | 'lf' once detected. */
  lineEnding: 'crlf' | 'lf' | undefined;

  constructor(boundary: string) {
    super();
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
    this.lfDelimiter = Buffer.from(`\n--${boundary}`, 'latin1');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.process(false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.process(true);
    if (this.pending.length > 0) this.push(this.pending);
    this.pending = Buffer.alloc(0);
    callback();
  }

  private process(final: boolean): void {
    for (;;) {
      const before = this.pending.length;
      const prevState = this.state;
      switch (this.state) {
        case 'detect':
          this.detect(final);
          break;
        case 'passthrough':
          if (this.pending.length > 0) this.push(this.pending);
          this.pending = Buffer.alloc(0);
          return;
        case 'after-boundary':
          this.afterBoundary(final);
          break;
        case 'headers':
          this.headers(final);
          break;
        case 'body':
          this.body(final);
          break;
      }
      if (this.pending.length === before && this.state === prevState) return;
    }
  }

  private detect(final: boolean): void {
    const p = this.pending;
    let at = p.indexOf(this.dashBoundary);
    while (at > 0 && p[at - 1] !== LF) at = p.indexOf(this.dashBoundary, at + 1);
    if (at === -1) {
      if (final || p.length > MAX_PREAMBLE) this.state = 'passthrough';
      return;
    }
    const after = at + this.dashBoundary.length;
    let i = after;
    while (i < p.length && (p[i] === 0x20 || p[i] === 0x09)) i++;
    if (i + 1 >= p.length && !final) return; // need the line ending to decide
    if (p[i] === LF) {
      this.lineEnding = 'lf';
      // The preamble is dropped (it carries no meaning); the boundary starts the output.
      this.push(this.dashBoundary);
      this.pending = p.subarray(after);
      this.state = 'after-boundary';
    } else {
      // CRLF (the standard), or a degenerate body that dicer will judge on its own.
      this.lineEnding = 'crlf';
      this.state = 'passthrough';
    }
  }

  private afterBoundary(final: boolean): void {
    const p = this.pending;
    if (p.length < 2 && !final) return;
    if (p[0] === 0x2d && p[1] === 0x2d) {
      // Close delimiter: the rest is the epilogue.
      this.state = 'passthrough';
      return;
    }
    let i = 0;
    while (i < p.length && (p[i] === 0x20 || p[i] === 0x09)) i++;
    if (i >= p.length && !final) return;
    if (p[i] === CR && p[i + 1] === LF) i += 2;
    else if (p[i] === LF) i += 1;
    this.push(Buffer.from('\r\n'));
    this.pending = p.subarray(i);
    this.state = 'headers';
  }

  private headers(final: boolean): void {
    const p = this.pending;
    const nl = p.indexOf(LF);
    if (nl === -1) {
      if (final || p.length > MAX_HEADER_LINE) {
        this.push(p);
        this.pending = Buffer.alloc(0);
        if (!final) this.state = 'body';
      }
      return;
    }
    const lineEnd = nl > 0 && p[nl - 1] === CR ? nl - 1 : nl;
    if (lineEnd > 0) this.push(p.subarray(0, lineEnd));
    this.push(Buffer.from('\r\n'));
    this.pending = p.subarray(nl + 1);
    if (lineEnd === 0) this.state = 'body'; // empty line ends the header block
  }

  private body(final: boolean): void {
    const p = this.pending;
    const at = p.indexOf(this.lfDelimiter);
    if (at === -1) {
      // Keep a tail that could be the start of a delimiter split across chunks.
      const keep = final ? 0 : Math.min(p.length, this.lfDelimiter.length - 1);
      if (p.length - keep > 0) this.push(p.subarray(0, p.length - keep));
      this.pending = p.subarray(p.length - keep);
      return;
    }
    const contentEnd = at > 0 && p[at - 1] === CR ? at - 1 : at;
    if (contentEnd > 0) this.push(p.subarray(0, contentEnd));
    this.push(Buffer.from('\r\n'));
    this.push(this.dashBoundary);
    this.pending = p.subarray(at + this.lfDelimiter.length);
    this.state = 'after-boundary';
  }
}
