import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortReason, PduDecodeError, PduTooLargeError } from './errors.ts';
import {
  type AssociateAcPdu,
  type AssociateRqPdu,
  type ControlPdu,
  type PduDecoderSink,
  PduDecoder,
  PduType,
  decodeControlPdu,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodePDataTf,
  encodeReleaseRp,
  encodeReleaseRq,
} from './pdu.ts';

const sampleRq: AssociateRqPdu = {
  type: 'associate-rq',
  protocolVersion: 1,
  calledAeTitle: 'ARCHIVE',
  callingAeTitle: 'MODALITY1',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, abstractSyntaxUid: '1.2.840.10008.1.1', transferSyntaxUids: ['1.2.840.10008.1.2'] },
    { id: 3, abstractSyntaxUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUids: ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
  ],
  userInformation: {
    maxPduLength: 16384,
    implementationClassUid: '1.2.3.4.5',
    implementationVersionName: 'TEST_1',
    asyncOperations: { maxInvoked: 5, maxPerformed: 2 },
    roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: true, scpRole: true }],
    extendedNegotiations: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', serviceClassApplicationInformation: Buffer.from([1, 0, 1]) }],
    userIdentity: { type: 2, positiveResponseRequested: true, primaryField: Buffer.from('user'), secondaryField: Buffer.from('secret') },
  },
};

const sampleAc: AssociateAcPdu = {
  type: 'associate-ac',
  protocolVersion: 1,
  calledAeTitle: 'ARCHIVE',
  callingAeTitle: 'MODALITY1',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, result: 0, transferSyntaxUid: '1.2.840.10008.1.2' },
    { id: 3, result: 4, transferSyntaxUid: '' },
  ],
  userInformation: {
    maxPduLength: 32768,
    implementationClassUid: '1.2.3.4.6',
    implementationVersionName: 'ACCEPTOR',
    asyncOperations: { maxInvoked: 1, maxPerformed: 1 },
    roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: false, scpRole: true }],
    extendedNegotiations: [],
    userIdentityResponse: Buffer.from('token'),
  },
};

function bodyOf(pdu: Buffer): { type: number; body: Buffer } {
  assert.equal(pdu.readUInt32BE(2), pdu.length - 6, 'PDU length field matches');
  return { type: pdu[0]!, body: pdu.subarray(6) };
}

type Event = { kind: 'control'; pdu: ControlPdu } | { kind: 'pdv'; contextId: number; isCommand: boolean; isLast: boolean; data: Buffer } | { kind: 'error'; error: Error };

/** Collects decoder output, joining the fragments of each PDV. */
function collectingSink(events: Event[]): PduDecoderSink {
  let pending: Buffer[] = [];
  return {
    controlPdu: (pdu) => events.push({ kind: 'control', pdu }),
    pdvData: (contextId, isCommand, isLast, data, pdvComplete) => {
      pending.push(Buffer.from(data));
      if (pdvComplete) {
        events.push({ kind: 'pdv', contextId, isCommand, isLast, data: Buffer.concat(pending) });
        pending = [];
      }
    },
    decodeError: (error) => events.push({ kind: 'error', error }),
  };
}

const limits = { maxPDataLength: 1 << 20, maxControlLength: 64 * 1024 };

function sampleStream(): { bytes: Buffer; expected: Event[] } {
  const command = Buffer.from('command-set-bytes');
  const data1 = Buffer.alloc(3000, 0xaa);
  const data2 = Buffer.alloc(1001, 0xbb);
  const pdus = [
    encodeAssociateRq(sampleRq),
    encodePDataTf([{ contextId: 3, isCommand: true, isLast: true, data: command }]),
    encodePDataTf([
      { contextId: 3, isCommand: false, isLast: false, data: data1 },
      { contextId: 3, isCommand: false, isLast: true, data: data2 },
    ]),
    encodePDataTf([{ contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(0) }]),
    encodeReleaseRq(),
    encodeAbort(2, 6),
  ];
  const expected: Event[] = [
    { kind: 'control', pdu: sampleRq },
    { kind: 'pdv', contextId: 3, isCommand: true, isLast: true, data: command },
    { kind: 'pdv', contextId: 3, isCommand: false, isLast: false, data: data1 },
    { kind: 'pdv', contextId: 3, isCommand: false, isLast: true, data: data2 },
    { kind: 'pdv', contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(0) },
    { kind: 'control', pdu: { type: 'release-rq' } },
    { kind: 'control', pdu: { type: 'abort', source: 2, reason: 6 } },
  ];
  return { bytes: Buffer.concat(pdus), expected };
}

/** A small deterministic PRNG so failures are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

describe('PDU encoding round trips', () => {
  it('A-ASSOCIATE-RQ with every user information sub-item', () => {
    const { type, body } = bodyOf(encodeAssociateRq(sampleRq));
    assert.equal(type, PduType.AssociateRq);
    assert.deepEqual(decodeControlPdu(type, body), sampleRq);
  });

  it('A-ASSOCIATE-AC with a rejected context and a user identity response', () => {
    const { type, body } = bodyOf(encodeAssociateAc(sampleAc));
    assert.deepEqual(decodeControlPdu(type, body), sampleAc);
  });

  it('A-ASSOCIATE-RJ, A-RELEASE-RQ/RP and A-ABORT', () => {
    const rj = bodyOf(encodeAssociateRj(1, 1, 7));
    assert.deepEqual(decodeControlPdu(rj.type, rj.body), { type: 'associate-rj', result: 1, source: 1, reason: 7 });
    const rq = bodyOf(encodeReleaseRq());
    assert.deepEqual(decodeControlPdu(rq.type, rq.body), { type: 'release-rq' });
    const rp = bodyOf(encodeReleaseRp());
    assert.deepEqual(decodeControlPdu(rp.type, rp.body), { type: 'release-rp' });
    const abort = encodeAbort(2, 4);
    assert.deepEqual([...abort], [0x07, 0, 0, 0, 0, 4, 0, 0, 2, 4]);
  });

  it('AE titles are space padded to 16 bytes at fixed offsets', () => {
    const pdu = encodeAssociateRq(sampleRq);
    assert.equal(pdu.toString('latin1', 10, 26), 'ARCHIVE         ');
    assert.equal(pdu.toString('latin1', 26, 42), 'MODALITY1       ');
  });

  it('rejects invalid AE titles when encoding', () => {
    assert.throws(() => encodeAssociateRq({ ...sampleRq, callingAeTitle: 'WAY_TOO_LONG_AE_TITLE' }), /AE title/);
    assert.throws(() => encodeAssociateRq({ ...sampleRq, calledAeTitle: 'BACK\\SLASH' }), /AE title/);
  });

  it('P-DATA-TF message control header bits', () => {
    const pdu = encodePDataTf([{ contextId: 5, isCommand: true, isLast: false, data: Buffer.from([9, 9]) }]);
    assert.deepEqual([...pdu], [0x04, 0, 0, 0, 0, 8, 0, 0, 0, 4, 5, 0x01, 9, 9]);
  });
});

describe('PduDecoder', () => {
  it('decodes a stream delivered in one chunk', () => {
    const { bytes, expected } = sampleStream();
    const events: Event[] = [];
    new PduDecoder(collectingSink(events), limits).push(bytes);
    assert.deepEqual(events, expected);
  });

  it('decodes the same stream fed byte by byte', () => {
    const { bytes, expected } = sampleStream();
    const events: Event[] = [];
    const decoder = new PduDecoder(collectingSink(events), limits);
    for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1));
    assert.deepEqual(events, expected);
  });

  it('decodes the same stream in random chunk sizes', () => {
    const { bytes, expected } = sampleStream();
    for (let seed = 1; seed <= 50; seed++) {
      const next = random(seed);
      const events: Event[] = [];
      const decoder = new PduDecoder(collectingSink(events), limits);
      let offset = 0;
      while (offset < bytes.length) {
        const size = 1 + Math.floor(next() * 700);
        decoder.push(bytes.subarray(offset, offset + size));
        offset += size;
      }
      assert.deepEqual(events, expected, `seed ${seed}`);
    }
  });

  it('hands P-DATA payloads on as views of the received chunk (no copy)', () => {
    const payload = Buffer.alloc(5000, 1);
    const chunk = encodePDataTf([{ contextId: 1, isCommand: false, isLast: true, data: payload }]);
    const views: Buffer[] = [];
    const decoder = new PduDecoder(
      { controlPdu: () => {}, pdvData: (_c, _cmd, _l, data) => views.push(data), decodeError: (e) => assert.fail(e) },
      limits,
    );
    decoder.push(chunk);
    assert.equal(views.length, 1);
    assert.equal(views[0]!.buffer, chunk.buffer, 'same ArrayBuffer');
    assert.equal(views[0]!.byteOffset, chunk.byteOffset + 12);
  });

  it('pauses at a PDV boundary and resumes with the rest of the chunk', () => {
    const { bytes, expected } = sampleStream();
    const events: Event[] = [];
    const sink = collectingSink(events);
    const holder: { decoder?: PduDecoder } = {};
    const pausingSink: PduDecoderSink = {
      ...sink,
      pdvData: (...args) => {
        sink.pdvData(...args);
        if (args[4]) holder.decoder!.pause();
      },
    };
    const decoder = new PduDecoder(pausingSink, limits);
    holder.decoder = decoder;
    decoder.push(bytes);
    assert.equal(events.length, 2, 'stopped after the first PDV');
    assert.ok(decoder.pendingBytes > 0);
    while (decoder.isPaused) decoder.resume();
    assert.deepEqual(events, expected);
  });

  it('reports a P-DATA-TF longer than the limit before reading its body', () => {
    const events: Event[] = [];
    const decoder = new PduDecoder(collectingSink(events), { maxPDataLength: 1000, maxControlLength: 100 });
    const header = Buffer.from([0x04, 0, 0x7f, 0xff, 0xff, 0xff]);
    decoder.push(header);
    assert.equal(events.length, 1);
    const event = events[0]!;
    assert.ok(event.kind === 'error' && event.error instanceof PduTooLargeError);
    assert.equal((event.error as PduTooLargeError).abortReason, AbortReason.InvalidPduParameterValue);
    decoder.push(Buffer.alloc(100));
    assert.equal(events.length, 1, 'nothing more after a failure');
  });

  it('limits the size of associate PDUs separately', () => {
    const events: Event[] = [];
    new PduDecoder(collectingSink(events), { maxPDataLength: 1 << 20, maxControlLength: 64 * 1024 }).push(Buffer.from([0x01, 0, 0, 0x01, 0x00, 0x01]));
    assert.ok(events[0]?.kind === 'error' && events[0].error instanceof PduTooLargeError);
  });

  it('rejects unknown PDU types with reason "unrecognized PDU"', () => {
    const events: Event[] = [];
    new PduDecoder(collectingSink(events), limits).push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const event = events[0]!;
    assert.ok(event.kind === 'error' && event.error instanceof PduDecodeError);
    assert.equal((event.error as PduDecodeError).abortReason, AbortReason.UnrecognizedPdu);
  });

  it('rejects PDV items that overrun their PDU', () => {
    const bad = Buffer.from([0x04, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 0, 0, 0]);
    const events: Event[] = [];
    new PduDecoder(collectingSink(events), limits).push(bad);
    assert.ok(events[0]?.kind === 'error' && events[0].error instanceof PduDecodeError);
  });

  it('rejects truncated and inconsistent associate requests', () => {
    const good = encodeAssociateRq(sampleRq);
    // Shorten an item length so the items no longer tile the PDU.
    const corrupt = Buffer.from(good);
    corrupt.writeUInt16BE(0xffff, 6 + 68 + 2);
    assert.throws(() => decodeControlPdu(PduType.AssociateRq, corrupt.subarray(6)), PduDecodeError);
    assert.throws(() => decodeControlPdu(PduType.AssociateRq, good.subarray(6, 40)), PduDecodeError);
    assert.throws(() => decodeControlPdu(PduType.ReleaseRq, Buffer.alloc(2)), PduDecodeError);
  });

  it('survives random garbage without throwing', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const garbage = Buffer.alloc(1 + Math.floor(next() * 300));
      for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(next() * 256);
      // Make some of them start like real PDUs so the item parsers get exercised too.
      if (seed % 2 === 0) garbage[0] = 1 + (seed % 7);
      const events: Event[] = [];
      assert.doesNotThrow(() => new PduDecoder(collectingSink(events), limits).push(garbage));
      for (const e of events) if (e.kind === 'error') assert.ok(e.error instanceof Error);
    }
  });
});
