import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateAccessCode, normalizeAccessCode, isValidAccessCode } from './access-code.ts';
import { normalizeBirthDate } from './birth-date.ts';
import { deriveRegistryPatientId, derivePatientIdValue } from './patient-id.ts';
import { createHash } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

test('access codes: grouped display form, 55 random bits, no look-alike symbols', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const code = generateAccessCode();
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    seen.add(code);
  }
  assert.equal(seen.size, 2000);
});

test('access codes: case, spaces, dashes and look-alikes are forgiven', () => {
  const code = generateAccessCode();
  const canonical = code.replace(/-/g, '');
  assert.equal(normalizeAccessCode(` ${code.toLowerCase()} `), canonical);
  assert.equal(normalizeAccessCode(canonical.replace(/0/g, 'O').replace(/1/g, 'l')), canonical);
});

test('access codes: every single mistyped symbol and every neighbour swap is caught', () => {
  for (let n = 0; n < 50; n++) {
    const canonical = generateAccessCode().replace(/-/g, '');
    for (let i = 0; i < canonical.length; i++) {
      for (const c of ALPHABET) {
        if (c === canonical[i]) continue;
        const typo = canonical.slice(0, i) + c + canonical.slice(i + 1);
        assert.equal(isValidAccessCode(typo), false, `${canonical} -> ${typo}`);
      }
      if (i + 1 < canonical.length && canonical[i] !== canonical[i + 1]) {
        const swapped = canonical.slice(0, i) + canonical[i + 1] + canonical[i] + canonical.slice(i + 2);
        assert.equal(isValidAccessCode(swapped), false, `${canonical} swap at ${i}`);
      }
    }
  }
});

test('dates of birth in common forms are normalised to YYYYMMDD', () => {
  for (const s of ['19700312', '1970-03-12', '1970/3/12', '12.03.1970', '03/12/1970', '12 Mar 1970', 'March 12, 1970']) {
    assert.equal(normalizeBirthDate(s), '19700312', s);
  }
  assert.equal(normalizeBirthDate('31/12/1999'), '19991231');
  assert.throws(() => normalizeBirthDate('1970-02-30'), /not a real date/);
  assert.throws(() => normalizeBirthDate('yesterday'), /not in a recognised form/);
});

test('registry patient ID: HMAC-SHA256 of YYYYMMDD + code under the authority; legacy mode is unsalted SHA-256', () => {
  const key = Buffer.alloc(32, 7);
  const code = generateAccessCode();
  const id = deriveRegistryPatientId('1970-03-12', code, { networkKey: key, authority: '1.2.3.4' });
  assert.match(id, /^[0-9a-f]{64}\^\^\^&1\.2\.3\.4&ISO$/);
  assert.equal(id, deriveRegistryPatientId('19700312', code.toLowerCase(), { networkKey: key, authority: '1.2.3.4' }));
  assert.notEqual(id.split('^')[0], derivePatientIdValue('19700312', code, { networkKey: Buffer.alloc(32, 8), authority: '1.2.3.4' }));
  const legacy = derivePatientIdValue('19700312', code, { networkKey: key, authority: 'x', legacyRsna: true });
  assert.equal(legacy, createHash('sha256').update('19700312' + code.replace(/-/g, '')).digest('hex'));
});
