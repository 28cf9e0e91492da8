// The durable sender against a receiver that is down, comes up, goes away and comes back, and
// across a restart of the sending process (a new sender on the same spool folder).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '../../../test-support/system-tools.ts';
import { AuditTransportError, DurableAuditSender, type AuditMessage, type DurableAuditSenderOptions } from './index.ts';
import { createTestPki, sampleAuditMessages, startAuditCollector, type AuditCollector, type TestPki } from './testing.ts';

const skip = requireTools({ commands: ['openssl'] });
let pki: TestPki;
let spoolRoot: string;
const messages: AuditMessage[] = Object.values(sampleAuditMessages());

before(async () => {
  if (skip) return;
  pki = await createTestPki();
  spoolRoot = await mkdtemp(join(tmpdir(), 'audit-spool-test-'));
});
after(async () => {
  if (spoolRoot) await rm(spoolRoot, { recursive: true, force: true });
});

/** A free TLS port: start a collector to learn one, then stop it (the repository is "down"). */
async function downRepositoryPort(): Promise<number> {
  const probe = await startAuditCollector({ pki });
  const port = probe.tlsPort;
  await probe.close();
  return port;
}

function senderOptions(directory: string, port: number, extra: Partial<DurableAuditSenderOptions> = {}): DurableAuditSenderOptions {
  return {
    directory,
    tls: { host: '127.0.0.1', port, ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost', connectTimeoutMs: 2_000 },
    settleMs: 100,
    initialRetryDelayMs: 50,
    maxRetryDelayMs: 200,
    hostname: 'durable-test',
    ...extra,
  };
}

async function spoolFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((n) => n.endsWith('.syslog')).sort();
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('repository down: messages wait on disk; repository up: all delivered once, in order', { skip }, async () => {
  const directory = join(spoolRoot, 'down-up');
  const port = await downRepositoryPort();
  const sender = await DurableAuditSender.open(senderOptions(directory, port));
  let collector: AuditCollector | undefined;
  try {
    const ids: string[] = [];
    for (const m of messages) ids.push((await sender.send(m)).id);
    assert.equal((await spoolFiles(directory)).length, messages.length, 'send() returns once the message is on disk');
    await delay(400); // several failed connection attempts
    assert.equal((await spoolFiles(directory)).length, messages.length);

    collector = await startAuditCollector({ pki, tlsPort: port });
    await collector.waitForCount(messages.length, 10_000);
    assert.equal(await sender.flush(5_000), true);
    assert.deepEqual(await spoolFiles(directory), []);
    assert.equal(sender.deliveredCount, messages.length);
    await delay(300);
    assert.deepEqual(
      collector.records.map((r) => r.messageId),
      ids,
      'each message exactly once, in send order',
    );
    assert.deepEqual(
      collector.records.map((r) => r.message),
      messages,
    );
  } finally {
    await sender.close();
    await collector?.close();
  }
});

test('process restart: a new sender on the same folder delivers what the old one left', { skip }, async () => {
  const directory = join(spoolRoot, 'restart');
  const port = await downRepositoryPort();
  const first = await DurableAuditSender.open(senderOptions(directory, port));
  const ids: string[] = [];
  for (const m of messages.slice(0, 10)) ids.push((await first.send(m)).id);
  await first.close({ flush: false }); // the process goes away with the repository still down
  assert.equal((await spoolFiles(directory)).length, 10);
  // A send() interrupted by a crash leaves only a temp file: never acknowledged, so never delivered.
  await writeFile(join(directory, '.tmp-interrupted'), 'partial');

  const collector = await startAuditCollector({ pki, tlsPort: port });
  const second = await DurableAuditSender.open(senderOptions(directory, port));
  try {
    const later = (await second.send(messages[10] as AuditMessage)).id;
    await collector.waitForCount(11, 10_000);
    assert.equal(await second.flush(5_000), true);
    await delay(300);
    assert.deepEqual(
      collector.records.map((r) => r.messageId),
      [...ids, later],
    );
    assert.deepEqual(await readdir(directory), ['.lock'], 'temp file removed, spool empty');
    await assert.rejects(
      DurableAuditSender.open(senderOptions(directory, port)),
      (e: unknown) => e instanceof AuditTransportError && e.code === 'spool-locked',
      'one sender per folder',
    );
  } finally {
    await second.close();
    await collector.close();
  }
});

test('delivered but not yet deleted at a crash: the repeat carries the same message id', { skip }, async () => {
  const directory = join(spoolRoot, 'crash-window');
  const collector = await startAuditCollector({ pki });
  try {
    // A long settle time keeps the file after delivery, as if the process died right after sending.
    const first = await DurableAuditSender.open(senderOptions(directory, collector.tlsPort, { settleMs: 60_000 }));
    const { id } = await first.send(messages[0] as AuditMessage);
    await collector.waitForCount(1);
    await first.close({ flush: false });
    assert.equal((await spoolFiles(directory)).length, 1);

    const second = await DurableAuditSender.open(senderOptions(directory, collector.tlsPort));
    await collector.waitForCount(2);
    assert.equal(await second.flush(5_000), true);
    await second.close();
    const [a, b] = collector.records;
    assert.equal(a?.messageId, id);
    assert.equal(b?.messageId, id, 'the receiver can de-duplicate by messageId');
    assert.equal(a?.xml, b?.xml);
    assert.equal(a?.syslog.timestamp, b?.syslog.timestamp, 'identical bytes on every delivery');
  } finally {
    await collector.close();
  }
});

test('repository lost before messages settle: they are sent again, none lost', { skip }, async () => {
  const directory = join(spoolRoot, 'lost');
  let collector = await startAuditCollector({ pki });
  const port = collector.tlsPort;
  const sender = await DurableAuditSender.open(senderOptions(directory, port, { settleMs: 2_000 }));
  try {
    const ids: string[] = [];
    for (const m of messages.slice(0, 5)) ids.push((await sender.send(m)).id);
    await collector.waitForCount(5);
    await collector.close(); // before the 2 s settle time
    assert.equal((await spoolFiles(directory)).length, 5);

    collector = await startAuditCollector({ pki, tlsPort: port });
    await collector.waitForCount(5, 10_000);
    assert.equal(await sender.flush(10_000), true);
    assert.deepEqual(collector.records.map((r) => r.messageId), ids);
    assert.deepEqual(await spoolFiles(directory), []);
  } finally {
    await sender.close();
    await collector.close();
  }
});

test('close() with flush delivers and removes everything; send() after close is refused', { skip }, async () => {
  const directory = join(spoolRoot, 'close-flush');
  const collector = await startAuditCollector({ pki });
  try {
    const sender = await DurableAuditSender.open(senderOptions(directory, collector.tlsPort, { settleMs: 60_000 }));
    for (const m of messages.slice(0, 3)) await sender.send(m);
    await collector.waitForCount(3);
    await sender.close(); // a clean TLS close counts as delivery, despite the long settle time
    assert.deepEqual(await spoolFiles(directory), []);
    await assert.rejects(sender.send(messages[0] as AuditMessage), /closed/);
    await delay(200);
    assert.equal(collector.records.length, 3);
  } finally {
    await collector.close();
  }
});
