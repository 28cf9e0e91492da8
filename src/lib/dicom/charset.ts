// Decoding of DICOM character strings (PN, LO, SH, ST, LT, UT, UC) under Specific Character Set (0008,0005).
//
// Single-character-set decoding is table lookup (ISO 8859 tables taken once from iconv-lite) or a
// WHATWG TextDecoder (UTF-8, GB18030, GBK, EUC-JP/EUC-KR for the ISO 2022 multi-byte sets). The ISO 2022
// code-extension state machine is ours: PS3.5 6.1.2.5 and PS3.3 C.12.1.1.2 (Tables C.12-2 to C.12-5).
//
// Deliberate choices:
// - Unknown terms fall back to ISO 8859-1 and are reported in `unknownTerms`; decoding never throws.
// - Bytes >= 0x80 with no G1 set designated (default repertoire) decode as ISO 8859-1, as most toolkits do.
// - In multi-valued VRs the byte 0x5C is the value delimiter and decodes as '\' even under JIS X 0201
//   Romaji (where DCMTK shows it as YEN SIGN), so callers can always split values on '\'.
// - Escape sequences are honoured for any set this module knows, declared in (0008,0005) or not.
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';

/** The VRs whose values are affected by Specific Character Set. */
export type CharsetTextVr = 'PN' | 'LO' | 'SH' | 'ST' | 'LT' | 'UT' | 'UC';

export interface SpecificCharacterSet {
  /** The values of (0008,0005) as given, trimmed; `['']` for the default repertoire. */
  readonly values: readonly string[];
  /** True when ISO 2022 escape sequences are interpreted (the "ISO 2022 IR ..." forms). */
  readonly codeExtensions: boolean;
  /** Terms this module does not know; their bytes were decoded as ISO 8859-1. */
  readonly unknownTerms: readonly string[];
  /** Known terms that cannot be combined with the others (e.g. a second value next to ISO_IR 192). */
  readonly ignoredTerms: readonly string[];
  /** Decodes one element value (all its values, '\'-separated as in the bytes). Never throws. */
  decode(bytes: Uint8Array, vr?: CharsetTextVr): string;
}

const ESC = 0x1b;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const EQUALS = 0x3d;
const REPLACEMENT = '\uFFFD';

// ---------------------------------------------------------------------------------------------
// Code elements: the graphic character sets that ISO 2022 designates into G0 (bytes 0x21-0x7E)
// or G1 (bytes 0xA0-0xFF).

interface CodeElement {
  readonly name: string;
  readonly slot: 'G0' | 'G1';
  readonly multiByte: boolean;
  /** Single-byte sets: the characters for bytes 0x00-0x7F (G0) or 0x80-0xFF (G1), one UTF-16 unit each. */
  readonly table?: string;
  /** Multi-byte sets: decodes a run of bytes that all belong to this set's half (GL or GR). */
  readonly decodeRun?: (bytes: Uint8Array, start: number, end: number) => string;
}

const textDecoders = new Map<string, TextDecoder>();
function textDecoder(label: string): TextDecoder {
  let decoder = textDecoders.get(label);
  if (decoder === undefined) {
    decoder = new TextDecoder(label);
    textDecoders.set(label, decoder);
  }
  return decoder;
}

function asciiTable(): string {
  let s = '';
  for (let b = 0; b < 0x80; b++) s += String.fromCharCode(b);
  return s;
}

/** Upper half (0x80-0xFF) of an ISO 8859-style code page, from iconv-lite's exact tables. */
function upperHalfTable(iconvName: string): string {
  const bytes = Buffer.alloc(0x80);
  for (let i = 0; i < 0x80; i++) bytes[i] = 0x80 + i;
  const s = iconv.decode(bytes, iconvName);
  if (s.length !== 0x80) throw new Error(`unexpected table length for ${iconvName}`);
  return s;
}

function katakanaTable(): string {
  let s = '';
  for (let b = 0x80; b < 0x100; b++) s += b >= 0xa1 && b <= 0xdf ? String.fromCharCode(0xff61 + (b - 0xa1)) : REPLACEMENT;
  return s;
}

/** JIS X 0208 / 0212 bytes in GL (0x21-0x7E pairs) decoded by mapping them onto EUC-JP. */
function jisRunDecoder(prefix: number | null): (bytes: Uint8Array, start: number, end: number) => string {
  return (bytes, start, end) => {
    const pairs = (end - start) >> 1;
    const width = prefix === null ? 2 : 3;
    const euc = new Uint8Array(pairs * width);
    let o = 0;
    for (let i = start; i + 1 < end; i += 2) {
      if (prefix !== null) euc[o++] = prefix;
      euc[o++] = bytes[i]! | 0x80;
      euc[o++] = bytes[i + 1]! | 0x80;
    }
    const text = textDecoder('euc-jp').decode(euc);
    return (end - start) % 2 === 1 ? text + REPLACEMENT : text;
  };
}

/** Multi-byte sets invoked in GR: the bytes already are EUC-KR / EUC-CN. */
function grRunDecoder(label: string): (bytes: Uint8Array, start: number, end: number) => string {
  return (bytes, start, end) => textDecoder(label).decode(bytes.subarray(start, end));
}

type CodeElementId =
  | 'IR6' | 'IR14' | 'IR13' | 'IR100' | 'IR101' | 'IR109' | 'IR110' | 'IR144' | 'IR127' | 'IR126' | 'IR138'
  | 'IR148' | 'IR203' | 'IR166' | 'IR87' | 'IR159' | 'IR149' | 'IR58';

const ISO8859_OF: Partial<Record<CodeElementId, string>> = {
  IR100: 'iso-8859-1', IR101: 'iso-8859-2', IR109: 'iso-8859-3', IR110: 'iso-8859-4', IR144: 'iso-8859-5',
  IR127: 'iso-8859-6', IR126: 'iso-8859-7', IR138: 'iso-8859-8', IR148: 'iso-8859-9', IR203: 'iso-8859-15',
  IR166: 'tis-620',
};

const codeElementCache = new Map<CodeElementId, CodeElement>();

/** Built lazily: most processes only ever meet ASCII and Latin-1. */
function codeElement(id: CodeElementId): CodeElement {
  const cached = codeElementCache.get(id);
  if (cached !== undefined) return cached;
  let element: CodeElement;
  const iso8859 = ISO8859_OF[id];
  if (iso8859 !== undefined) element = { name: id, slot: 'G1', multiByte: false, table: upperHalfTable(iso8859) };
  else if (id === 'IR6') element = { name: id, slot: 'G0', multiByte: false, table: asciiTable() };
  else if (id === 'IR14') {
    // JIS X 0201 Romaji: ASCII except YEN SIGN for 0x5C and OVERLINE for 0x7E.
    const t = asciiTable();
    element = { name: id, slot: 'G0', multiByte: false, table: t.slice(0, 0x5c) + '\u00a5' + t.slice(0x5d, 0x7e) + '\u203e' + t.slice(0x7f) };
  } else if (id === 'IR13') element = { name: id, slot: 'G1', multiByte: false, table: katakanaTable() };
  else if (id === 'IR87') element = { name: id, slot: 'G0', multiByte: true, decodeRun: jisRunDecoder(null) };
  else if (id === 'IR159') element = { name: id, slot: 'G0', multiByte: true, decodeRun: jisRunDecoder(0x8f) };
  else if (id === 'IR149') element = { name: id, slot: 'G1', multiByte: true, decodeRun: grRunDecoder('euc-kr') };
  else element = { name: id, slot: 'G1', multiByte: true, decodeRun: grRunDecoder('gb18030') }; // IR58 (GB 2312)
  codeElementCache.set(id, element);
  return element;
}

/** ISO 2022 escape sequences (bytes after ESC) for each code element (PS3.3 Tables C.12-3 and C.12-4). */
const ESCAPE_SEQUENCES: ReadonlyArray<readonly [readonly number[], CodeElementId]> = [
  [[0x28, 0x42], 'IR6'], // ESC ( B
  [[0x28, 0x4a], 'IR14'], // ESC ( J
  [[0x29, 0x49], 'IR13'], // ESC ) I
  [[0x2d, 0x41], 'IR100'], // ESC - A
  [[0x2d, 0x42], 'IR101'],
  [[0x2d, 0x43], 'IR109'],
  [[0x2d, 0x44], 'IR110'],
  [[0x2d, 0x4c], 'IR144'],
  [[0x2d, 0x47], 'IR127'],
  [[0x2d, 0x46], 'IR126'],
  [[0x2d, 0x48], 'IR138'],
  [[0x2d, 0x4d], 'IR148'],
  [[0x2d, 0x62], 'IR203'],
  [[0x2d, 0x54], 'IR166'],
  [[0x24, 0x42], 'IR87'], // ESC $ B
  [[0x24, 0x40], 'IR87'], // ESC $ @ (JIS C 6226-1978): seen in old Japanese data, decoded as JIS X 0208
  [[0x24, 0x28, 0x44], 'IR159'], // ESC $ ( D
  [[0x24, 0x29, 0x43], 'IR149'], // ESC $ ) C
  [[0x24, 0x29, 0x41], 'IR58'], // ESC $ ) A
];

function matchEscape(bytes: Uint8Array, escAt: number): { element: CodeElementId; length: number } | null {
  for (const [seq, element] of ESCAPE_SEQUENCES) {
    if (escAt + seq.length >= bytes.length) continue;
    let ok = true;
    for (let k = 0; k < seq.length; k++) {
      if (bytes[escAt + 1 + k] !== seq[k]) {
        ok = false;
        break;
      }
    }
    if (ok) return { element, length: seq.length + 1 };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Defined terms of (0008,0005).

interface TermDefinition {
  /** Initial G0 and G1 when this term is value 1. */
  readonly g0: CodeElementId;
  readonly g1: CodeElementId | null;
  readonly iso2022: boolean;
}

const SINGLE_BYTE_TERMS: Record<string, TermDefinition> = {};
for (const [num, g1] of [
  ['100', 'IR100'], ['101', 'IR101'], ['109', 'IR109'], ['110', 'IR110'], ['144', 'IR144'], ['127', 'IR127'],
  ['126', 'IR126'], ['138', 'IR138'], ['148', 'IR148'], ['203', 'IR203'], ['166', 'IR166'], ['13', 'IR13'],
] as const) {
  const g0: CodeElementId = num === '13' ? 'IR14' : 'IR6';
  SINGLE_BYTE_TERMS[`ISO_IR ${num}`] = { g0, g1, iso2022: false };
  SINGLE_BYTE_TERMS[`ISO 2022 IR ${num}`] = { g0, g1, iso2022: true };
}
SINGLE_BYTE_TERMS[''] = { g0: 'IR6', g1: null, iso2022: false };
SINGLE_BYTE_TERMS['ISO 2022 IR 6'] = { g0: 'IR6', g1: null, iso2022: true };
// Multi-byte sets are normally designated by escape sequences. As value 1 the G0 sets (87, 159) cannot be
// the initial set, because delimiters must stay ASCII; G1 sets (149, 58) can and often are (Korean data
// without escapes), so they start designated.
SINGLE_BYTE_TERMS['ISO 2022 IR 87'] = { g0: 'IR6', g1: null, iso2022: true };
SINGLE_BYTE_TERMS['ISO 2022 IR 159'] = { g0: 'IR6', g1: null, iso2022: true };
SINGLE_BYTE_TERMS['ISO 2022 IR 149'] = { g0: 'IR6', g1: 'IR149', iso2022: true };
SINGLE_BYTE_TERMS['ISO 2022 IR 58'] = { g0: 'IR6', g1: 'IR58', iso2022: true };

/** Terms that define a whole-string encoding and allow no code extensions. */
const WHOLE_STRING_TERMS: Record<string, string> = { 'ISO_IR 192': 'utf-8', GB18030: 'gb18030', GBK: 'gbk' };

/** Accepts the spellings seen in the wild that are unambiguous ('ISO-IR 100', 'ISO_IR100', lower case). */
export function normalizeCharsetTerm(term: string): string {
  const t = term.trim().toUpperCase();
  let m = /^ISO[-_ ]?2022[-_ ]?IR[-_ ]?(\d+)$/.exec(t);
  if (m) return `ISO 2022 IR ${m[1]}`;
  m = /^ISO[-_ ]?IR[-_ ]?(\d+)$/.exec(t);
  if (m) return m[1] === '6' ? '' : `ISO_IR ${m[1]}`; // "ISO_IR 6" is not a defined term but means the default
  if (t === 'GB 18030') return 'GB18030';
  return t;
}

function isKnownTerm(term: string): boolean {
  return term in SINGLE_BYTE_TERMS || term in WHOLE_STRING_TERMS;
}

// ---------------------------------------------------------------------------------------------
// Decoders.

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

function latin1(bytes: Uint8Array): string {
  if (bytes.length < 32) {
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Decodes bytes as ISO 8859-1 (one char per byte): also the lossless "raw" form of a value. */
export function decodeLatin1(bytes: Uint8Array): string {
  return latin1(bytes);
}

function valuesAreMultiple(vr: CharsetTextVr | undefined): boolean {
  return vr !== 'ST' && vr !== 'LT' && vr !== 'UT';
}

class WholeStringCharset implements SpecificCharacterSet {
  readonly codeExtensions = false;
  constructor(
    readonly values: readonly string[],
    private readonly label: string,
    readonly unknownTerms: readonly string[],
    readonly ignoredTerms: readonly string[],
  ) {}

  decode(bytes: Uint8Array): string {
    // GB18030/GBK trail bytes can be 0x5C ('\'), so decode the whole value before anyone splits it.
    if (isAscii(bytes)) return latin1(bytes);
    return textDecoder(this.label).decode(bytes);
  }
}

/**
 * Single-byte and ISO 2022 decoding. With code extensions off this is the same machine with escape
 * sequences left uninterpreted, which is exactly the single-byte-without-extensions behaviour.
 */
class Iso2022Charset implements SpecificCharacterSet {
  private readonly initialG0: CodeElement;
  private readonly initialG1: CodeElement | null;
  /** Default repertoire or ISO 8859-1 in GR: every byte maps to the same code point. */
  private readonly identityMapping: boolean;

  constructor(
    readonly values: readonly string[],
    initial: TermDefinition,
    readonly codeExtensions: boolean,
    readonly unknownTerms: readonly string[],
    readonly ignoredTerms: readonly string[],
  ) {
    this.initialG0 = codeElement(initial.g0);
    this.initialG1 = initial.g1 === null ? null : codeElement(initial.g1);
    this.identityMapping = initial.g0 === 'IR6' && (initial.g1 === null || initial.g1 === 'IR100');
  }

  decode(bytes: Uint8Array, vr?: CharsetTextVr): string {
    if (this.identityMapping && (!this.codeExtensions || bytes.indexOf(ESC) < 0)) return latin1(bytes);
    if (this.initialG0.name === 'IR6' && isAscii(bytes) && (!this.codeExtensions || bytes.indexOf(ESC) < 0)) return latin1(bytes);
    return this.decodeWithState(bytes, vr);
  }

  private decodeWithState(bytes: Uint8Array, vr: CharsetTextVr | undefined): string {
    const backslashDelimits = valuesAreMultiple(vr);
    const isPersonName = vr === 'PN';
    let g0 = this.initialG0;
    let g1 = this.initialG1;
    let out = '';
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      const b = bytes[i]!;
      if (b === ESC && this.codeExtensions) {
        const match = matchEscape(bytes, i);
        if (match === null) {
          out += REPLACEMENT;
          i++;
          continue;
        }
        const element = codeElement(match.element);
        if (element.slot === 'G0') g0 = element;
        else g1 = element;
        i += match.length;
        continue;
      }
      if (b < 0x80) {
        if (g0.multiByte && b > 0x20 && b < 0x7f) {
          // In a multi-byte G0 set '\', '^' and '=' bytes are halves of characters, not delimiters:
          // a conformant writer switches back to ASCII before every delimiter.
          let j = i + 1;
          while (j < n && bytes[j]! > 0x20 && bytes[j]! < 0x7f) j++;
          out += g0.decodeRun!(bytes, i, j);
          i = j;
          continue;
        }
        const isDelimiter =
          (b < 0x20 && b !== ESC) || (b === BACKSLASH && backslashDelimits) || (isPersonName && (b === CARET || b === EQUALS));
        if (isDelimiter) {
          // PS3.5 6.1.2.5.3: the initial sets are active again at each delimiter and control character.
          g0 = this.initialG0;
          g1 = this.initialG1;
          out += String.fromCharCode(b);
        } else if (g0.multiByte) {
          out += String.fromCharCode(b); // space and DEL inside a multi-byte G0 run
        } else {
          out += g0.table!.charAt(b);
        }
        i++;
        continue;
      }
      if (g1 === null) {
        out += String.fromCharCode(b); // no G1 designated: lenient ISO 8859-1
        i++;
      } else if (g1.multiByte) {
        let j = i;
        while (j < n && bytes[j]! >= 0xa1 && bytes[j]! <= 0xfe) j++;
        if (j === i) {
          out += REPLACEMENT;
          i++;
        } else {
          out += g1.decodeRun!(bytes, i, j);
          i = j;
        }
      } else {
        out += g1.table!.charAt(b - 0x80);
        i++;
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Public entry points.

const charsetCache = new Map<string, SpecificCharacterSet>();
const CHARSET_CACHE_LIMIT = 256;

function splitCharsetValue(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [''];
  const parts = typeof value === 'string' ? value.split('\\') : [...value];
  const trimmed = parts.map((p) => p.replace(/[\s\0]+$/, '').replace(/^\s+/, ''));
  // Trailing empty values carry no meaning; an empty value 1 does (default repertoire).
  while (trimmed.length > 1 && trimmed[trimmed.length - 1] === '') trimmed.pop();
  return trimmed.length === 0 ? [''] : trimmed;
}

function buildCharset(values: string[]): SpecificCharacterSet {
  const terms = values.map(normalizeCharsetTerm);
  const unknownTerms = values.filter((_, i) => !isKnownTerm(terms[i]!));

  const wholeIndex = terms.findIndex((t) => t in WHOLE_STRING_TERMS);
  if (wholeIndex >= 0) {
    // ISO_IR 192 / GB18030 / GBK allow no other value; a stray empty value 1 ("\ISO_IR 192") is tolerated.
    const ignored = values.filter((_, i) => i !== wholeIndex && terms[i] !== '' && isKnownTerm(terms[i]!));
    return new WholeStringCharset(values, WHOLE_STRING_TERMS[terms[wholeIndex]!]!, unknownTerms, ignored);
  }

  const first = terms[0]!;
  const initial = SINGLE_BYTE_TERMS[first] ?? SINGLE_BYTE_TERMS['']!;
  const codeExtensions = terms.length > 1 || terms.some((t) => t.startsWith('ISO 2022'));
  return new Iso2022Charset(values, initial, codeExtensions, unknownTerms, []);
}

/**
 * Interprets the value(s) of Specific Character Set (0008,0005): a raw string ("\ISO 2022 IR 87"),
 * the list of values, or null/undefined/'' for the default repertoire. Results are cached.
 */
export function getSpecificCharacterSet(value: string | readonly string[] | null | undefined): SpecificCharacterSet {
  const values = splitCharsetValue(value);
  const key = values.join('\\');
  let charset = charsetCache.get(key);
  if (charset === undefined) {
    charset = buildCharset(values);
    if (charsetCache.size >= CHARSET_CACHE_LIMIT) charsetCache.clear();
    charsetCache.set(key, charset);
  }
  return charset;
}

/** Convenience: decode one value's bytes under the given (0008,0005) value. */
export function decodeDicomString(
  bytes: Uint8Array,
  specificCharacterSet: string | readonly string[] | null | undefined,
  vr?: CharsetTextVr,
): string {
  return getSpecificCharacterSet(specificCharacterSet).decode(bytes, vr);
}

/** Splits a decoded value into its values; ST, LT and UT are single-valued (backslash is text there). */
export function splitDicomValues(decoded: string, vr?: CharsetTextVr): string[] {
  return valuesAreMultiple(vr) ? decoded.split('\\') : [decoded];
}

/** Every defined term this module decodes, for diagnostics and configuration checks. */
export const SUPPORTED_CHARACTER_SET_TERMS: readonly string[] = [
  ...Object.keys(SINGLE_BYTE_TERMS),
  ...Object.keys(WHOLE_STRING_TERMS),
].sort();
