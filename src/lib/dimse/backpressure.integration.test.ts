// Backpressure: a 200 MB object is sent to a handler that reads slowly. The bytes queued in the
// data stream and the process RSS must stay far below the object size (the socket is paused
// instead of buffering), and the handler must see every byte in order.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type TestContext, after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { storescu } from '../../../test-support/dcmtk.ts';
import { requireTools } from '../../../test-support/system-tools.ts';
import { DicomClient } from './client.ts';
import { encodeDataSet } from './dataset-codec.ts';
import { DicomServer } from './server.ts';
import { Status } from './status.ts';
import { TransferSyntax } from './uids.ts';

const OBJECT_BYTES = 200 * 1024 * 1024;
const STORE_HIGH_WATER_MARK = 1024 * 1024;
const ENCAPSULATED_PDF = '1.2.840.10008.5.1.4.1.1.104.1';
const SOP_INSTANCE = '2.25.314159265358979323846264338327950288';

/** Writes a Part 10 file whose data set ends in a 200 MB OB value; returns the data set's SHA-256 and size. */
async function writeLargeObject(path: string): Promise<{ sha256: string; dataSetBytes: number }> {
  const meta = encodeDataSet([
    { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
    { tag: 0x00020002, value: ENCAPSULATED_PDF },
    { tag: 0x00020003, value: SOP_INSTANCE },
    { tag: 0x00020010, value: TransferSyntax.ExplicitVRLittleEndian },
  ]);
  const head = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), encodeDataSet([{ tag: 0x00020000, value: meta.length }]), meta]);
  const dataSetHead = encodeDataSet([
    { tag: 'SOPClassUID', value: ENCAPSULATED_PDF },
    { tag: 'SOPInstanceUID', value: SOP_INSTANCE },
  ]);
  // Encapsulated Document (0042,0011) OB, 32-bit length.
  const valueHeader = Buffer.from([0x42, 0x00, 0x11, 0x00, 0x4f, 0x42, 0, 0, 0, 0, 0, 0]);
  valueHeader.writeUInt32LE(OBJECT_BYTES, 8);
  const hash = createHash('sha256').update(dataSetHead).update(valueHeader);
  const out = createWriteStream(path);
  const write = async (chunk: Buffer): Promise<void> => {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  await write(Buffer.concat([head, dataSetHead, valueHeader]));
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < OBJECT_BYTES / block.length; i++) {
    const chunk = Buffer.from(block.fill((i * 7) & 0xff)); // a fresh buffer: the stream keeps it
    chunk.writeUInt32LE(i, 0);
    hash.update(chunk);
    await write(chunk);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { sha256: hash.digest('hex'), dataSetBytes: dataSetHead.length + valueHeader.length + OBJECT_BYTES };
}

interface SlowResult {
  sha256: string;
  bytes: number;
  maxQueuedChunks: number;
}

/** A handler that hashes the data and pauses 15 ms every 4 MiB: far slower than loopback. */
async function slowConsumer(data: Readable): Promise<SlowResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  let sincePause = 0;
  let maxQueuedChunks = 0;
  for await (const chunk of data as AsyncIterable<Buffer>) {
    maxQueuedChunks = Math.max(maxQueuedChunks, data.readableLength);
    hash.update(chunk);
    bytes += chunk.length;
    sincePause += chunk.length;
    if (sincePause >= 4 * 1024 * 1024) {
      sincePause = 0;
      await sleep(15);
    }
  }
  return { sha256: hash.digest('hex'), bytes, maxQueuedChunks };
}

/** Samples RSS while `run` executes; returns the peak growth over the starting RSS. */
async function peakRssGrowth<T>(run: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

describe('backpressure with a 200 MB object', () => {
  let dir = '';
  let path = '';
  let expectedSha = '';
  let expectedBytes = 0;
  let server: DicomServer;
  let port = 0;
  let results: SlowResult[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dimse-large-'));
    path = join(dir, 'large.dcm');
    ({ sha256: expectedSha, dataSetBytes: expectedBytes } = await writeLargeObject(path));
    server = new DicomServer({
      storeHighWaterMark: STORE_HIGH_WATER_MARK,
      handlers: {
        async onCStore(_request, data) {
          results.push(await slowConsumer(data));
          return { status: Status.Success };
        },
      },
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  });

  after(async () => {
    await server?.close({ graceMs: 1000 });
    await rm(dir, { recursive: true, force: true });
  });

  function assertBounded(t: TestContext, result: SlowResult, growth: number): void {
    // Each queued chunk is at most one PDV: the server announces a 16 KiB maximum PDU.
    const queuedBound = result.maxQueuedChunks * 16384;
    t.diagnostic(`peak queue ${result.maxQueuedChunks} chunks (<= ${(queuedBound / 2 ** 20).toFixed(2)} MiB), peak RSS growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
    assert.equal(result.sha256, expectedSha, 'every byte arrived, in order');
    assert.equal(result.bytes, expectedBytes);
    assert.ok(queuedBound <= 2 * STORE_HIGH_WATER_MARK, `queued at most ${queuedBound} bytes`);
    assert.ok(growth < OBJECT_BYTES / 2, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB for a ${OBJECT_BYTES / 2 ** 20} MiB object`);
  }

  it('storescu to a slow handler: memory stays bounded', { skip: requireTools({ commands: ['storescu'] }), timeout: 180_000 }, async (t) => {
    results = [];
    const { value: sent, growth } = await peakRssGrowth(() => storescu({ port, files: [path], extraArgs: ['-R', '-xe'], timeoutMs: 170_000 }));
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(results.length, 1);
    assertBounded(t, results[0]!, growth);
  });

  it('DicomClient.storeFile streams from disk to a slow handler: memory stays bounded', { timeout: 180_000 }, async (t) => {
    results = [];
    const { value: response, growth } = await peakRssGrowth(async () => {
      const client = await DicomClient.connect({
        host: '127.0.0.1',
        port,
        callingAeTitle: 'BIGSCU',
        calledAeTitle: 'SLOWSCP',
        contexts: [{ abstractSyntaxUid: ENCAPSULATED_PDF, transferSyntaxUids: [TransferSyntax.ExplicitVRLittleEndian] }],
      });
      try {
        return await client.storeFile(path);
      } finally {
        await client.release();
      }
    });
    assert.equal(response.status, Status.Success);
    assert.equal(results.length, 1);
    assertBounded(t, results[0]!, growth);
  });
});
