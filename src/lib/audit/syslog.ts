// Syslog for audit messages (IHE ITI-20): RFC 5424 message format, RFC 5425 octet-counting
// framing over TLS (plus tolerance for LF-terminated "non-transparent" framing), RFC 3164 parsing
// for legacy senders.
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA BOM XML
//
// PRI = facility 10 (authpriv) * 8 + a severity derived from the event outcome; MSGID is
// "IHE+RFC-3881" (ITI TF-2 3.20.4.1.2); the MSG is the UTF-8 XML after a byte order mark.
//
// Message ids for de-duplication: a sender that may deliver a message twice (the durable sender,
// after a crash between delivery and deleting its spool file) puts a stable id in the structured
// data, as SD element MESSAGE_ID_SD_ID with parameter "id", e.g.
//   <85>1 2024-05-01T10:00:00.000Z host imageshare 1234 IHE+RFC-3881 [imageshare@32473 id="0f..."] BOM<?xml ...
// Receivers hand it to the store callback as `messageId`, so the store can ignore repeats.
import { hostname as osHostname } from 'node:os';
import { AuditParseError } from './errors.ts';
import type { EventOutcome } from './model.ts';

export const SYSLOG_FACILITY_AUTHPRIV = 10;
export const IHE_SYSLOG_MSGID = 'IHE+RFC-3881';
/**
 * SD-ID of the message-id element. 32473 is the private enterprise number that RFC 5612 reserves
 * for documentation; deployments with their own IANA enterprise number can configure another SD-ID.
 */
export const MESSAGE_ID_SD_ID = 'imageshare@32473';
export const MESSAGE_ID_SD_PARAM = 'id';
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface StructuredDataElement {
  readonly id: string;
  readonly params: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface SyslogHeaderOptions {
  /** Default: this host's name. */
  readonly hostname?: string;
  /** Default "imageshare". */
  readonly appName?: string;
  /** Default: this process id. */
  readonly procId?: string;
  /** Default IHE_SYSLOG_MSGID. */
  readonly msgId?: string;
  /** Default 10 (authpriv). */
  readonly facility?: number;
  /** Default from the outcome (see severityForOutcome), or 5 (notice). */
  readonly severity?: number;
  readonly timestamp?: Date;
  readonly structuredData?: readonly StructuredDataElement[];
}

/** Severity by outcome: success notice (5), minor failure warning (4), serious error (3), major critical (2). */
export function severityForOutcome(outcome: EventOutcome): number {
  switch (outcome) {
    case 0:
      return 5;
    case 4:
      return 4;
    case 8:
      return 3;
    case 12:
      return 2;
  }
}

/** RFC 5424 header fields are PRINTUSASCII without spaces, with a maximum length; "-" when empty. */
function headerField(value: string | undefined, maxLength: number): string {
  const cleaned = (value ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return cleaned === '' ? '-' : cleaned;
}

function sdName(value: string): string {
  // SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']', '"'
  const cleaned = value.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
  if (cleaned === '') throw new RangeError('empty structured-data name');
  return cleaned;
}

function sdId(value: string): string {
  const at = value.indexOf('@');
  if (at < 0) return sdName(value);
  return `${sdName(value.slice(0, at))}@${value.slice(at + 1).replace(/[^0-9.]/g, '')}`.slice(0, 32);
}

export function formatStructuredData(elements: readonly StructuredDataElement[] | undefined): string {
  if (!elements || elements.length === 0) return '-';
  return elements
    .map((e) => `[${sdId(e.id)}${e.params.map(([n, v]) => ` ${sdName(n)}="${v.replace(/[\\"\]]/g, (c) => `\\${c}`)}"`).join('')}]`)
    .join('');
}

/** One RFC 5424 syslog message carrying an XML audit message: header, BOM, UTF-8 XML. */
export function formatSyslogMessage(xml: string, options: SyslogHeaderOptions = {}): Buffer {
  const facility = options.facility ?? SYSLOG_FACILITY_AUTHPRIV;
  const severity = options.severity ?? 5;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new RangeError(`bad syslog facility ${facility}`);
  if (!Number.isInteger(severity) || severity < 0 || severity > 7) throw new RangeError(`bad syslog severity ${severity}`);
  const header = [
    `<${facility * 8 + severity}>1`,
    (options.timestamp ?? new Date()).toISOString(),
    headerField(options.hostname ?? osHostname(), 255),
    headerField(options.appName ?? 'imageshare', 48),
    headerField(options.procId ?? String(process.pid), 128),
    headerField(options.msgId ?? IHE_SYSLOG_MSGID, 32),
    formatStructuredData(options.structuredData),
  ].join(' ');
  return Buffer.concat([Buffer.from(`${header} `, 'ascii'), UTF8_BOM, Buffer.from(xml, 'utf8')]);
}

/** RFC 5425 octet-counting frame: "LEN SP MSG". */
export function frameOctetCounting(message: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${message.byteLength} `, 'ascii'), message]);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParsedSyslogMessage {
  readonly format: 'rfc5424' | 'rfc3164';
  readonly facility: number;
  readonly severity: number;
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly appName?: string;
  readonly procId?: string;
  readonly msgId?: string;
  readonly structuredData: readonly StructuredDataElement[];
  /** The MSG part with any UTF-8 BOM removed, as bytes (decoded later, strictly). */
  readonly msg: Buffer;
}

function bad(message: string): never {
  throw new AuditParseError('bad-syslog', message);
}

const SP = 0x20;

function readToken(buf: Buffer, start: number): { value: string; next: number } {
  const end = buf.indexOf(SP, start);
  if (end < 0 || end === start) bad('truncated syslog header');
  return { value: buf.toString('latin1', start, end), next: end + 1 };
}

function nil(value: string): string | undefined {
  return value === '-' ? undefined : value;
}

function parseStructuredData(buf: Buffer, start: number): { elements: StructuredDataElement[]; next: number } {
  if (buf[start] === 0x2d /* - */) return { elements: [], next: start + 1 };
  const elements: StructuredDataElement[] = [];
  let i = start;
  while (buf[i] === 0x5b /* [ */) {
    i++;
    let idEnd = i;
    while (idEnd < buf.length && buf[idEnd] !== SP && buf[idEnd] !== 0x5d) idEnd++;
    if (idEnd >= buf.length) bad('unterminated structured data');
    const id = buf.toString('latin1', i, idEnd);
    i = idEnd;
    const params: Array<[string, string]> = [];
    while (buf[i] === SP) {
      i++;
      const eq = buf.indexOf(0x3d /* = */, i);
      if (eq < 0 || buf[eq + 1] !== 0x22 /* " */) bad('bad structured-data parameter');
      const name = buf.toString('latin1', i, eq);
      i = eq + 2;
      const value: number[] = [];
      for (;;) {
        if (i >= buf.length) bad('unterminated structured-data value');
        const c = buf[i] as number;
        if (c === 0x5c /* \ */ && i + 1 < buf.length) {
          const n = buf[i + 1] as number;
          if (n === 0x22 || n === 0x5c || n === 0x5d) {
            value.push(n);
            i += 2;
            continue;
          }
        }
        if (c === 0x22) break;
        value.push(c);
        i++;
      }
      i++; // closing quote
      params.push([name, Buffer.from(value).toString('utf8')]);
    }
    if (buf[i] !== 0x5d /* ] */) bad('unterminated structured-data element');
    i++;
    elements.push({ id, params });
  }
  if (elements.length === 0) bad('bad structured data');
  return { elements, next: i };
}

function stripBom(msg: Buffer): Buffer {
  return msg.length >= 3 && msg[0] === 0xef && msg[1] === 0xbb && msg[2] === 0xbf ? msg.subarray(3) : msg;
}

/**
 * Parses one syslog message: RFC 5424, or (tolerated) RFC 3164 "<PRI>Mmm dd hh:mm:ss host tag: MSG",
 * where the MSG is taken from the start of the XML. Throws AuditParseError('bad-syslog').
 */
export function parseSyslogMessage(buf: Buffer): ParsedSyslogMessage {
  if (buf[0] !== 0x3c /* < */) bad('syslog message does not start with <PRI>');
  const close = buf.indexOf(0x3e /* > */, 1);
  if (close < 2 || close > 4) bad('bad syslog PRI');
  const priText = buf.toString('latin1', 1, close);
  if (!/^\d{1,3}$/.test(priText)) bad('bad syslog PRI');
  const pri = Number(priText);
  if (pri > 191) bad('syslog PRI out of range');
  const facility = Math.floor(pri / 8);
  const severity = pri % 8;
  let i = close + 1;

  if (buf[i] === 0x31 /* 1 */ && buf[i + 1] === SP) {
    i += 2;
    const timestamp = readToken(buf, i);
    const host = readToken(buf, timestamp.next);
    const app = readToken(buf, host.next);
    const proc = readToken(buf, app.next);
    const msgId = readToken(buf, proc.next);
    const sd = parseStructuredData(buf, msgId.next);
    let msgStart = sd.next;
    if (msgStart < buf.length) {
      if (buf[msgStart] !== SP) bad('missing space before MSG');
      msgStart++;
    }
    const ts = nil(timestamp.value);
    const hn = nil(host.value);
    const an = nil(app.value);
    const pid = nil(proc.value);
    const mid = nil(msgId.value);
    return {
      format: 'rfc5424',
      facility,
      severity,
      ...(ts ? { timestamp: ts } : {}),
      ...(hn ? { hostname: hn } : {}),
      ...(an ? { appName: an } : {}),
      ...(pid ? { procId: pid } : {}),
      ...(mid ? { msgId: mid } : {}),
      structuredData: sd.elements,
      msg: stripBom(buf.subarray(msgStart)),
    };
  }

  // RFC 3164: the header is free-form enough that the XML start is the reliable boundary.
  const rest = buf.subarray(i);
  let xmlAt = rest.indexOf('<?xml');
  if (xmlAt < 0) xmlAt = rest.indexOf('<AuditMessage');
  if (xmlAt < 0) bad('no XML audit message found in legacy syslog message');
  const header = rest.toString('latin1', 0, xmlAt).trim();
  const m = /^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (\S+)/.exec(header);
  return {
    format: 'rfc3164',
    facility,
    severity,
    ...(m?.[1] ? { timestamp: m[1] } : {}),
    ...(m?.[2] ? { hostname: m[2] } : {}),
    structuredData: [],
    msg: rest.subarray(xmlAt),
  };
}

/** The stable message id from the structured data, if the sender put one there. */
export function messageIdOf(parsed: ParsedSyslogMessage, sdId: string = MESSAGE_ID_SD_ID): string | undefined {
  const element = parsed.structuredData.find((e) => e.id === sdId);
  return element?.params.find(([name]) => name === MESSAGE_ID_SD_PARAM)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Stream framing (TLS/TCP)

export class SyslogFramingError extends AuditParseError {
  constructor(
    code: 'too-large' | 'bad-framing',
    message: string,
    readonly announcedBytes?: number,
  ) {
    super(code, message);
  }
}

/**
 * Splits a byte stream into syslog messages. RFC 5425 octet counting ("LEN SP MSG") is the
 * normal case; a frame that starts with "<" is read up to LF (non-transparent framing, RFC 6587),
 * which some legacy senders use. Memory is bounded by maxFrameBytes: a longer announced length or
 * an LF-framed message that grows past it throws, and the caller closes the connection.
 */
export class SyslogStreamDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet a complete frame (non-zero at end of stream = truncated frame). */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      // Stray line ends between frames (senders that add LF after octet-counted frames).
      let skip = 0;
      while (skip < this.buffer.length && (this.buffer[skip] === 0x0a || this.buffer[skip] === 0x0d)) skip++;
      if (skip) this.buffer = this.buffer.subarray(skip);
      if (this.buffer.length === 0) break;
      const first = this.buffer[0] as number;
      if (first >= 0x31 && first <= 0x39) {
        const space = this.buffer.indexOf(SP);
        const digitsEnd = space < 0 ? this.buffer.length : space;
        const digits = this.buffer.toString('latin1', 0, Math.min(digitsEnd, 11));
        if (!/^\d+$/.test(digits) || digitsEnd > 10) throw new SyslogFramingError('bad-framing', 'bad octet count');
        if (space < 0) break; // length not complete yet
        const length = Number(digits);
        if (length > this.maxFrameBytes) {
          throw new SyslogFramingError('too-large', `announced frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`, length);
        }
        if (this.buffer.length < space + 1 + length) break;
        frames.push(Buffer.from(this.buffer.subarray(space + 1, space + 1 + length)));
        this.buffer = this.buffer.subarray(space + 1 + length);
      } else if (first === 0x3c /* < */) {
        const lf = this.buffer.indexOf(0x0a);
        if (lf < 0) {
          if (this.buffer.length > this.maxFrameBytes) {
            throw new SyslogFramingError('too-large', `LF-framed message exceeds the limit of ${this.maxFrameBytes} bytes`);
          }
          break;
        }
        const end = lf > 0 && this.buffer[lf - 1] === 0x0d ? lf - 1 : lf;
        if (end > this.maxFrameBytes) throw new SyslogFramingError('too-large', `LF-framed message exceeds the limit of ${this.maxFrameBytes} bytes`);
        frames.push(Buffer.from(this.buffer.subarray(0, end)));
        this.buffer = this.buffer.subarray(lf + 1);
      } else {
        throw new SyslogFramingError('bad-framing', `unexpected byte 0x${first.toString(16)} at frame start`);
      }
    }
    // Do not keep a large parent buffer alive through a small remainder.
    if (this.buffer.length > 0 && this.buffer.byteOffset > 0) this.buffer = Buffer.from(this.buffer);
    return frames;
  }
}
