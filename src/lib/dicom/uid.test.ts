import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DicomValueError } from './errors.ts';
import { generateUid, isValidUid, uidFromName, uidSyntaxProblem, uuidToUid, UID_MAX_LENGTH } from './uid.ts';

describe('UID syntax', () => {
  test('accepts valid UIDs', () => {
    for (const uid of ['1.2.840.10008.1.2.1', '0', '2.25.0', '1.2.3.40.0.5', '2.25.329800735698586629295641978511506172918']) {
      assert.ok(isValidUid(uid), uid);
      assert.equal(uidSyntaxProblem(uid), null);
    }
  });

  test('rejects bad UIDs with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['1.2.03', /leading zero/],
      ['1..2', /empty component/],
      ['1.2.', /empty component/],
      ['.1.2', /empty component/],
      ['1.2.a', /characters/],
      ['1.2.3 ', /characters/],
      [`1.${'2'.repeat(63)}`, /longer than 64/],
    ];
    for (const [uid, reason] of cases) {
      assert.equal(isValidUid(uid), false, uid);
      assert.match(uidSyntaxProblem(uid) ?? '', reason, uid);
    }
    assert.ok(isValidUid(`1.${'2'.repeat(62)}`)); // exactly 64
  });
});

describe('UID generation', () => {
  test('2.25 form from a UUID', () => {
    assert.equal(uuidToUid('00000000-0000-0000-0000-000000000000'), '2.25.0');
    assert.equal(uuidToUid('f81d4fae-7dec-11d0-a765-00a0c91e6bf6'), '2.25.329800735698586629295641978511506172918'); // PS3.5 B.2
    assert.throws(() => uuidToUid('nope'), DicomValueError);
  });

  test('without a root: 2.25.<uuid>, valid and unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const uid = generateUid();
      assert.match(uid, /^2\.25\.[1-9]\d*$/);
      assert.ok(isValidUid(uid), uid);
      seen.add(uid);
    }
    assert.equal(seen.size, 1000);
  });

  test('under a root: fills up to 64 characters, never a leading zero', () => {
    const root = '1.2.826.0.1.3680043.10.999';
    for (let i = 0; i < 1000; i++) {
      const uid = generateUid(root);
      assert.ok(uid.startsWith(`${root}.`));
      assert.ok(isValidUid(uid), uid);
      assert.ok(uid.length <= UID_MAX_LENGTH);
    }
    assert.equal(generateUid('1.2').length, '1.2.'.length + 39); // at most 39 random digits (128 bits)
  });

  test('rejects invalid roots and roots that leave too little room', () => {
    assert.throws(() => generateUid('1.02'), (e: unknown) => e instanceof DicomValueError && e.field === 'root');
    assert.throws(() => generateUid(`1.${'2'.repeat(45)}`), /leaves 16 digits/);
  });

  test('name-based UIDs are stable, distinct per name, and valid', () => {
    assert.equal(uidFromName('study-42/kos'), uidFromName('study-42/kos'));
    assert.notEqual(uidFromName('study-42/kos'), uidFromName('study-43/kos'));
    assert.ok(isValidUid(uidFromName('x')));
    const rooted = uidFromName('x', '1.2.3');
    assert.ok(rooted.startsWith('1.2.3.') && isValidUid(rooted));
    assert.equal(rooted, uidFromName('x', '1.2.3'));
  });
});
