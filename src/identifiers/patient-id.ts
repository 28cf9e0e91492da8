// Registry patient IDs: what the clearinghouse indexes instead of demographics. Derived from the date
// of birth and the access code with the network key, so only network members can compute them:
// HMAC-SHA256(network key, YYYYMMDD + code) in hex, under the network's assigning authority. A legacy
// mode reproduces the original RSNA derivation (unsalted SHA-256) for old consumers.
import { createHash, createHmac } from 'node:crypto';
import { normalizeAccessCode } from './access-code.ts';
import { normalizeBirthDate } from './birth-date.ts';

export interface PatientIdDerivation {
  networkKey: Buffer;
  /** Assigning authority OID. */
  authority: string;
  legacyRsna?: boolean;
}

/** The ID part (hex) for a date of birth and an access code, both as a person may type them. */
export function derivePatientIdValue(dob: string, accessCode: string, d: PatientIdDerivation): string {
  const input = normalizeBirthDate(dob) + normalizeAccessCode(accessCode);
  return d.legacyRsna ? createHash('sha256').update(input).digest('hex') : createHmac('sha256', d.networkKey).update(input).digest('hex');
}

/** The registry patient ID in CX form: `<hex>^^^&<authority>&ISO`. */
export function deriveRegistryPatientId(dob: string, accessCode: string, d: PatientIdDerivation): string {
  return `${derivePatientIdValue(dob, accessCode, d)}^^^&${d.authority}&ISO`;
}
