// Media type parsing (RFC 7231 §3.1.1.1, RFC 2045 parameters) for Content-Type headers of
// SOAP, MTOM packages and their MIME parts.
import { SoapHttpError } from './errors.ts';

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  readonly mediaType: string;
  /** Parameters with lower-cased names; values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const MAX_CONTENT_TYPE_LENGTH = 4096;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a Content-Type value; throws SoapHttpError('HTTP_BAD_CONTENT_TYPE') when malformed. */
export function parseMediaType(header: string | undefined): MediaType {
  if (header === undefined || header.trim() === '') throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', 'missing Content-Type');
  if (header.length > MAX_CONTENT_TYPE_LENGTH) throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', 'Content-Type header too long');
  const s = header;
  let i = s.indexOf(';');
  const full = (i === -1 ? s : s.slice(0, i)).trim().toLowerCase();
  const slash = full.indexOf('/');
  if (slash <= 0 || !TOKEN.test(full.slice(0, slash)) || !TOKEN.test(full.slice(slash + 1))) {
    throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', `malformed media type '${full.slice(0, 80)}'`);
  }
  const params = new Map<string, string>();
  if (i === -1) return { mediaType: full, params };
  i++;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === ';')) i++;
    if (i >= n) break;
    const eq = s.indexOf('=', i);
    if (eq === -1) throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', 'malformed Content-Type parameter');
    const name = s.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', `malformed Content-Type parameter name '${name.slice(0, 40)}'`);
    i = eq + 1;
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = s[i] as string;
        if (c === '\\' && i + 1 < n) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', `unterminated quoted value of parameter '${name}'`);
    } else {
      const end = s.indexOf(';', i);
      value = (end === -1 ? s.slice(i) : s.slice(i, end)).trim();
      i = end === -1 ? n : end;
    }
    // Duplicate parameters are ambiguous (which boundary?): refuse rather than guess.
    if (params.has(name)) throw new SoapHttpError('HTTP_BAD_CONTENT_TYPE', `parameter '${name}' given twice`);
    params.set(name, value);
  }
  return { mediaType: full, params };
}

/** Quotes a parameter value when it is not a token. */
export function formatParam(name: string, value: string): string {
  if (TOKEN.test(value)) return `${name}=${value}`;
  return `${name}="${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** `<id>` → `id` (Content-ID and `start` values carry angle brackets). */
export function stripAngleBrackets(value: string): string {
  const v = value.trim();
  return v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1).trim() : v;
}
