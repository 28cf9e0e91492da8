// Minimal XML serialiser used for every message we write. Values always go through the
// escaping functions, so metadata from a submission can never inject markup into a response.
// Faster and lighter than a DOM builder (SOAP responses of thousands of ebRIM objects).
import { SoapError } from './errors.ts';

const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function assertXmlChars(value: string): void {
  const m = NOT_XML_CHAR.exec(value);
  if (m) {
    const cp = (m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw new SoapError('XML_WRITE_INVALID_CHAR', `U+${cp} cannot be represented in XML 1.0`, { faultCode: 'Receiver' });
  }
}

/** Escapes character data. `\r` is written as a reference so that it survives end-of-line normalisation. */
export function escapeXmlText(value: string): string {
  assertXmlChars(value);
  return value.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** Escapes an attribute value for double quotes; tab/newline/CR as references so attribute normalisation keeps them. */
export function escapeXmlAttribute(value: string): string {
  assertXmlChars(value);
  return value.replace(/[&<>"\t\n\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case '\t':
        return '&#9;';
      case '\n':
        return '&#10;';
      default:
        return '&#13;';
    }
  });
}

export type XmlAttributeValues = Readonly<Record<string, string | number | boolean | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?$/;

function assertName(name: string): void {
  if (!NAME.test(name)) throw new SoapError('XML_WRITE_INVALID_CHAR', `invalid XML name '${name}'`, { faultCode: 'Receiver' });
}

/**
 * Streaming-style writer: `start` / `end` / `text` / `leaf`, then `toString()`.
 * Names are qualified names as written (callers declare their prefixes with `xmlns:*` attributes).
 */
export class XmlWriter {
  private readonly parts: string[] = [];
  private readonly open: string[] = [];
  private tagOpen = false;

  private closeStartTag(): void {
    if (this.tagOpen) {
      this.parts.push('>');
      this.tagOpen = false;
    }
  }

  start(name: string, attributes?: XmlAttributeValues): this {
    assertName(name);
    this.closeStartTag();
    let tag = `<${name}`;
    if (attributes) {
      for (const [k, v] of Object.entries(attributes)) {
        if (v === undefined) continue;
        assertName(k);
        tag += ` ${k}="${escapeXmlAttribute(String(v))}"`;
      }
    }
    this.parts.push(tag);
    this.open.push(name);
    this.tagOpen = true;
    return this;
  }

  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlWriter.end() without open element');
    if (this.tagOpen) {
      this.parts.push('/>');
      this.tagOpen = false;
    } else {
      this.parts.push(`</${name}>`);
    }
    return this;
  }

  text(value: string): this {
    if (value.length === 0) return this;
    this.closeStartTag();
    this.parts.push(escapeXmlText(value));
    return this;
  }

  /** `<name attrs>text</name>`, or `<name attrs/>` when text is undefined or empty. */
  leaf(name: string, attributes?: XmlAttributeValues, text?: string): this {
    this.start(name, attributes);
    if (text !== undefined) this.text(text);
    return this.end();
  }

  /** Appends trusted, already-serialised XML (e.g. a fragment produced by another XmlWriter). */
  raw(xml: string): this {
    this.closeStartTag();
    this.parts.push(xml);
    return this;
  }

  toString(): string {
    if (this.open.length > 0) throw new Error(`XmlWriter: <${this.open[this.open.length - 1]}> not closed`);
    return this.parts.join('');
  }
}
