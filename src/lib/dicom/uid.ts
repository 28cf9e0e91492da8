// DICOM UIDs (PS3.5 9.1): syntax checks and generation, either under an organisation root or in the
// root-free 2.25.<UUID as decimal> form (PS3.5 B.2, ITU-T X.667).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DicomValueError } from './errors.ts';

export const UID_MAX_LENGTH = 64;

const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** Why `uid` is not a valid UID, or null when it is. Useful for precise problem reports. */
export function uidSyntaxProblem(uid: string): string | null {
  if (uid.length === 0) return 'empty';
  if (uid.length > UID_MAX_LENGTH) return `longer than ${UID_MAX_LENGTH} characters (${uid.length})`;
  if (UID_PATTERN.test(uid)) return null;
  if (/[^0-9.]/.test(uid)) return 'contains characters other than digits and dots';
  if (uid.startsWith('.') || uid.endsWith('.') || uid.includes('..')) return 'has an empty component';
  return 'has a component with a leading zero';
}

export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= UID_MAX_LENGTH && UID_PATTERN.test(uid);
}

/** 2.25.<decimal> form of a UUID given as 32 hex digits with or without dashes. */
export function uuidToUid(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new DicomValueError('uuid', `not a UUID: ${JSON.stringify(uuid)}`);
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

/** Fewest random decimal digits accepted under a root: ~66 bits keeps collisions negligible. */
const MIN_RANDOM_DIGITS = 20;
/** Most digits used: 39 digits carry 128 bits, as much as a UUID. */
const MAX_RANDOM_DIGITS = 39;

/** `digits` decimal digits taken from `value`, first digit non-zero (UID components have no leading zero). */
function decimalComponent(value: bigint, digits: number): string {
  const first = 1n + (value % 9n);
  const rest = (value / 9n) % 10n ** BigInt(digits - 1);
  return `${first}${rest.toString(10).padStart(digits - 1, '0')}`;
}

function randomDecimal(digits: number): string {
  // Take 64 more random bits than needed so the modulo bias is negligible.
  const bytes = randomBytes(Math.ceil((digits * Math.log2(10)) / 8) + 8);
  return decimalComponent(BigInt(`0x${bytes.toString('hex')}`), digits);
}

function checkRoot(root: string): void {
  const problem = uidSyntaxProblem(root);
  if (problem !== null) throw new DicomValueError('root', `${JSON.stringify(root)} is not a valid UID root: ${problem}`);
  const room = UID_MAX_LENGTH - root.length - 1;
  if (room < MIN_RANDOM_DIGITS) {
    throw new DicomValueError('root', `${JSON.stringify(root)} leaves ${room} digits; at least ${MIN_RANDOM_DIGITS} are needed for unique UIDs`);
  }
}

/**
 * A new UID. Without a root: 2.25.<random UUID>. With a root: root.<random decimal> using as many
 * digits as fit in 64 characters (at most 39, i.e. 128 bits).
 */
export function generateUid(root?: string): string {
  if (root === undefined || root === '') return uuidToUid(randomUUID());
  checkRoot(root);
  const digits = Math.min(MAX_RANDOM_DIGITS, UID_MAX_LENGTH - root.length - 1);
  return `${root}.${randomDecimal(digits)}`;
}

/**
 * A UID that is always the same for the same `name` (and root): for retries that must not mint a
 * second identity, e.g. the KOS of a given study submission. Without a root it is the 2.25 form of a
 * name-based UUID (RFC 9562 version 8, SHA-256 of the name).
 */
export function uidFromName(name: string, root?: string): string {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  if (root === undefined || root === '') {
    const b = Buffer.from(digest.subarray(0, 16));
    b[6] = (b[6]! & 0x0f) | 0x80; // version 8
    b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
    return uuidToUid(b.toString('hex'));
  }
  checkRoot(root);
  const digits = Math.min(MAX_RANDOM_DIGITS, UID_MAX_LENGTH - root.length - 1);
  return `${root}.${decimalComponent(BigInt(`0x${digest.toString('hex')}`), digits)}`;
}
