// DicomServer and DicomClient against each other, plus raw sockets for malformed input.
// No system tools needed; everything listens on 127.0.0.1 with port 0.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DicomClient, type DicomClientOptions } from './client.ts';
import { decodeDataSet, encodeDataSet } from './dataset-codec.ts';
import { createCEchoRequest, decodeCommandSet, encodeCommandSet } from './dimse-command.ts';
import { AssociationAbortedError, AssociationRejectedError, DimseStatusError, NoPresentationContextError } from './errors.ts';
import { Reject, acceptAssociation } from './negotiation.ts';
import { PduDecoder, PduType, encodeAssociateRq, encodePDataTf, encodeReleaseRq } from './pdu.ts';
import { type DicomServerOptions, DicomServer } from './server.ts';
import type { CStoreRequest, ServerAssociation } from './server-association.ts';
import { Status } from './status.ts';
import { SopClass, TransferSyntax } from './uids.ts';

const servers: DicomServer[] = [];
const clients: DicomClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.abort();
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function startServer(options: DicomServerOptions = {}): Promise<{ server: DicomServer; port: number }> {
  const server = new DicomServer(options);
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}

const SC = SopClass.SecondaryCaptureImageStorage;
const EXPLICIT = TransferSyntax.ExplicitVRLittleEndian;

async function connectClient(port: number, overrides: Partial<DicomClientOptions> = {}): Promise<DicomClient> {
  const client = await DicomClient.connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TESTSCU',
    calledAeTitle: 'TESTSCP',
    contexts: [
      { abstractSyntaxUid: SopClass.Verification, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
      { abstractSyntaxUid: SC, transferSyntaxUids: [EXPLICIT] },
      { abstractSyntaxUid: SopClass.StudyRootQueryRetrieveFind, transferSyntaxUids: [EXPLICIT, TransferSyntax.ImplicitVRLittleEndian] },
      { abstractSyntaxUid: SopClass.StudyRootQueryRetrieveMove, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] },
    ],
    timeoutMs: 5000,
    dimseTimeoutMs: 10_000,
    ...overrides,
  });
  clients.push(client);
  return client;
}

/** Collects everything a raw socket receives until it closes. */
function rawConnection(port: number): { socket: Socket; received: Promise<Buffer> } {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const received = once(socket, 'close').then(() => Buffer.concat(chunks));
  return { socket, received };
}

function verificationRq(): Buffer {
  return encodeAssociateRq({
    protocolVersion: 1,
    calledAeTitle: 'TESTSCP',
    callingAeTitle: 'RAW',
    applicationContextName: '1.2.840.10008.3.1.1.1',
    presentationContexts: [{ id: 1, abstractSyntaxUid: SopClass.Verification, transferSyntaxUids: [TransferSyntax.ImplicitVRLittleEndian] }],
    userInformation: { maxPduLength: 16384, implementationClassUid: '1.2.3', roleSelections: [], extendedNegotiations: [] },
  });
}

function dataSetBytes(size: number, seed = 1): Buffer {
  const header = encodeDataSet([
    { tag: 'SOPClassUID', value: SC },
    { tag: 'SOPInstanceUID', value: `1.2.3.${seed}` },
  ]);
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + seed) & 0xff;
  return Buffer.concat([header, body]);
}

async function collect(data: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of data as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('DicomServer with DicomClient', () => {
  it('answers C-ECHO and reports the association', async () => {
    const { server, port } = await startServer();
    const established = once(server, 'association') as Promise<[ServerAssociation]>;
    const client = await connectClient(port);
    const [association] = await established;
    assert.equal(association.callingAeTitle, 'TESTSCU');
    assert.equal(association.calledAeTitle, 'TESTSCP');
    assert.equal((await client.echo()).status, Status.Success);
    const ended = once(server, 'associationEnded');
    await client.release();
    const [, error] = (await ended) as [ServerAssociation, Error | null];
    assert.equal(error, null, 'clean release');
  });

  it('streams C-STORE data sets from buffers and streams, byte for byte', async () => {
    const received: Array<{ request: CStoreRequest; bytes: Buffer }> = [];
    const { port } = await startServer({
      handlers: {
        async onCStore(request, data) {
          received.push({ request, bytes: await collect(data) });
          return { status: Status.Success };
        },
      },
    });
    const client = await connectClient(port, { maxSendPduLength: 4096 });
    const small = dataSetBytes(11, 1); // odd length: sent with one NUL pad byte
    const large = dataSetBytes(3_000_000, 2);
    assert.equal((await client.storeDataSet({ sopClassUid: SC, sopInstanceUid: '1.2.3.1', transferSyntaxUid: EXPLICIT, data: small })).status, 0);
    const stream = Readable.from(
      (function* () {
        for (let offset = 0; offset < large.length; offset += 77_777) yield large.subarray(offset, offset + 77_777);
      })(),
    );
    const response = await client.storeDataSet({ sopClassUid: SC, sopInstanceUid: '1.2.3.2', transferSyntaxUid: EXPLICIT, data: stream, moveOriginatorAeTitle: 'MOVER', moveOriginatorMessageId: 42 });
    assert.equal(response.status, 0);
    assert.equal(received.length, 2);
    assert.deepEqual(received[0]!.bytes, Buffer.concat([small, Buffer.alloc(1)]));
    assert.deepEqual(received[1]!.bytes, large);
    const request = received[1]!.request;
    assert.equal(request.affectedSopInstanceUid, '1.2.3.2');
    assert.equal(request.transferSyntaxUid, EXPLICIT);
    assert.equal(request.abstractSyntaxUid, SC);
    assert.equal(request.moveOriginatorAeTitle, 'MOVER');
    assert.equal(request.moveOriginatorMessageId, 42);
    await client.release();
  });

  it('returns the handler status, maps handler errors, and survives early answers', async () => {
    let call = 0;
    const { port } = await startServer({
      handlers: {
        async onCStore(_request, data) {
          call++;
          if (call === 1) {
            await collect(data);
            return { status: Status.CoercionOfDataElements, errorComment: 'coerced' };
          }
          if (call === 2) throw new Error('disk on fire');
          if (call === 3) return { status: Status.OutOfResources }; // answers without reading the data
          await collect(data);
          return { status: Status.Success };
        },
      },
    });
    const client = await connectClient(port);
    const store = (n: number) => client.storeDataSet({ sopClassUid: SC, sopInstanceUid: `1.2.3.${n}`, transferSyntaxUid: EXPLICIT, data: dataSetBytes(200_000, n) });
    const warning = await store(1);
    assert.equal(warning.status, Status.CoercionOfDataElements);
    assert.equal(warning.errorComment, 'coerced');
    assert.equal((await store(2)).status, Status.ProcessingFailure);
    assert.equal((await store(3)).status, Status.OutOfResources);
    assert.equal((await store(4)).status, Status.Success, 'association still in step after an early answer');
    await client.release();
  });

  it('rejects associations as the application decides', async () => {
    const { port } = await startServer({
      handlers: {
        onAssociationRequest: (info) => (info.calledAeTitle === 'TESTSCP' ? acceptAssociation(info) : Reject.calledAeTitleNotRecognized()),
      },
    });
    await assert.rejects(connectClient(port, { calledAeTitle: 'SOMEONE_ELSE' }), (err: unknown) => {
      assert.ok(err instanceof AssociationRejectedError);
      assert.deepEqual([err.result, err.source, err.reason], [1, 1, 7]);
      return true;
    });
    const client = await connectClient(port);
    assert.equal((await client.echo()).status, 0);
  });

  it('negotiates contexts per policy; unaccepted ones cannot be used', async () => {
    const { port } = await startServer({
      handlers: { onAssociationRequest: (info) => acceptAssociation(info, { abstractSyntaxes: [SopClass.Verification] }) },
    });
    const client = await connectClient(port);
    assert.equal(client.acceptedContexts.size, 1);
    await assert.rejects(client.storeDataSet({ sopClassUid: SC, sopInstanceUid: '1.2', transferSyntaxUid: EXPLICIT, data: Buffer.alloc(4) }), NoPresentationContextError);
    assert.equal((await client.echo()).status, 0);
  });

  it('serves C-FIND through the hook, and C-CANCEL stops it', async () => {
    let cancelled = false;
    const { port } = await startServer({
      handlers: {
        async *onCFind(request, _association, signal) {
          const keys = decodeDataSet(request.identifier, { explicitVr: request.transferSyntaxUid !== TransferSyntax.ImplicitVRLittleEndian });
          if (keys.PatientID !== 'ENDLESS') {
            for (const id of ['A', 'B', 'C']) yield [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID', value: id }];
            return;
          }
          for (let i = 0; !signal.aborted; i++) {
            yield [{ tag: 'PatientID', value: `P${i}` }];
            await sleep(5);
          }
          cancelled = true;
        },
      },
    });
    const client = await connectClient(port);
    const query = { identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID' }] };
    const matches = await client.findAll(query);
    assert.deepEqual(matches, [
      { QueryRetrieveLevel: 'STUDY', PatientID: 'A' },
      { QueryRetrieveLevel: 'STUDY', PatientID: 'B' },
      { QueryRetrieveLevel: 'STUDY', PatientID: 'C' },
    ]);
    let seen = 0;
    const endless = { identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'PatientID', value: 'ENDLESS' }] };
    for await (const match of client.find(endless)) {
      assert.match(String(match.PatientID), /^P\d+$/);
      if (++seen === 2) break; // sends C-CANCEL and drains to the final response
    }
    assert.equal(seen, 2);
    assert.ok(cancelled, 'the handler saw the cancellation');
    assert.equal((await client.echo()).status, 0, 'association usable after the cancel');
  });

  it('serves C-MOVE through the hook with progress; no hook means failure', async () => {
    const { port } = await startServer({
      handlers: {
        async *onCMove(request) {
          assert.equal(request.moveDestination, 'DEST');
          yield { remaining: 2, completed: 1, failed: 0, warning: 0 };
          yield { remaining: 1, completed: 1, failed: 1, warning: 0 };
          yield { remaining: 0, completed: 2, failed: 1, warning: 0 };
        },
      },
    });
    const client = await connectClient(port);
    const progress: number[] = [];
    const result = await client.move({ destination: 'DEST', identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }, { tag: 'StudyInstanceUID', value: '1.2.3' }] }, { onProgress: (p) => progress.push(p.completed) });
    assert.deepEqual(progress, [1, 1, 2]);
    assert.equal(result.status, Status.CoercionOfDataElements, 'one failure: warning B000');
    assert.deepEqual([result.completed, result.failed, result.warning], [2, 1, 0]);

    const { port: port2 } = await startServer();
    const client2 = await connectClient(port2);
    await assert.rejects(client2.move({ destination: 'DEST', identifier: [{ tag: 'QueryRetrieveLevel', value: 'STUDY' }] }), (err: unknown) => err instanceof DimseStatusError && err.status === Status.UnableToProcess);
  });

  it('destroys the data stream with an error when the association is aborted mid-object', async () => {
    let streamError: unknown;
    let signalData!: () => void;
    const gotData = new Promise<void>((resolve) => (signalData = resolve));
    const { port } = await startServer({
      handlers: {
        async onCStore(_request, data) {
          try {
            for await (const _chunk of data) signalData();
          } catch (err) {
            streamError = err;
          }
          return { status: 0 };
        },
      },
    });
    const client = await connectClient(port);
    const source = new PassThrough();
    const store = client.storeDataSet({ sopClassUid: SC, sopInstanceUid: '1.2.9', transferSyntaxUid: EXPLICIT, data: source });
    source.write(Buffer.alloc(100_000, 1));
    await gotData;
    client.abort();
    await assert.rejects(store, AssociationAbortedError);
    for (let i = 0; i < 50 && streamError === undefined; i++) await sleep(10);
    assert.ok(streamError instanceof AssociationAbortedError, `handler saw ${String(streamError)}`);
    source.destroy();
  });

  it('serves several associations at once', async () => {
    const stored: string[] = [];
    const { server, port } = await startServer({
      handlers: {
        async onCStore(request, data) {
          await collect(data);
          stored.push(request.affectedSopInstanceUid);
          return { status: 0 };
        },
      },
    });
    let peak = 0;
    server.on('association', () => (peak = Math.max(peak, server.associationCount)));
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (n) => {
        const client = await connectClient(port, { callingAeTitle: `SCU${n}` });
        for (let i = 0; i < 5; i++) await client.storeDataSet({ sopClassUid: SC, sopInstanceUid: `1.${n}.${i}`, transferSyntaxUid: EXPLICIT, data: dataSetBytes(50_000, i) });
        await client.release();
      }),
    );
    assert.equal(stored.length, 25);
    assert.ok(peak >= 2, `associations overlapped (peak ${peak})`);
  });
});

describe('DicomServer robustness', () => {
  it('answers garbage with A-ABORT (source 2) and keeps serving others', async () => {
    const { port } = await startServer();
    const client = await connectClient(port);
    const { socket, received } = rawConnection(port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const bytes = await received;
    assert.equal(bytes[0], PduType.Abort);
    assert.deepEqual([bytes[8], bytes[9]], [2, 1], 'source service provider, reason unrecognized PDU');
    assert.equal((await client.echo()).status, 0);
  });

  it('aborts on an oversized P-DATA-TF and an oversized associate request', async () => {
    const { port } = await startServer({ maxPduLength: 16384, maxPDataPduLength: 1 << 20 });
    const client = await connectClient(port);

    const pdata = rawConnection(port);
    pdata.socket.write(verificationRq());
    await once(pdata.socket, 'data'); // A-ASSOCIATE-AC
    pdata.socket.write(Buffer.from([0x04, 0x00, 0x7f, 0xff, 0xff, 0xff, 0, 0]));
    const answer = await pdata.received;
    const abort = answer.subarray(answer.length - 10);
    assert.equal(abort[0], PduType.Abort);
    assert.deepEqual([abort[8], abort[9]], [2, 6], 'invalid PDU parameter value');

    const rq = rawConnection(port);
    rq.socket.write(Buffer.from([0x01, 0x00, 0x00, 0x10, 0x00, 0x00]));
    const rqAnswer = await rq.received;
    assert.equal(rqAnswer[0], PduType.Abort);

    assert.equal((await client.echo()).status, 0, 'the other association is unaffected');
  });

  it('aborts on a data fragment no command announced and on a P-DATA-TF before association', async () => {
    const { port } = await startServer();
    const early = rawConnection(port);
    early.socket.write(Buffer.from([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 3]));
    const bytes = await early.received;
    assert.deepEqual([bytes[0], bytes[8], bytes[9]], [PduType.Abort, 2, 2], 'unexpected PDU');

    const stray = rawConnection(port);
    stray.socket.write(verificationRq());
    await once(stray.socket, 'data');
    stray.socket.write(Buffer.from([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 1, 2]));
    const strayBytes = await stray.received;
    assert.equal(strayBytes.subarray(strayBytes.length - 10)[0], PduType.Abort);
  });

  it('tolerates odd requests: an AE title with a backslash, an unknown item, a throwing listener', async () => {
    const { server, port } = await startServer();
    server.on('association', () => {
      throw new Error('listener bug');
    });
    const rq = verificationRq();
    const oddAeTitle = 'BAD\\AE'.padEnd(16, ' ');
    rq.write(oddAeTitle, 26, 'latin1'); // calling AE title field
    const unknownItem = Buffer.from([0x77, 0x00, 0x00, 0x02, 0x01, 0x02]);
    const withUnknown = Buffer.concat([rq, unknownItem]);
    withUnknown.writeUInt32BE(rq.readUInt32BE(2) + unknownItem.length, 2);
    const { socket, received } = rawConnection(port);
    socket.write(withUnknown);
    const [answer] = (await once(socket, 'data')) as [Buffer];
    assert.equal(answer[0], PduType.AssociateAc);
    assert.equal(answer.toString('latin1', 26, 42), oddAeTitle, 'echoed as received');
    socket.end();
    await received;
    const client = await connectClient(port);
    assert.equal((await client.echo()).status, 0);
  });

  it('holds a request sent before the previous answer and answers both in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { port } = await startServer({
      handlers: {
        async onCEcho() {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await sleep(50);
          inFlight--;
          return { status: Status.Success };
        },
      },
    });
    const { socket, received } = rawConnection(port);
    socket.write(verificationRq());
    await once(socket, 'data'); // A-ASSOCIATE-AC
    const echo = (id: number) => encodePDataTf([{ contextId: 1, isCommand: true, isLast: true, data: encodeCommandSet(createCEchoRequest(id)) }]);
    socket.write(Buffer.concat([echo(1), echo(2), encodeReleaseRq()])); // no waiting in between
    const answers: number[] = [];
    const decoder = new PduDecoder(
      {
        controlPdu: (pdu) => {
          if (pdu.type === 'release-rp') socket.end();
        },
        pdvData: (_c, isCommand, _l, data) => {
          if (isCommand) answers.push(decodeCommandSet(data).messageIdBeingRespondedTo ?? -1);
        },
        decodeError: (err) => assert.fail(err),
      },
      { maxPDataLength: 1 << 20, maxControlLength: 1 << 16 },
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    await received;
    assert.deepEqual(answers, [1, 2]);
    assert.equal(maxInFlight, 1, 'one operation at a time');
  });

  it('closes connections that send no association request within ARTIM', async () => {
    const { port } = await startServer({ artimTimeoutMs: 200 });
    const started = Date.now();
    const { received } = rawConnection(port);
    const bytes = await received;
    assert.equal(bytes.length, 0, 'closed without any PDU');
    assert.ok(Date.now() - started >= 150);
  });

  it('aborts idle associations', async () => {
    const { port } = await startServer({ idleTimeoutMs: 300 });
    const client = await connectClient(port);
    assert.equal((await client.echo()).status, 0);
    await client.closed;
    await assert.rejects(client.echo(), AssociationAbortedError);
  });

  it('close() refuses new work, lets associations finish within the grace period, then aborts', async () => {
    const { server, port } = await startServer();
    const idle = await connectClient(port);
    const closing = server.close({ graceMs: 300 });
    await assert.rejects(connectClient(port), /ECONNREFUSED/);
    const started = Date.now();
    await closing;
    assert.ok(Date.now() - started >= 250, 'waited for the grace period');
    await idle.closed;
    await assert.rejects(idle.echo(), AssociationAbortedError);
  });
});
