// Access codes handed to patients (DESIGN.md "Identifiers and credentials"): 55 random bits in a
// case-insensitive alphabet without look-alike symbols (Crockford base32), plus one check symbol that
// catches any single mistyped symbol and any swap of two neighbours, shown as XXXX-XXXX-XXXX.
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_SYMBOLS = 11;

// The check symbol is sum(w_i * s_i) in GF(2^5) with distinct non-zero weights w_i = x^(i+1): a single
// substitution changes the sum by w_i * d (d != 0) and a neighbour swap by (w_i - w_{i+1}) * d, never 0.
const GF_POLY = 0b100101; // x^5 + x^2 + 1, primitive
function gfMul(a: number, b: number): number {
  let r = 0;
  while (b > 0) {
    if (b & 1) r ^= a;
    b >>= 1;
    a <<= 1;
    if (a & 0b100000) a ^= GF_POLY;
  }
  return r;
}
function checkValue(values: number[]): number {
  let sum = 0;
  let w = 1;
  for (const v of values) {
    w = gfMul(w, 2);
    sum ^= gfMul(w, v);
  }
  return sum;
}

export class AccessCodeError extends Error {
  readonly code = 'INVALID_ACCESS_CODE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AccessCodeError';
  }
}

/** A new access code in its display form, e.g. `7K3M-Q9TB-2XHD`. */
export function generateAccessCode(): string {
  const values = Array.from({ length: RANDOM_SYMBOLS }, () => randomInt(32));
  const canonical = [...values, checkValue(values)].map((v) => ALPHABET[v]).join('');
  return formatAccessCode(canonical);
}

export function formatAccessCode(canonical: string): string {
  return `${canonical.slice(0, 4)}-${canonical.slice(4, 8)}-${canonical.slice(8)}`;
}

/**
 * Normalises what a person typed: case, spaces and dashes are ignored, and look-alikes are forgiven
 * (O→0, I/L→1, U→V). Returns the 12-symbol canonical form, or throws when the check symbol fails.
 */
export function normalizeAccessCode(input: string): string {
  const cleaned = input
    .toUpperCase()
    .replace(/[\s\-_.]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1')
    .replace(/U/g, 'V');
  if (cleaned.length !== RANDOM_SYMBOLS + 1) throw new AccessCodeError(`an access code has ${RANDOM_SYMBOLS + 1} characters`);
  const values = [...cleaned].map((c) => ALPHABET.indexOf(c));
  if (values.some((v) => v < 0)) throw new AccessCodeError('the access code contains a character that is not used in codes');
  if (checkValue(values.slice(0, -1)) !== values[values.length - 1]) throw new AccessCodeError('the access code is mistyped (check symbol does not match)');
  return cleaned;
}

export function isValidAccessCode(input: string): boolean {
  try {
    normalizeAccessCode(input);
    return true;
  } catch {
    return false;
  }
}
