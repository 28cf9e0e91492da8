// Syslog transport end to end on 127.0.0.1: TLS (RFC 5425) and UDP (RFC 5426) senders against the
// receiver, with the IHE ATNA sample and builder output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, samplesDir } from '../../../test-support/system-tools.ts';
import { AuditTransportError, MAX_UDP_PAYLOAD, TlsSyslogSender, UdpSyslogSender, connectTls, formatSyslogMessage, frameOctetCounting } from './index.ts';
import { createTestPki, sampleAuditMessages, startAuditCollector, type AuditCollector, type TestPki } from './testing.ts';

const skip = requireTools({ commands: ['openssl'] });
const SAMPLE = join(samplesDir, 'ipf-atna-dicom-instances-transferred.xml');
let pki: TestPki;
let collector: AuditCollector;

before(async () => {
  if (skip) return;
  pki = await createTestPki();
  collector = await startAuditCollector({ pki });
});
after(async () => {
  await collector?.close();
});

test('the IHE ATNA sample over TLS reaches store() as a parsed record', { skip: skip || requireTools({ shared: true, paths: [SAMPLE] }) }, async () => {
  const xml = readFileSync(SAMPLE, 'utf8');
  const sender = new TlsSyslogSender({ ...collector.tlsClientOptions(), hostname: 'sample-host', appName: 'ipf' });
  try {
    await sender.send(xml);
  } finally {
    await sender.close();
  }
  const record = await collector.waitFor((r) => r.syslog.hostname === 'sample-host');
  assert.equal(record.message.event.eventId.code, '110104');
  assert.deepEqual(record.patientIds, ['ptid12345']);
  assert.equal(record.attributeStyle, 'rfc3881');
  assert.equal(record.xml, xml);
  assert.equal(record.syslog.msgId, 'IHE+RFC-3881');
  assert.equal(record.syslog.facility, 10);
  assert.equal(record.peer.transport, 'tls');
  assert.equal(record.peer.certificateSubject, 'audit-test-client');
});

test('the IHE ATNA sample over UDP reaches store()', { skip: skip || requireTools({ shared: true, paths: [SAMPLE] }) }, async () => {
  const sender = new UdpSyslogSender({ host: '127.0.0.1', port: collector.udpPort, hostname: 'udp-host' });
  try {
    await sender.send(readFileSync(SAMPLE, 'utf8'));
  } finally {
    await sender.close();
  }
  const record = await collector.waitFor((r) => r.syslog.hostname === 'udp-host');
  assert.equal(record.peer.transport, 'udp');
  assert.equal(record.message.source.sourceId, 'ReadingRoom');
});

test('builder messages over TLS keep their order and content', { skip }, async () => {
  const messages = Object.values(sampleAuditMessages());
  const sender = new TlsSyslogSender({ ...collector.tlsClientOptions(), hostname: 'order-host' });
  try {
    await Promise.all(messages.map((m) => sender.send(m)));
  } finally {
    await sender.close();
  }
  await collector.waitFor(() => collector.records.filter((r) => r.syslog.hostname === 'order-host').length === messages.length);
  const received = collector.records.filter((r) => r.syslog.hostname === 'order-host');
  assert.deepEqual(
    received.map((r) => r.message),
    messages,
  );
  assert.equal(received[0]?.attributeStyle, 'dicom');
});

test('a receiver that requires client certificates refuses clients without one or from another CA', { skip }, async () => {
  const strict = await startAuditCollector({ pki, requireClientCertificate: true });
  try {
    const good = new TlsSyslogSender({ ...strict.tlsClientOptions(), hostname: 'with-cert' });
    await good.send(sampleAuditMessages().userLogin!);
    await good.close();
    await strict.waitFor((r) => r.syslog.hostname === 'with-cert');

    const { cert: _c, key: _k, ...withoutCert } = strict.tlsClientOptions();
    const anonymous = new TlsSyslogSender({ ...withoutCert, hostname: 'no-cert' });
    await anonymous.send(sampleAuditMessages().userLogin!).catch(() => undefined);
    await anonymous.close();
    await strict.waitForRejection((r) => r.reason.code === 'tls-error');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(strict.records.some((r) => r.syslog.hostname === 'no-cert'), false);
  } finally {
    await strict.close();
  }
});

test('the sender verifies the server certificate against its CA', { skip }, async () => {
  await assert.rejects(
    connectTls({ ...collector.tlsClientOptions(), ca: pki.otherCaCert }),
    (e: unknown) => e instanceof AuditTransportError && e.code === 'connect-failed',
  );
  await assert.rejects(connectTls({ ...collector.tlsClientOptions(), minVersion: 'TLSv1.3', servername: 'not-localhost' }), AuditTransportError);
});

test('UDP refuses a message larger than a datagram', { skip }, async () => {
  const warnings: unknown[] = [];
  const sender = new UdpSyslogSender({ host: '127.0.0.1', port: collector.udpPort, logger: { warn: (o) => warnings.push(o), error: () => undefined } });
  try {
    const huge = `<AuditMessage>${'x'.repeat(MAX_UDP_PAYLOAD)}</AuditMessage>`;
    await assert.rejects(sender.send(huge), (e: unknown) => e instanceof AuditTransportError && e.code === 'datagram-too-large');
    assert.equal(warnings.length, 1);
  } finally {
    await sender.close();
  }
});

test('LF-framed (non-transparent) and RFC 3164 messages over TLS are accepted', { skip }, async () => {
  const xml = readFileSync(SAMPLE, 'utf8').replace(/\n\s*/g, ' ');
  const socket = await connectTls(collector.tlsClientOptions());
  try {
    socket.write(Buffer.concat([formatSyslogMessage(xml, { hostname: 'lf-host' }), Buffer.from('\n')]));
    socket.write(frameOctetCounting(Buffer.from(`<85>May  1 10:00:00 legacy-host audit: ${xml}`)));
    await collector.waitFor((r) => r.syslog.hostname === 'lf-host');
    const legacy = await collector.waitFor((r) => r.syslog.hostname === 'legacy-host');
    assert.equal(legacy.syslog.format, 'rfc3164');
  } finally {
    socket.destroy();
  }
});
