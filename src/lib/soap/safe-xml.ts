// Strict, non-validating XML 1.0 + Namespaces reader for untrusted network input.
//
// Why not fast-xml-parser for this: measured on fast-xml-parser 5.12.1, its validator accepts
// a DOCTYPE, several root elements, text after the root and `<` inside attribute values; its
// parser leaves undeclared entity references (`&foo;`) in the text; it has no namespace
// resolution (we must compare namespace URIs, not prefixes); and a 16 MB text node (an inline
// base64 document) takes ~3 s to parse. This reader does all checks in one pass and stays
// linear (16 MB in tens of milliseconds).
//
// Security rules (DESIGN.md "Input"): any DTD construct (<!DOCTYPE, <!ENTITY, ...) is refused,
// so no entity is ever declared or expanded; only the five predefined entities and numeric
// character references are decoded; bytes, depth, attributes per element and element count
// are bounded; bytes that are not valid in the declared encoding are refused; characters that
// XML 1.0 forbids are refused. The tree is built without recursion (no stack overflow on deep input).
import { XmlParseError, type XmlErrorCode, type XmlPosition } from './errors.ts';
import { XML_NS, XMLNS_NS, type QName } from './namespaces.ts';

export interface XmlLimits {
  /** Largest accepted document in bytes (before decoding). */
  maxBytes: number;
  /** Deepest element nesting (the root is depth 1). */
  maxDepth: number;
  /** Most attributes (namespace declarations included) on one element. */
  maxAttributes: number;
  /** Most elements in one document. */
  maxElements: number;
  /** Longest element or attribute name. */
  maxNameLength: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 100,
  maxAttributes: 256,
  maxElements: 2_000_000,
  maxNameLength: 512,
});

export interface XmlAttribute {
  /** Namespace URI; '' for unprefixed attributes (they are in no namespace). */
  readonly ns: string;
  readonly local: string;
  readonly prefix: string;
  readonly value: string;
}

/** The in-scope namespace bindings of an element, chained to its parent's. */
export interface NamespaceScope {
  readonly bindings: ReadonlyMap<string, string>;
  readonly parent: NamespaceScope | undefined;
}

export type XmlNode = XmlElement | string;

export interface XmlElement {
  /** Namespace URI; '' when the element is in no namespace. */
  readonly ns: string;
  readonly local: string;
  /** Prefix as written; for diagnostics only, never for matching. */
  readonly prefix: string;
  /** Attributes other than namespace declarations. */
  readonly attributes: readonly XmlAttribute[];
  /** Child elements and text (CDATA merged into text; comments and PIs dropped). */
  readonly children: XmlNode[];
  readonly scope: NamespaceScope;
}

export interface XmlDocument {
  readonly root: XmlElement;
  /** The encoding the bytes were decoded with. */
  readonly encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'iso-8859-1';
}

export interface ParseXmlOptions {
  limits?: Partial<XmlLimits>;
  /** charset parameter of the MIME Content-Type; it wins over the XML declaration (RFC 7303 §3.2). */
  charset?: string;
}

const NO_ATTRIBUTES: XmlAttribute[] = [];
const ROOT_SCOPE: NamespaceScope = { bindings: new Map([['xml', XML_NS]]), parent: undefined };

const PREDEFINED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

// XML 1.0 (5th ed.) NameStartChar / NameChar without ':' (NCName), BMP only.
const NC_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NC_CHAR = `${NC_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
// The Name productions include ZWNJ/ZWJ and combining marks on purpose (XML 1.0 §2.3).
/* eslint-disable no-misleading-character-class */
const QNAME_STICKY = new RegExp(`[${NC_START}][${NC_CHAR}]*(?::[${NC_START}][${NC_CHAR}]*)?`, 'y');
const PI_TARGET_STICKY = new RegExp(`[${NC_START}:][${NC_CHAR}:]*`, 'y');
const ENTITY_NAME = new RegExp(`^[${NC_START}:][${NC_CHAR}:]*$`);
/* eslint-enable no-misleading-character-class */
// Anything outside the XML 1.0 Char production (the `u` flag makes lone surrogates match too).
const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Decodes bytes (checking the encoding strictly) and parses them. */
export function parseXml(input: Uint8Array | string, options: ParseXmlOptions = {}): XmlDocument {
  const limits: XmlLimits = { ...DEFAULT_XML_LIMITS, ...options.limits };
  if (typeof input === 'string') {
    if (Buffer.byteLength(input, 'utf8') > limits.maxBytes) {
      throw new XmlParseError('XML_LIMIT_EXCEEDED', `document larger than ${limits.maxBytes} bytes`, undefined, true);
    }
    return { root: parseXmlText(input, limits), encoding: 'utf-8' };
  }
  if (input.byteLength > limits.maxBytes) {
    throw new XmlParseError('XML_LIMIT_EXCEEDED', `document larger than ${limits.maxBytes} bytes`, undefined, true);
  }
  const { text, encoding } = decodeXmlBytes(input, options.charset);
  return { root: parseXmlText(text, limits), encoding };
}

type SupportedEncoding = XmlDocument['encoding'];

function normaliseCharset(name: string): SupportedEncoding | 'utf-16' | undefined {
  switch (name.trim().toLowerCase()) {
    case 'utf-8':
    case 'utf8':
    case 'us-ascii': // a subset of UTF-8: decoding strictly as UTF-8 is correct for valid input
    case 'ascii':
      return 'utf-8';
    case 'utf-16':
      return 'utf-16';
    case 'utf-16le':
      return 'utf-16le';
    case 'utf-16be':
      return 'utf-16be';
    case 'iso-8859-1':
    case 'latin1':
    case 'iso_8859-1':
      return 'iso-8859-1';
    default:
      return undefined;
  }
}

/** Reads `encoding="..."` from an ASCII-compatible XML declaration, if there is one. */
function declaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 200)).toString('latin1');
  if (!head.startsWith('<?xml')) return undefined;
  const end = head.indexOf('?>');
  const decl = end === -1 ? head : head.slice(0, end);
  const m = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(decl);
  return m ? (m[1] ?? m[2]) : undefined;
}

function byteOrderMark(bytes: Uint8Array): SupportedEncoding | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return undefined;
}

function decodeXmlBytes(bytes: Uint8Array, charset: string | undefined): { text: string; encoding: SupportedEncoding } {
  const bom = byteOrderMark(bytes);
  // Without a BOM, '<' followed by a zero byte (or the reverse) can only be UTF-16 (XML 1.0 Appendix F).
  const sniffed = bom ?? (bytes[0] === 0x3c && bytes[1] === 0 ? 'utf-16le' : bytes[0] === 0 && bytes[1] === 0x3c ? 'utf-16be' : undefined);
  const label = charset ?? (sniffed === undefined || sniffed === 'utf-8' ? declaredEncoding(bytes) : undefined);
  let encoding: SupportedEncoding | 'utf-16' | undefined;
  if (label !== undefined) {
    encoding = normaliseCharset(label);
    if (encoding === undefined) throw new XmlParseError('XML_ENCODING', `unsupported character encoding '${label.slice(0, 40)}'`);
  }
  // "UTF-16" without a BOM is big-endian (RFC 2781 §4.3).
  if (encoding === 'utf-16') encoding = sniffed === 'utf-16le' ? 'utf-16le' : 'utf-16be';
  encoding ??= sniffed ?? 'utf-8';
  if (bom !== undefined && bom !== encoding) {
    throw new XmlParseError('XML_ENCODING', `byte order mark (${bom}) contradicts the declared encoding (${encoding})`);
  }
  if (encoding === 'iso-8859-1') {
    return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding };
  }
  try {
    // fatal: overlong forms, encoded surrogates, truncated sequences throw instead of becoming U+FFFD.
    return { text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding };
  } catch {
    throw new XmlParseError('XML_ENCODING', `input is not valid ${encoding}`);
  }
}

interface OpenElement {
  element: XmlElement;
  qname: string;
}

/** Parses already-decoded XML text. */
export function parseXmlText(input: string, limitsIn: Partial<XmlLimits> = {}): XmlElement {
  const limits: XmlLimits = { ...DEFAULT_XML_LIMITS, ...limitsIn };
  return new XmlReader(input, limits).read();
}

class XmlReader {
  private readonly s: string;
  private pos = 0;
  private elementCount = 0;
  private readonly stack: OpenElement[] = [];
  private root: XmlElement | undefined;

  constructor(
    input: string,
    private readonly limits: XmlLimits,
  ) {
    // A byte-order mark decoded by a caller that kept it is not part of the document.
    let s = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
    const bad = ILLEGAL_CHAR.exec(s);
    if (bad) {
      this.s = s;
      this.fail('XML_MALFORMED', `character U+${(bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, bad.index);
    }
    // XML 1.0 §2.11: end-of-line handling before parsing.
    if (s.includes('\r')) s = s.replace(/\r\n?/g, '\n');
    this.s = s;
  }

  read(): XmlElement {
    const s = this.s;
    this.readXmlDeclaration();
    const len = s.length;
    while (this.pos < len) {
      const lt = s.indexOf('<', this.pos);
      const textEnd = lt === -1 ? len : lt;
      if (textEnd > this.pos) this.readText(this.pos, textEnd);
      if (lt === -1) break;
      this.pos = lt;
      const next = s.charCodeAt(lt + 1);
      if (next === 0x2f /* / */) this.readEndTag();
      else if (next === 0x3f /* ? */) this.readProcessingInstruction();
      else if (next === 0x21 /* ! */) this.readBangConstruct();
      else this.readStartTag();
    }
    const open = this.stack[this.stack.length - 1];
    if (open) this.fail('XML_MALFORMED', `unexpected end of document: <${open.qname}> is not closed`, len);
    if (!this.root) this.fail('XML_MALFORMED', 'document has no root element', len);
    return this.root;
  }

  private position(offset: number): XmlPosition {
    let line = 1;
    let lineStart = 0;
    const end = Math.min(offset, this.s.length);
    for (let i = this.s.indexOf('\n'); i !== -1 && i < end; i = this.s.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return { offset, line, column: end - lineStart + 1 };
  }

  private fail(code: XmlErrorCode, message: string, offset = this.pos): never {
    throw new XmlParseError(code, message, this.position(offset));
  }

  private readXmlDeclaration(): void {
    const s = this.s;
    if (!s.startsWith('<?xml') || !/[\s?]/.test(s.charAt(5))) return;
    const end = s.indexOf('?>', 5);
    if (end === -1) this.fail('XML_MALFORMED', 'unterminated XML declaration');
    const body = s.slice(5, end);
    const re = /^\s+version\s*=\s*(["'])1\.[0-9]+\1(?:\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\3)?\s*$/;
    if (!re.test(body)) this.fail('XML_MALFORMED', 'malformed XML declaration');
    this.pos = end + 2;
  }

  private readText(start: number, end: number): void {
    const raw = this.s.slice(start, end);
    const open = this.stack[this.stack.length - 1];
    if (!open) {
      // Outside the root only whitespace may appear.
      if (!/^[ \t\n]*$/.test(raw)) {
        this.fail('XML_MALFORMED', this.root ? 'text after the root element' : 'text before the root element', start);
      }
      return;
    }
    const cdataEnd = raw.indexOf(']]>');
    if (cdataEnd !== -1) this.fail('XML_MALFORMED', "']]>' is not allowed in character data", start + cdataEnd);
    this.appendText(open.element, this.decodeReferences(raw, start));
  }

  private appendText(element: XmlElement, text: string): void {
    if (text.length === 0) return;
    const children = element.children;
    const last = children.length - 1;
    const prev = children[last];
    if (typeof prev === 'string') children[last] = prev + text;
    else children.push(text);
  }

  /** Decodes the five predefined entities and character references; anything else is refused. */
  private decodeReferences(raw: string, offset: number): string {
    let amp = raw.indexOf('&');
    if (amp === -1) return raw;
    let out = '';
    let from = 0;
    while (amp !== -1) {
      out += raw.slice(from, amp);
      const semi = raw.indexOf(';', amp + 1);
      const name = semi === -1 || semi - amp > 40 ? undefined : raw.slice(amp + 1, semi);
      if (name === undefined || name.length === 0) this.fail('XML_MALFORMED', "'&' must start an entity or character reference", offset + amp);
      const predefined = PREDEFINED_ENTITIES.get(name);
      if (predefined !== undefined) {
        out += predefined;
      } else if (name.charCodeAt(0) === 0x23 /* # */) {
        const m = /^#(?:([0-9]{1,7})|x([0-9A-Fa-f]{1,6}))$/.exec(name);
        const cp = m ? (m[1] !== undefined ? Number.parseInt(m[1], 10) : Number.parseInt(m[2] ?? '', 16)) : NaN;
        if (!isXmlChar(cp)) this.fail('XML_MALFORMED', `invalid character reference &${name};`, offset + amp);
        out += String.fromCodePoint(cp);
      } else if (ENTITY_NAME.test(name)) {
        // Only a DTD could declare it, and DTDs are refused: never expand, always reject.
        this.fail('XML_ENTITY_FORBIDDEN', `undeclared entity reference &${name}; (DTDs and entities are not accepted)`, offset + amp);
      } else {
        this.fail('XML_MALFORMED', `malformed reference &${name.slice(0, 20)};`, offset + amp);
      }
      from = semi + 1;
      amp = raw.indexOf('&', from);
    }
    return out + raw.slice(from);
  }

  private readName(what: string): string {
    QNAME_STICKY.lastIndex = this.pos;
    const m = QNAME_STICKY.exec(this.s);
    if (!m) this.fail('XML_MALFORMED', `expected ${what}`);
    const name = m[0];
    if (name.length > this.limits.maxNameLength) this.fail('XML_LIMIT_EXCEEDED', `${what} longer than ${this.limits.maxNameLength} characters`);
    this.pos += name.length;
    return name;
  }

  private skipWhitespace(): boolean {
    const s = this.s;
    const start = this.pos;
    let c = s.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x09) c = s.charCodeAt(++this.pos);
    return this.pos > start;
  }

  private readStartTag(): void {
    const tagStart = this.pos;
    if (this.root && this.stack.length === 0) this.fail('XML_MALFORMED', 'a document has exactly one root element');
    this.pos++; // '<'
    const qname = this.readName('element name');
    const rawAttributes: Array<{ name: string; value: string; offset: number }> = [];
    const s = this.s;
    for (;;) {
      const hadSpace = this.skipWhitespace();
      const c = s.charCodeAt(this.pos);
      if (c === 0x3e /* > */ || c === 0x2f /* / */) break;
      if (Number.isNaN(c)) this.fail('XML_MALFORMED', `unterminated start tag <${qname}>`, tagStart);
      if (!hadSpace) this.fail('XML_MALFORMED', 'whitespace required between attributes');
      const offset = this.pos;
      const name = this.readName('attribute name');
      this.skipWhitespace();
      if (s.charCodeAt(this.pos) !== 0x3d /* = */) this.fail('XML_MALFORMED', `attribute '${name}' has no value`);
      this.pos++;
      this.skipWhitespace();
      const quote = s.charAt(this.pos);
      if (quote !== '"' && quote !== "'") this.fail('XML_MALFORMED', `value of attribute '${name}' must be quoted`);
      const close = s.indexOf(quote, this.pos + 1);
      if (close === -1) this.fail('XML_MALFORMED', `unterminated value of attribute '${name}'`);
      const raw = s.slice(this.pos + 1, close);
      const lt = raw.indexOf('<');
      if (lt !== -1) this.fail('XML_MALFORMED', `'<' is not allowed in attribute values`, this.pos + 1 + lt);
      // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes spaces; references keep theirs.
      const value = this.decodeReferences(raw.replace(/[\t\n]/g, ' '), this.pos + 1);
      rawAttributes.push({ name, value, offset });
      if (rawAttributes.length > this.limits.maxAttributes) this.fail('XML_LIMIT_EXCEEDED', `more than ${this.limits.maxAttributes} attributes on <${qname}>`);
      this.pos = close + 1;
    }
    let selfClosing = false;
    if (s.charCodeAt(this.pos) === 0x2f) {
      if (s.charCodeAt(this.pos + 1) !== 0x3e) this.fail('XML_MALFORMED', "expected '/>'");
      selfClosing = true;
      this.pos += 2;
    } else {
      this.pos += 1;
    }

    if (this.stack.length + 1 > this.limits.maxDepth) this.fail('XML_LIMIT_EXCEEDED', `elements nested deeper than ${this.limits.maxDepth}`, tagStart);
    if (++this.elementCount > this.limits.maxElements) this.fail('XML_LIMIT_EXCEEDED', `more than ${this.limits.maxElements} elements`, tagStart);

    const parent = this.stack[this.stack.length - 1];
    const element = this.buildElement(qname, rawAttributes, parent ? parent.element.scope : ROOT_SCOPE, tagStart);
    if (parent) parent.element.children.push(element);
    else this.root = element;
    if (!selfClosing) this.stack.push({ element, qname });
  }

  private buildElement(
    qname: string,
    rawAttributes: ReadonlyArray<{ name: string; value: string; offset: number }>,
    parentScope: NamespaceScope,
    tagStart: number,
  ): XmlElement {
    let bindings: Map<string, string> | undefined;
    const n = rawAttributes.length;
    for (let i = 0; i < n; i++) {
      const a = rawAttributes[i] as { name: string; value: string; offset: number };
      // Linear scans: elements carry few attributes (bounded by maxAttributes), and this avoids
      // allocating Sets per element, which dominated the time on large query responses.
      for (let j = 0; j < i; j++) {
        if ((rawAttributes[j] as { name: string }).name === a.name) this.fail('XML_MALFORMED', `attribute '${a.name}' appears twice`, a.offset);
      }
      let prefix: string | undefined;
      if (a.name === 'xmlns') prefix = '';
      else if (a.name.startsWith('xmlns:')) prefix = a.name.slice(6);
      if (prefix === undefined) continue;
      if (prefix === 'xmlns') this.fail('XML_NAMESPACE', "the prefix 'xmlns' cannot be declared", a.offset);
      if (prefix === 'xml' ? a.value !== XML_NS : a.value === XML_NS) this.fail('XML_NAMESPACE', 'the xml prefix and namespace are reserved', a.offset);
      if (a.value === XMLNS_NS) this.fail('XML_NAMESPACE', 'the xmlns namespace cannot be declared', a.offset);
      if (prefix !== '' && a.value === '') this.fail('XML_NAMESPACE', `prefix '${prefix}' cannot be undeclared in XML 1.0`, a.offset);
      (bindings ??= new Map()).set(prefix, a.value);
    }
    const scope: NamespaceScope = bindings ? { bindings, parent: parentScope } : parentScope;

    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? '' : qname.slice(0, colon);
    const local = colon === -1 ? qname : qname.slice(colon + 1);
    if (prefix === 'xmlns') this.fail('XML_NAMESPACE', "elements cannot use the prefix 'xmlns'", tagStart);
    const ns = lookupNamespace(scope, prefix);
    if (ns === undefined) this.fail('XML_NAMESPACE', `undeclared namespace prefix '${prefix}'`, tagStart);

    let attributes: XmlAttribute[] = NO_ATTRIBUTES;
    for (let i = 0; i < n; i++) {
      const a = rawAttributes[i] as { name: string; value: string; offset: number };
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      const c = a.name.indexOf(':');
      const aPrefix = c === -1 ? '' : a.name.slice(0, c);
      const aLocal = c === -1 ? a.name : a.name.slice(c + 1);
      // Unprefixed attributes are in no namespace (the default namespace does not apply to them).
      const aNs = aPrefix === '' ? '' : lookupNamespace(scope, aPrefix);
      if (aNs === undefined) this.fail('XML_NAMESPACE', `undeclared namespace prefix '${aPrefix}'`, a.offset);
      if (aPrefix !== '') {
        for (const other of attributes) {
          if (other.local === aLocal && other.ns === aNs) this.fail('XML_NAMESPACE', `attribute {${aNs}}${aLocal} appears twice`, a.offset);
        }
      }
      if (attributes === NO_ATTRIBUTES) attributes = [];
      attributes.push({ ns: aNs, local: aLocal, prefix: aPrefix, value: a.value });
    }
    return { ns, local, prefix, attributes, children: [], scope };
  }

  private readEndTag(): void {
    const tagStart = this.pos;
    this.pos += 2;
    const qname = this.readName('element name');
    this.skipWhitespace();
    if (this.s.charCodeAt(this.pos) !== 0x3e) this.fail('XML_MALFORMED', `malformed end tag </${qname}`);
    this.pos++;
    const open = this.stack.pop();
    if (!open) this.fail('XML_MALFORMED', `end tag </${qname}> without start tag`, tagStart);
    if (open.qname !== qname) this.fail('XML_MALFORMED', `end tag </${qname}> does not match <${open.qname}>`, tagStart);
  }

  private readProcessingInstruction(): void {
    const start = this.pos;
    PI_TARGET_STICKY.lastIndex = start + 2;
    const m = PI_TARGET_STICKY.exec(this.s);
    if (!m) this.fail('XML_MALFORMED', 'malformed processing instruction');
    if (m[0].toLowerCase() === 'xml') this.fail('XML_MALFORMED', 'XML declaration is only allowed at the very start', start);
    const end = this.s.indexOf('?>', start + 2 + m[0].length);
    if (end === -1) this.fail('XML_MALFORMED', 'unterminated processing instruction', start);
    this.pos = end + 2;
  }

  private readBangConstruct(): void {
    const s = this.s;
    const start = this.pos;
    if (s.startsWith('<!--', start)) {
      const end = s.indexOf('--', start + 4);
      if (end === -1) this.fail('XML_MALFORMED', 'unterminated comment', start);
      if (s.charCodeAt(end + 2) !== 0x3e) this.fail('XML_MALFORMED', "'--' is not allowed inside a comment", end);
      this.pos = end + 3;
      return;
    }
    if (s.startsWith('<![CDATA[', start)) {
      const open = this.stack[this.stack.length - 1];
      if (!open) this.fail('XML_MALFORMED', 'CDATA section outside the root element', start);
      const end = s.indexOf(']]>', start + 9);
      if (end === -1) this.fail('XML_MALFORMED', 'unterminated CDATA section', start);
      this.appendText(open.element, s.slice(start + 9, end));
      this.pos = end + 3;
      return;
    }
    const keyword = /^<!([A-Z]+)/.exec(s.slice(start, start + 12))?.[1];
    if (keyword === 'DOCTYPE' || keyword === 'ENTITY' || keyword === 'ELEMENT' || keyword === 'ATTLIST' || keyword === 'NOTATION') {
      this.fail('XML_DTD_FORBIDDEN', `<!${keyword}> is not accepted: documents with a DTD are refused`, start);
    }
    this.fail('XML_MALFORMED', "unexpected '<!'", start);
  }
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

export function lookupNamespace(scope: NamespaceScope, prefix: string): string | undefined {
  for (let s: NamespaceScope | undefined = scope; s; s = s.parent) {
    const ns = s.bindings.get(prefix);
    if (ns !== undefined) return ns;
  }
  // No default namespace declared means "no namespace".
  return prefix === '' ? '' : undefined;
}

// ---------------------------------------------------------------------------------------------
// Navigation helpers: every lookup is by namespace URI + local name.

export function isElement(node: XmlNode | undefined): node is XmlElement {
  return typeof node === 'object' && node !== null;
}

/** Does the element have this namespace URI and local name? */
export function hasName(element: XmlElement, ns: string, local: string): boolean {
  return element.ns === ns && element.local === local;
}

/** Child elements, optionally only those with the given namespace and local name. */
export function childElements(element: XmlElement, ns?: string, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of element.children) {
    if (typeof c === 'string') continue;
    if (ns !== undefined && c.ns !== ns) continue;
    if (local !== undefined && c.local !== local) continue;
    out.push(c);
  }
  return out;
}

export function firstChild(element: XmlElement, ns: string, local: string): XmlElement | undefined {
  for (const c of element.children) if (typeof c !== 'string' && c.ns === ns && c.local === local) return c;
  return undefined;
}

/** First child element of any name (e.g. the payload of a SOAP Body). */
export function firstChildElement(element: XmlElement): XmlElement | undefined {
  for (const c of element.children) if (typeof c !== 'string') return c;
  return undefined;
}

/** Concatenated text of the element's direct text children, untrimmed. */
export function ownText(element: XmlElement): string {
  let out = '';
  for (const c of element.children) if (typeof c === 'string') out += c;
  return out;
}

/** Concatenated text of the element and all descendants. */
export function deepText(element: XmlElement): string {
  let out = '';
  const stack: XmlNode[] = [...element.children].reverse();
  while (stack.length) {
    const n = stack.pop() as XmlNode;
    if (typeof n === 'string') out += n;
    else for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as XmlNode);
  }
  return out;
}

/** Text of the first matching child, trimmed; undefined when the child is absent. */
export function childText(element: XmlElement, ns: string, local: string): string | undefined {
  const c = firstChild(element, ns, local);
  return c ? ownText(c).trim() : undefined;
}

/** Attribute value; unprefixed attributes have ns ''. */
export function attribute(element: XmlElement, local: string, ns = ''): string | undefined {
  for (const a of element.attributes) if (a.local === local && a.ns === ns) return a.value;
  return undefined;
}

/** Resolves a QName-valued text such as `env:Sender` in the element's namespace scope. */
export function resolveQNameValue(element: XmlElement, value: string): QName | undefined {
  const v = value.trim();
  const colon = v.indexOf(':');
  const prefix = colon === -1 ? '' : v.slice(0, colon);
  const local = colon === -1 ? v : v.slice(colon + 1);
  if (local.length === 0) return undefined;
  const ns = lookupNamespace(element.scope, prefix);
  return ns === undefined ? undefined : { ns, local };
}

/** Every element of the subtree (not the element itself) matching `predicate`, in document order, with its parent. Iterative. */
export function findDescendants(element: XmlElement, predicate: (e: XmlElement) => boolean): Array<{ element: XmlElement; parent: XmlElement }> {
  const out: Array<{ element: XmlElement; parent: XmlElement }> = [];
  const stack: Array<{ element: XmlElement; parent: XmlElement }> = [];
  for (let i = element.children.length - 1; i >= 0; i--) {
    const c = element.children[i];
    if (isElement(c)) stack.push({ element: c, parent: element });
  }
  while (stack.length) {
    const item = stack.pop() as { element: XmlElement; parent: XmlElement };
    if (predicate(item.element)) out.push(item);
    const kids = item.element.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      const c = kids[i];
      if (isElement(c)) stack.push({ element: c, parent: item.element });
    }
  }
  return out;
}
