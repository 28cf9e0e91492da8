import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuditParseError,
  IHE_SYSLOG_MSGID,
  MESSAGE_ID_SD_ID,
  SyslogStreamDecoder,
  formatSyslogMessage,
  frameOctetCounting,
  messageIdOf,
  parseSyslogMessage,
  severityForOutcome,
  toSyslogBytes,
} from './index.ts';
import { sampleAuditMessages } from './testing.ts';

const XML = '<?xml version="1.0" encoding="UTF-8"?><AuditMessage>é</AuditMessage>';

test('RFC 5424 format: PRI authpriv, version 1, UTC timestamp with ms, MSGID IHE+RFC-3881, nil SD, BOM + UTF-8 XML', () => {
  const bytes = formatSyslogMessage(XML, {
    hostname: 'edge1.example.org',
    appName: 'imageshare',
    procId: '1234',
    timestamp: new Date('2024-05-01T10:00:00.123Z'),
  });
  const header = '<85>1 2024-05-01T10:00:00.123Z edge1.example.org imageshare 1234 IHE+RFC-3881 - ';
  assert.equal(bytes.subarray(0, header.length).toString('ascii'), header);
  assert.deepEqual([...bytes.subarray(header.length, header.length + 3)], [0xef, 0xbb, 0xbf]);
  assert.equal(bytes.subarray(header.length + 3).toString('utf8'), XML);
});

test('severity follows the outcome; header fields are sanitized; SD values escaped', () => {
  assert.deepEqual([0, 4, 8, 12].map((o) => severityForOutcome(o as 0 | 4 | 8 | 12)), [5, 4, 3, 2]);
  const failed = toSyslogBytes(sampleAuditMessages().userLoginFailed!, { hostname: 'h', procId: '1' });
  assert.match(failed.toString('latin1'), /^<84>1 /);
  const bytes = formatSyslogMessage(XML, {
    hostname: 'bad host\u00e9',
    appName: '',
    structuredData: [{ id: MESSAGE_ID_SD_ID, params: [['id', 'a"b\\c]d']] }],
  });
  const text = bytes.toString('utf8');
  assert.match(text, / bad_host_ - \d+ IHE\+RFC-3881 \[imageshare@32473 id="a\\"b\\\\c\\]d"\] /);
  const parsed = parseSyslogMessage(bytes);
  assert.equal(messageIdOf(parsed), 'a"b\\c]d');
  assert.equal(parsed.appName, undefined);
});

test('parses RFC 5424 and strips the BOM', () => {
  const bytes = formatSyslogMessage(XML, { hostname: 'h1', appName: 'app', procId: '77', timestamp: new Date(0) });
  const p = parseSyslogMessage(bytes);
  assert.equal(p.format, 'rfc5424');
  assert.equal(p.facility, 10);
  assert.equal(p.severity, 5);
  assert.equal(p.timestamp, '1970-01-01T00:00:00.000Z');
  assert.equal(p.hostname, 'h1');
  assert.equal(p.appName, 'app');
  assert.equal(p.procId, '77');
  assert.equal(p.msgId, IHE_SYSLOG_MSGID);
  assert.deepEqual(p.structuredData, []);
  assert.equal(p.msg.toString('utf8'), XML);
});

test('parses several SD elements and any PRI', () => {
  const raw = Buffer.from(`<13>1 - - - - - [a@1 x="1" y="2"][meta sequenceId="5"] ${XML}`);
  const p = parseSyslogMessage(raw);
  assert.equal(p.facility, 1);
  assert.equal(p.severity, 5);
  assert.deepEqual(p.structuredData, [
    { id: 'a@1', params: [['x', '1'], ['y', '2']] },
    { id: 'meta', params: [['sequenceId', '5']] },
  ]);
  assert.equal(p.msg.toString(), XML);
});

test('tolerates RFC 3164 legacy messages', () => {
  const p = parseSyslogMessage(Buffer.from(`<85>May  1 10:00:00 oldhost audit: ${XML}`));
  assert.equal(p.format, 'rfc3164');
  assert.equal(p.hostname, 'oldhost');
  assert.equal(p.timestamp, 'May  1 10:00:00');
  assert.equal(p.msg.toString(), XML);
});

test('rejects malformed syslog', () => {
  for (const bad of ['no pri', '<999>1 - - - - - - x', '<85>1 2024', '<85>1 - - - - - [unterminated x="1" ', '<85>legacy without xml']) {
    assert.throws(() => parseSyslogMessage(Buffer.from(bad)), (e: unknown) => e instanceof AuditParseError && e.code === 'bad-syslog', bad);
  }
});

test('stream decoder: octet counting across chunk boundaries, LF framing, stray newlines', () => {
  const a = formatSyslogMessage('<a/>', { timestamp: new Date(0) });
  const b = formatSyslogMessage('<b>ü</b>', { timestamp: new Date(0) });
  const stream = Buffer.concat([frameOctetCounting(a), Buffer.from('\n'), frameOctetCounting(b), Buffer.from('<85>1 - - - - - - <c/>\r\n')]);
  const decoder = new SyslogStreamDecoder(1024);
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 7) frames.push(...decoder.push(stream.subarray(i, i + 7)));
  assert.equal(frames.length, 3);
  assert.deepEqual(frames[0], a);
  assert.deepEqual(frames[1], b);
  assert.equal(frames[2]?.toString(), '<85>1 - - - - - - <c/>');
  assert.equal(decoder.pendingBytes, 0);
  decoder.push(Buffer.from('20 <85>1 '));
  assert.equal(decoder.pendingBytes, 9, 'a truncated frame stays pending');
});

test('stream decoder: oversized announcements and garbage throw', () => {
  assert.throws(
    () => new SyslogStreamDecoder(100).push(Buffer.from('101 <85>')),
    (e: unknown) => e instanceof AuditParseError && e.code === 'too-large',
  );
  assert.throws(
    () => new SyslogStreamDecoder(100).push(Buffer.from('99999999999999 ')),
    (e: unknown) => e instanceof AuditParseError && e.code === 'bad-framing',
  );
  assert.throws(
    () => new SyslogStreamDecoder(100).push(Buffer.from('GET / HTTP/1.1\r\n')),
    (e: unknown) => e instanceof AuditParseError && e.code === 'bad-framing',
  );
  assert.throws(
    () => new SyslogStreamDecoder(10).push(Buffer.from('<85>1 - - - - - - long line without end')),
    (e: unknown) => e instanceof AuditParseError && e.code === 'too-large',
  );
});
