// Writes a parsed element back as XML text (for the audit record of ITI-18, which carries the query
// as received). Namespace declarations are re-emitted where the parsed scopes introduced them.
import { escapeXmlAttribute, escapeXmlText, type NamespaceScope, type XmlElement } from '../../../lib/soap/index.ts';

function allBindings(scope: NamespaceScope | undefined): Map<string, string> {
  const chain: NamespaceScope[] = [];
  for (let s = scope; s; s = s.parent) chain.unshift(s);
  const out = new Map<string, string>();
  for (const s of chain) for (const [k, v] of s.bindings) out.set(k, v);
  return out;
}

function write(el: XmlElement, declarations: ReadonlyMap<string, string>, parts: string[]): void {
  const name = el.prefix ? `${el.prefix}:${el.local}` : el.local;
  parts.push('<', name);
  for (const [prefix, uri] of declarations) parts.push(' ', prefix ? `xmlns:${prefix}` : 'xmlns', '="', escapeXmlAttribute(uri), '"');
  for (const a of el.attributes) parts.push(' ', a.prefix ? `${a.prefix}:${a.local}` : a.local, '="', escapeXmlAttribute(a.value), '"');
  if (el.children.length === 0) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  for (const c of el.children) {
    if (typeof c === 'string') parts.push(escapeXmlText(c));
    else write(c, c.scope !== el.scope ? c.scope.bindings : new Map(), parts);
  }
  parts.push('</', name, '>');
}

export function elementToXml(el: XmlElement): string {
  const parts: string[] = [];
  write(el, allBindings(el.scope), parts);
  return parts.join('');
}
