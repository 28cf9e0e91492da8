import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatXdsTimestamp, isXdsTimestamp, normalizeXdsTimestamp, parseXdsTimestamp, xdsTimestampPrecision } from './timestamps.ts';

test('XDS timestamps are YYYY[MM[DD[hh[mm[ss]]]]] and calendar-valid', () => {
  for (const ok of ['2004', '200412', '20041231', '2004123123', '200412312359', '20041231235959', '20000229', '20240229']) assert.ok(isXdsTimestamp(ok), ok);
  for (const bad of ['', '204', '20041', '20041301', '20040230', '19000229', '2004123124', '200412312360', '20041231235960', '2004-12-31', '20041231235959+0100', '20041231235959.123', ' 2004']) {
    assert.ok(!isXdsTimestamp(bad), bad);
  }
  assert.equal(xdsTimestampPrecision('200412'), 'month');
});

test('formatting is always UTC, whatever the local time zone', () => {
  const d = new Date('2024-03-01T23:30:15+05:00');
  assert.equal(formatXdsTimestamp(d), '20240301183015');
  assert.equal(formatXdsTimestamp(d, 'day'), '20240301');
  assert.equal(parseXdsTimestamp('20240301183015')?.toISOString(), '2024-03-01T18:30:15.000Z');
  assert.equal(parseXdsTimestamp('2024')?.toISOString(), '2024-01-01T00:00:00.000Z');
  assert.equal(parseXdsTimestamp('2024x'), undefined);
});

test('normalisation to 14 digits makes ranges comparable as strings (and SQL text)', () => {
  assert.equal(normalizeXdsTimestamp('2004', 'start'), '20040101000000');
  assert.equal(normalizeXdsTimestamp('2004', 'end'), '20041231235959');
  assert.equal(normalizeXdsTimestamp('200402', 'end'), '20040229235959');
  assert.equal(normalizeXdsTimestamp('20041231', 'start'), '20041231000000');
  assert.equal(normalizeXdsTimestamp('2004123112', 'end'), '20041231125959');
  assert.equal(normalizeXdsTimestamp('20041231235959', 'end'), '20041231235959');
  assert.equal(normalizeXdsTimestamp('bad', 'start'), undefined);
});
