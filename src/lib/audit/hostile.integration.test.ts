// Hostile input against the receiver: each is rejected (onRejected), and the server keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { createSocket } from 'node:dgram';
import { randomBytes, randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { requireTools } from '../../../test-support/system-tools.ts';
import { TlsSyslogSender, connectTls, formatSyslogMessage, frameOctetCounting, startAuditReceiver, toDicomXml, type AuditRejection } from './index.ts';
import { createTestPki, sampleAuditMessages, startAuditCollector, type AuditCollector, type TestPki } from './testing.ts';

const skip = requireTools({ commands: ['openssl'] });
let pki: TestPki;
let collector: AuditCollector;
const GOOD_XML = toDicomXml(sampleAuditMessages().userLogin!);

before(async () => {
  if (skip) return;
  pki = await createTestPki();
  collector = await startAuditCollector({ pki });
});
after(async () => {
  await collector?.close();
});

/** A valid message on a new connection still arrives. */
async function assertStillServing(): Promise<void> {
  const marker = `alive-${randomUUID().slice(0, 8)}`;
  const sender = new TlsSyslogSender({ ...collector.tlsClientOptions(), hostname: marker });
  try {
    await sender.send(GOOD_XML);
  } finally {
    await sender.close();
  }
  await collector.waitFor((r) => r.syslog.hostname === marker);
}

function closed(socket: TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
  });
}

function syslogFrame(msg: Buffer | string, hostname = 'hostile'): Buffer {
  const header = Buffer.from(`<85>1 2024-05-01T10:00:00.000Z ${hostname} evil 1 IHE+RFC-3881 - `);
  return frameOctetCounting(Buffer.concat([header, typeof msg === 'string' ? Buffer.from(msg) : msg]));
}

async function rejectionFor(code: AuditRejection['code'], send: (socket: TLSSocket) => void | Promise<void>): Promise<TLSSocket> {
  const before = collector.rejections.length;
  const socket = await connectTls(collector.tlsClientOptions());
  socket.on('error', () => undefined);
  await send(socket);
  await collector.waitForRejection((r) => r.reason.code === code && collector.rejections.indexOf(r) >= before);
  return socket;
}

test('an oversized announced frame closes that connection only', { skip }, async () => {
  const bystander = await connectTls(collector.tlsClientOptions());
  const socket = await rejectionFor('too-large', (s) => {
    s.write('999999999 <85>1 ');
  });
  await closed(socket);
  // the other, already open connection still works
  bystander.write(syslogFrame(GOOD_XML, 'bystander'));
  await collector.waitFor((r) => r.syslog.hostname === 'bystander');
  bystander.destroy();
  await assertStillServing();
});

test('bad UTF-8 is rejected; the same connection carries on', { skip }, async () => {
  const bad = Buffer.concat([Buffer.from(GOOD_XML.slice(0, 60)), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(GOOD_XML.slice(60))]);
  const socket = await rejectionFor('invalid-utf8', (s) => {
    s.write(syslogFrame(bad));
  });
  socket.write(syslogFrame(GOOD_XML, 'same-connection'));
  await collector.waitFor((r) => r.syslog.hostname === 'same-connection');
  socket.destroy();
});

test('billion laughs and XXE are rejected without expansion', { skip }, async () => {
  const laughs =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
    '<AuditMessage>&lol3;</AuditMessage>';
  const xxe = '<?xml version="1.0"?><!DOCTYPE AuditMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><AuditMessage>&xxe;</AuditMessage>';
  const socket = await rejectionFor('dtd-forbidden', (s) => {
    s.write(syslogFrame(laughs));
  });
  const seen = collector.rejections.length;
  socket.write(syslogFrame(xxe));
  await collector.waitForRejection((r) => r.reason.code === 'dtd-forbidden' && collector.rejections.indexOf(r) >= seen);
  socket.destroy();
  await assertStillServing();
});

test('garbage instead of syslog framing closes the connection', { skip }, async () => {
  const socket = await rejectionFor('bad-framing', (s) => {
    s.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), randomBytes(256)]));
  });
  await closed(socket);
  // a well-framed message whose content is garbage is only rejected
  const other = await rejectionFor('bad-syslog', (s) => {
    s.write(frameOctetCounting(randomBytes(64).fill(0x41, 0, 1)));
  });
  other.destroy();
  await assertStillServing();
});

test('a truncated frame at connection end is reported', { skip }, async () => {
  const full = syslogFrame(GOOD_XML);
  const socket = await rejectionFor('bad-framing', (s) => {
    s.end(full.subarray(0, full.length - 50));
  });
  await closed(socket);
  await assertStillServing();
});

test('XML that is not an audit message, or lacks mandatory parts, is rejected', { skip }, async () => {
  const socket = await rejectionFor('not-audit-message', (s) => {
    s.write(syslogFrame('<?xml version="1.0"?><Envelope/>'));
  });
  socket.write(syslogFrame(GOOD_XML.replace(/<ActiveParticipant[^>]*?(\/>|>[\s\S]*?<\/ActiveParticipant>)/g, '')));
  await collector.waitForRejection((r) => r.reason.code === 'missing-active-participant');
  socket.destroy();
});

test('plain TCP (no TLS) on the TLS port and garbage UDP datagrams are rejected', { skip }, async () => {
  const tcp = netConnect(collector.tlsPort, '127.0.0.1');
  tcp.on('error', () => undefined);
  tcp.write(`${GOOD_XML.length} ${GOOD_XML}`);
  await collector.waitForRejection((r) => r.reason.code === 'tls-error');
  tcp.destroy();

  const udp = createSocket('udp4');
  await new Promise<void>((resolve, reject) => udp.send(randomBytes(512), collector.udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) =>
    udp.send(formatSyslogMessage('<AuditMessage><broken'), collector.udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
  );
  udp.close();
  await collector.waitForRejection((r) => r.peer.transport === 'udp' && r.reason.code === 'bad-syslog');
  await collector.waitForRejection((r) => r.peer.transport === 'udp' && r.reason.code === 'not-well-formed');
  await assertStillServing();
});

test('a failing store() is reported and does not stop the receiver; oversized datagrams are refused', { skip }, async () => {
  const rejections: AuditRejection[] = [];
  let calls = 0;
  const receiver = await startAuditReceiver({
    tls: { key: pki.serverKey, cert: pki.serverCert },
    udp: {},
    maxMessageBytes: 2_048,
    store: async () => {
      calls++;
      if (calls === 1) throw new Error('database down');
    },
    onRejected: (reason) => {
      rejections.push(reason);
      throw new Error('a throwing hook must not hurt either');
    },
  });
  try {
    const sender = new TlsSyslogSender({ host: '127.0.0.1', port: receiver.tlsAddress?.port ?? 0, ca: pki.caCert, servername: 'localhost' });
    await sender.send(GOOD_XML);
    await sender.send(GOOD_XML);
    await sender.close();
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => udp.send(Buffer.alloc(10_000, 0x41), receiver.udpAddress?.port ?? 0, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    udp.close();
    const deadline = Date.now() + 5_000;
    while ((calls < 2 || rejections.length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls, 2);
    assert.deepEqual(rejections.map((r) => r.code).sort(), ['store-failed', 'too-large']);
  } finally {
    await receiver.close();
  }
});
