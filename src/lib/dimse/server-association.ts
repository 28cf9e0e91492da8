// One association accepted by DicomServer: negotiation (PS3.8 states Sta2-Sta3), DIMSE request
// dispatch to the application's handlers with an operations window of 1, streaming of C-STORE
// data sets with backpressure, and release/abort handling.

import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { type AcceptedPresentationContext, type AssociationLimits, AssociationCore, ReadPause } from './association.ts';
import { type DataElementInput, encodeDataSet } from './dataset-codec.ts';
import { type CommandSet, CommandField, commandFieldName, createResponse, isResponseCommand } from './dimse-command.ts';
import { AbortReason, AbortSource, AssociationClosedError, DimseTimeoutError, PduDecodeError, UnexpectedPduError } from './errors.ts';
import type { DimseLogger } from './logger.ts';
import { type AssociationDecision, type AssociationRequestInfo, type RejectAssociation, Reject, acceptAssociation } from './negotiation.ts';
import {
  type AssociateRqPdu,
  type ControlPdu,
  type PresentationContextAnswer,
  type UserInformation,
  PresentationContextResult,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeReleaseRp,
} from './pdu.ts';
import { Status, statusCategory } from './status.ts';
import { DICOM_APPLICATION_CONTEXT, transferSyntaxEncoding } from './uids.ts';

/** What handlers see of the association they serve. */
export interface ServerAssociation {
  readonly id: string;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly acceptedContexts: ReadonlyMap<number, AcceptedPresentationContext>;
  readonly peerMaxPduLength: number;
  readonly peerImplementationClassUid: string;
  readonly peerImplementationVersionName: string | undefined;
  /** A-ABORT (source: service user) and close. */
  abort(): void;
}

export interface DimseRequestInfo {
  messageId: number;
  affectedSopClassUid: string;
  priority: number;
  presentationContextId: number;
  abstractSyntaxUid: string;
  /** Transfer syntax negotiated for the presentation context: the encoding of the data set. */
  transferSyntaxUid: string;
  /** The decoded command set, for fields not surfaced above. */
  command: CommandSet;
}

export interface CStoreRequest extends DimseRequestInfo {
  affectedSopInstanceUid: string;
  moveOriginatorAeTitle: string | undefined;
  moveOriginatorMessageId: number | undefined;
}

export interface QueryRequest extends DimseRequestInfo {
  /** The identifier (query keys) as received, encoded in `transferSyntaxUid`. */
  identifier: Buffer;
}

export interface CMoveRequest extends QueryRequest {
  moveDestination: string;
}

export interface DimseResult {
  status: number;
  /** At most 64 characters; no patient data. */
  errorComment?: string;
  offendingElements?: number[];
}

export interface SubOperationCounts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
}

export interface DicomServerHandlers {
  /** Accept (with a decision per presentation context) or reject. Default: accept everything with the first proposed transfer syntax. */
  onAssociationRequest?(info: AssociationRequestInfo): AssociationDecision | Promise<AssociationDecision>;
  /** Default: success. */
  onCEcho?(association: ServerAssociation): DimseResult | Promise<DimseResult>;
  /**
   * Receives the raw data set bytes (the PDV fragments, unparsed) as a stream with backpressure:
   * an object-mode Readable whose chunks are Buffers (zero-copy views of the received fragments).
   * The C-STORE-RSP is sent when the returned promise settles (a rejection answers 0x0110) and the
   * whole data set has arrived. If the association ends early, `data` is destroyed with an error.
   * Without this handler C-STORE is answered 0x0122 (SOP class not supported).
   */
  onCStore?(request: CStoreRequest, data: Readable, association: ServerAssociation): Promise<DimseResult>;
  /**
   * Yields matches (encoded identifiers, or element lists encoded here in the context's transfer
   * syntax). `signal` aborts on C-CANCEL. Throwing an error with a numeric `status` answers that
   * status. Without this handler C-FIND is answered 0xC000.
   */
  onCFind?(request: QueryRequest, association: ServerAssociation, signal: AbortSignal): AsyncIterable<Buffer | readonly DataElementInput[]>;
  /** Yields sub-operation counts as they change (the application runs the C-STORE sub-operations). Without it: 0xC000. */
  onCMove?(request: CMoveRequest, association: ServerAssociation, signal: AbortSignal): AsyncIterable<SubOperationCounts>;
}

/** What the server lends each association. */
export interface ScpEnvironment {
  limits: AssociationLimits;
  logger: DimseLogger;
  handlers: DicomServerHandlers;
  implementationClassUid: string;
  implementationVersionName: string;
  storeHighWaterMark: number;
  maxIdentifierBytes: number;
  /** A rejection when the server cannot take the association now (closing, too many). */
  admit(association: ServerAssociation): RejectAssociation | undefined;
  established(association: ServerAssociation): void;
  ended(association: ServerAssociation, error: Error | null): void;
}

/**
 * The C-STORE data set as a Readable of Buffer chunks (views of the received PDV fragments).
 *
 * Object mode on purpose: a byte-mode Readable concatenates everything buffered into one new
 * Buffer when consumed with read() or `for await`, a hidden copy of the whole object. In object
 * mode every consumer style gets the original views. Backpressure is still counted in bytes:
 * `pushChunk` says when the consumer is behind (the association then pauses the socket), and
 * reading below the byte high-water mark resumes it.
 */
class DataSetStream extends Readable {
  private bufferedBytes = 0;

  constructor(
    private readonly resumeSource: () => void,
    private readonly highWaterMarkBytes: number,
  ) {
    // The object count limit is not what bounds memory (bytes are); keep it out of the way.
    super({ objectMode: true, highWaterMark: 1 << 16 });
  }

  /** Queues a chunk; returns false when the consumer is behind and the source should pause. */
  pushChunk(chunk: Buffer): boolean {
    const before = this.readableLength;
    this.push(chunk);
    // A flowing consumer with an empty queue gets the chunk at once; only queued chunks count.
    if (this.readableLength > before) this.bufferedBytes += chunk.length;
    return this.bufferedBytes < this.highWaterMarkBytes;
  }

  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null;
    if (chunk !== null) {
      this.bufferedBytes -= chunk.length;
      if (this.bufferedBytes < this.highWaterMarkBytes) this.resumeSource();
    }
    return chunk;
  }

  override _read(): void {
    if (this.bufferedBytes < this.highWaterMarkBytes) this.resumeSource();
  }
}

type DataSink = 'none' | 'stream' | 'buffer' | 'discard';

interface Operation {
  command: CommandSet;
  context: AcceptedPresentationContext;
  sink: DataSink;
  stream: DataSetStream | undefined;
  chunks: Buffer[];
  bytes: number;
  overflow: boolean;
  dataComplete: boolean;
  /** Runs once the whole data set (or none) has arrived, with the buffered identifier. */
  afterData: ((data: Buffer) => void) | undefined;
  /** C-STORE: the response, once the handler has settled. */
  storeResponse: CommandSet | undefined;
  cancel: AbortController | undefined;
  finished: boolean;
}

type ScpState = 'awaiting-request' | 'negotiating' | 'established' | 'released' | 'rejected';

function limitComment(text: string): string {
  return text.length > 64 ? text.slice(0, 64) : text;
}

/**
 * What we log about an error thrown by application code: its class and code, never its message,
 * which could quote patient data.
 */
function errorFields(err: unknown): { errorName: string; errorCode: string | undefined } {
  const code = (err as { code?: unknown } | null)?.code;
  return { errorName: err instanceof Error ? err.name : typeof err, errorCode: typeof code === 'string' ? code : undefined };
}

export class ScpAssociation extends AssociationCore implements ServerAssociation {
  callingAeTitle = '';
  calledAeTitle = '';
  peerImplementationClassUid = '';
  peerImplementationVersionName: string | undefined = undefined;
  private state: ScpState = 'awaiting-request';
  private current: Operation | null = null;
  private queued: { command: CommandSet; context: AcceptedPresentationContext } | null = null;
  private releaseRequested = false;
  private readonly env: ScpEnvironment;

  constructor(socket: Socket, env: ScpEnvironment) {
    super(socket, env.limits, env.logger, 'scp-');
    this.env = env;
    // ARTIM (PS3.8 Sta2): the A-ASSOCIATE-RQ must arrive in time, else close without a PDU.
    this.startArtim(env.limits.artimTimeoutMs, () => {
      this.logger.info(this.logFields({ artimTimeoutMs: env.limits.artimTimeoutMs }), 'no association request in time');
      this.dropConnection(new DimseTimeoutError('no A-ASSOCIATE-RQ before the ARTIM timer expired'));
    });
  }

  // --- association establishment and release ----------------------------------------------------

  protected handleControlPdu(pdu: Exclude<ControlPdu, { type: 'abort' }>): void {
    switch (pdu.type) {
      case 'associate-rq':
        if (this.state !== 'awaiting-request') throw new UnexpectedPduError('A-ASSOCIATE-RQ after the association was requested');
        this.stopArtim();
        this.state = 'negotiating';
        this.negotiate(pdu).catch((err: unknown) => {
          this.logger.error(this.logFields(errorFields(err)), 'association negotiation failed');
          this.abort(AbortSource.ServiceProvider, AbortReason.NotSpecified, 'negotiation failed');
        });
        return;
      case 'release-rq':
        if (this.state !== 'established') throw new UnexpectedPduError('A-RELEASE-RQ outside an established association');
        this.releaseRequested = true;
        this.dataTransferAllowed = false;
        if (!this.current && !this.queued) this.completeRelease();
        return;
      default:
        throw new UnexpectedPduError(`${pdu.type} PDU is not expected by an association acceptor`);
    }
  }

  private requestInfo(pdu: AssociateRqPdu): AssociationRequestInfo {
    const ui = pdu.userInformation;
    return {
      callingAeTitle: pdu.callingAeTitle,
      calledAeTitle: pdu.calledAeTitle,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      applicationContextName: pdu.applicationContextName,
      proposedContexts: pdu.presentationContexts,
      peerMaxPduLength: ui.maxPduLength,
      peerImplementationClassUid: ui.implementationClassUid,
      peerImplementationVersionName: ui.implementationVersionName,
      asyncOperations: ui.asyncOperations,
      roleSelections: ui.roleSelections,
      extendedNegotiations: ui.extendedNegotiations,
      userIdentity: ui.userIdentity,
    };
  }

  private async decide(pdu: AssociateRqPdu, info: AssociationRequestInfo): Promise<AssociationDecision> {
    if ((pdu.protocolVersion & 0x0001) === 0) return Reject.protocolVersionNotSupported();
    if (pdu.applicationContextName !== DICOM_APPLICATION_CONTEXT) return Reject.applicationContextNotSupported();
    const refusal = this.env.admit(this);
    if (refusal) return refusal;
    const handler = this.env.handlers.onAssociationRequest;
    if (!handler) return acceptAssociation(info);
    try {
      return await handler(info);
    } catch (err) {
      this.logger.error(this.logFields(errorFields(err)), 'onAssociationRequest failed; rejecting');
      return Reject.noReasonGiven();
    }
  }

  private async negotiate(pdu: AssociateRqPdu): Promise<void> {
    this.callingAeTitle = pdu.callingAeTitle;
    this.calledAeTitle = pdu.calledAeTitle;
    this.peerImplementationClassUid = pdu.userInformation.implementationClassUid;
    this.peerImplementationVersionName = pdu.userInformation.implementationVersionName;
    const info = this.requestInfo(pdu);
    const decision = await this.decide(pdu, info);
    if (this.endReason !== undefined || this.isClosed) return; // the peer gave up meanwhile

    const fields = this.logFields({ callingAeTitle: pdu.callingAeTitle, calledAeTitle: pdu.calledAeTitle });
    if (!decision.accept) {
      this.logger.info({ ...fields, result: decision.result, source: decision.source, reason: decision.reason }, 'association rejected');
      this.writePdu(encodeAssociateRj(decision.result, decision.source, decision.reason));
      this.state = 'rejected';
      this.markReleased();
      this.finishTransport();
      return;
    }

    const answers: PresentationContextAnswer[] = pdu.presentationContexts.map((pc) => {
      const answer = decision.contexts.find((c) => c.id === pc.id);
      if (!answer) return { id: pc.id, result: PresentationContextResult.UserRejection, transferSyntaxUid: '' };
      if (answer.result !== PresentationContextResult.Acceptance) return { id: pc.id, result: answer.result, transferSyntaxUid: '' };
      if (!pc.transferSyntaxUids.includes(answer.transferSyntaxUid)) {
        return { id: pc.id, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntaxUid: '' };
      }
      this.contexts.set(pc.id, { id: pc.id, abstractSyntaxUid: pc.abstractSyntaxUid, transferSyntaxUid: answer.transferSyntaxUid });
      return { id: pc.id, result: PresentationContextResult.Acceptance, transferSyntaxUid: answer.transferSyntaxUid };
    });

    const requested = pdu.userInformation;
    const userInformation: UserInformation = {
      maxPduLength: this.limits.maxPduLength,
      implementationClassUid: this.env.implementationClassUid,
      implementationVersionName: this.env.implementationVersionName,
      // We perform one operation at a time and invoke none: always answer 1/1 (PS3.7 D.3.3.3).
      asyncOperations: requested.asyncOperations ? { maxInvoked: 1, maxPerformed: 1 } : undefined,
      roleSelections: [...(decision.roleSelections ?? requested.roleSelections)],
      extendedNegotiations: [],
      userIdentityResponse: requested.userIdentity?.positiveResponseRequested ? decision.userIdentityResponse : undefined,
    };
    this.writePdu(
      encodeAssociateAc({
        protocolVersion: 1,
        calledAeTitle: pdu.calledAeTitle,
        callingAeTitle: pdu.callingAeTitle,
        applicationContextName: DICOM_APPLICATION_CONTEXT,
        presentationContexts: answers,
        userInformation,
      }),
    );
    this.setPeerMaxPduLength(requested.maxPduLength);
    this.state = 'established';
    this.dataTransferAllowed = true;
    this.enableIdleTimeout();
    this.logger.info({ ...fields, acceptedContexts: this.contexts.size, proposedContexts: answers.length, peerMaxPduLength: requested.maxPduLength }, 'association accepted');
    this.env.established(this);
  }

  private completeRelease(): void {
    this.writePdu(encodeReleaseRp());
    this.state = 'released';
    this.markReleased();
    this.logger.info(this.logFields({ callingAeTitle: this.callingAeTitle }), 'association released');
    this.finishTransport();
  }

  protected handleTermination(error: Error | null): void {
    const op = this.current;
    this.current = null;
    this.queued = null;
    if (op) {
      op.cancel?.abort();
      if (op.stream && !op.dataComplete) op.stream.destroy(error ?? new AssociationClosedError('association ended before the data set was complete'));
    }
    if (this.state === 'established' || this.state === 'released') this.env.ended(this, error);
  }

  protected isBusy(): boolean {
    return this.current !== null;
  }

  // --- DIMSE dispatch --------------------------------------------------------------------------

  protected handleCommand(command: CommandSet, context: AcceptedPresentationContext): void {
    if (command.commandField === CommandField.CCancelRq) {
      const op = this.current;
      if (op && op.command.messageId === command.messageIdBeingRespondedTo) op.cancel?.abort();
      return;
    }
    if (isResponseCommand(command.commandField)) {
      throw new PduDecodeError(`unexpected ${commandFieldName(command.commandField)} on an association where we invoke nothing`, AbortReason.UnexpectedPduParameter);
    }
    if (this.current) {
      // Operations window 1: the peer should wait for our response. If it does not, hold its
      // next request (and stop reading) until the current one is answered.
      if (this.queued) throw new PduDecodeError('more outstanding requests than the negotiated window', AbortReason.UnexpectedPduParameter);
      this.queued = { command, context };
      this.holdInput();
      return;
    }
    this.dispatch(command, context);
  }

  private dispatch(command: CommandSet, context: AcceptedPresentationContext): void {
    const op: Operation = {
      command,
      context,
      sink: command.hasDataSet ? 'discard' : 'none',
      stream: undefined,
      chunks: [],
      bytes: 0,
      overflow: false,
      dataComplete: !command.hasDataSet,
      afterData: undefined,
      storeResponse: undefined,
      cancel: undefined,
      finished: false,
    };
    this.current = op;
    switch (command.commandField) {
      case CommandField.CEchoRq:
        this.whenDataComplete(op, () => this.performEcho(op));
        return;
      case CommandField.CStoreRq:
        this.startStore(op);
        return;
      case CommandField.CFindRq:
        this.collectIdentifier(op, (identifier) => this.performFind(op, identifier));
        return;
      case CommandField.CMoveRq:
        this.collectIdentifier(op, (identifier) => this.performMove(op, identifier));
        return;
      case CommandField.CGetRq:
        this.collectIdentifier(op, () => this.finish(op, createResponse(command, Status.UnableToProcess, { errorComment: 'C-GET is not supported' })));
        return;
      default:
        this.whenDataComplete(op, () => this.finish(op, createResponse(command, Status.UnrecognizedOperation)));
    }
  }

  private whenDataComplete(op: Operation, run: (data: Buffer) => void): void {
    op.afterData = run;
    if (op.dataComplete) run(Buffer.alloc(0));
  }

  private collectIdentifier(op: Operation, run: (identifier: Buffer) => void): void {
    if (op.command.hasDataSet) op.sink = 'buffer';
    this.whenDataComplete(op, (identifier) => {
      if (op.overflow) {
        this.finish(op, createResponse(op.command, Status.OutOfResources, { errorComment: 'identifier too large' }));
        return;
      }
      run(identifier);
    });
  }

  protected handleDataFragment(context: AcceptedPresentationContext, data: Buffer, endOfDataSet: boolean): void {
    const op = this.current;
    if (!op || op.dataComplete || op.context.id !== context.id) throw new UnexpectedPduError('data set fragment that no request expects');
    switch (op.sink) {
      case 'stream': {
        const stream = op.stream!;
        if (stream.destroyed) {
          this.discardRest(op);
        } else if (data.length > 0 && !stream.pushChunk(data)) {
          this.setReadPaused(ReadPause.Backpressure, true);
        }
        break;
      }
      case 'buffer':
        if (op.overflow) break;
        op.bytes += data.length;
        if (op.bytes > this.env.maxIdentifierBytes) {
          op.overflow = true;
          op.chunks = [];
        } else if (data.length > 0) {
          op.chunks.push(data);
        }
        break;
      default:
        break;
    }
    if (!endOfDataSet) return;
    op.dataComplete = true;
    if (op.stream) {
      // A C-STORE: end the stream (unless its consumer left early), then answer if the handler has.
      if (op.sink === 'stream') op.stream.push(null);
      this.maybeFinishStore(op);
      return;
    }
    const buffered = op.chunks.length === 1 ? Buffer.from(op.chunks[0]!) : Buffer.concat(op.chunks, op.bytes);
    op.chunks = [];
    op.afterData?.(buffered);
  }

  /** The consumer no longer wants the data: drop the rest of it, keep reading the socket. */
  private discardRest(op: Operation): void {
    op.sink = 'discard';
    this.setReadPaused(ReadPause.Backpressure, false);
  }

  // --- C-STORE ---------------------------------------------------------------------------------

  private startStore(op: Operation): void {
    const command = op.command;
    const handler = this.env.handlers.onCStore;
    if (!command.hasDataSet || !command.affectedSopClassUid || !command.affectedSopInstanceUid) {
      this.whenDataComplete(op, () => this.finish(op, createResponse(command, Status.UnableToProcess, { errorComment: 'C-STORE-RQ without data set or UIDs' })));
      return;
    }
    if (!handler) {
      this.whenDataComplete(op, () => this.finish(op, createResponse(command, Status.SopClassNotSupported)));
      return;
    }
    const stream = new DataSetStream(() => this.setReadPaused(ReadPause.Backpressure, false), this.env.storeHighWaterMark);
    // A consumer that destroys the stream before the end gets no more data, and the socket
    // must not stay paused waiting for it.
    stream.on('close', () => {
      if (!op.dataComplete && op.sink === 'stream' && !this.isClosed) this.discardRest(op);
    });
    // Errors reach the handler through the stream; this listener only keeps an unhandled
    // 'error' event (handler gone) from crashing the process.
    stream.on('error', () => {});
    op.sink = 'stream';
    op.stream = stream;
    const request: CStoreRequest = {
      messageId: command.messageId ?? 0,
      affectedSopClassUid: command.affectedSopClassUid,
      affectedSopInstanceUid: command.affectedSopInstanceUid,
      priority: command.priority ?? 0,
      moveOriginatorAeTitle: command.moveOriginatorAeTitle,
      moveOriginatorMessageId: command.moveOriginatorMessageId,
      presentationContextId: op.context.id,
      abstractSyntaxUid: op.context.abstractSyntaxUid,
      transferSyntaxUid: op.context.transferSyntaxUid,
      command,
    };
    let outcome: Promise<DimseResult>;
    try {
      outcome = Promise.resolve(handler(request, stream, this));
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome
      .then(
        (result) => this.storeSettled(op, this.validResult(result, 'C-STORE')),
        (err: unknown) => this.storeSettled(op, this.failureFrom(err, Status.ProcessingFailure, 'C-STORE')),
      )
      .catch((err: unknown) => this.internalError(err));
  }

  private storeSettled(op: Operation, result: DimseResult): void {
    op.storeResponse = createResponse(op.command, result.status, this.resultFields(result));
    if (!op.dataComplete && op.sink === 'stream') {
      // Answered before reading everything: the rest is dropped, the response waits for the end.
      op.stream?.destroy();
      this.discardRest(op);
    }
    this.maybeFinishStore(op);
  }

  private maybeFinishStore(op: Operation): void {
    if (op.dataComplete && op.storeResponse) this.finish(op, op.storeResponse);
  }

  // --- C-ECHO, C-FIND, C-MOVE ------------------------------------------------------------------

  private performEcho(op: Operation): void {
    const handler = this.env.handlers.onCEcho;
    if (!handler) {
      this.finish(op, createResponse(op.command, Status.Success));
      return;
    }
    Promise.resolve()
      .then(() => handler(this))
      .then(
        (result) => this.validResult(result, 'C-ECHO'),
        (err: unknown) => this.failureFrom(err, Status.ProcessingFailure, 'C-ECHO'),
      )
      .then((result) => this.finish(op, createResponse(op.command, result.status, this.resultFields(result))))
      .catch((err: unknown) => this.internalError(err));
  }

  private queryRequest(op: Operation, identifier: Buffer): QueryRequest {
    return {
      messageId: op.command.messageId ?? 0,
      affectedSopClassUid: op.command.affectedSopClassUid ?? op.context.abstractSyntaxUid,
      priority: op.command.priority ?? 0,
      presentationContextId: op.context.id,
      abstractSyntaxUid: op.context.abstractSyntaxUid,
      transferSyntaxUid: op.context.transferSyntaxUid,
      command: op.command,
      identifier,
    };
  }

  private performFind(op: Operation, identifier: Buffer): void {
    const handler = this.env.handlers.onCFind;
    if (!handler) {
      this.finish(op, createResponse(op.command, Status.UnableToProcess, { errorComment: 'C-FIND is not supported' }));
      return;
    }
    const encoding = transferSyntaxEncoding(op.context.transferSyntaxUid);
    if (!encoding.littleEndian || encoding.deflated) {
      this.finish(op, createResponse(op.command, Status.UnableToProcess, { errorComment: 'transfer syntax not supported for C-FIND' }));
      return;
    }
    const controller = new AbortController();
    op.cancel = controller;
    void (async () => {
      let result: DimseResult = { status: Status.Success };
      try {
        for await (const match of handler(this.queryRequest(op, identifier), this, controller.signal)) {
          if (controller.signal.aborted || this.endReason !== undefined) break;
          const encoded = Buffer.isBuffer(match) ? match : encodeDataSet(match as readonly DataElementInput[], { explicitVr: encoding.explicitVr });
          if (!this.sendMessage(op.context.id, createResponse(op.command, Status.Pending, { hasDataSet: true }), encoded)) await this.waitForDrain();
        }
        if (controller.signal.aborted) result = { status: Status.Cancel };
      } catch (err) {
        if (this.endReason !== undefined) return;
        result = this.failureFrom(err, Status.UnableToProcess, 'C-FIND');
      }
      this.finish(op, createResponse(op.command, result.status, this.resultFields(result)));
    })().catch((err: unknown) => this.internalError(err));
  }

  private performMove(op: Operation, identifier: Buffer): void {
    const handler = this.env.handlers.onCMove;
    if (!handler || !op.command.moveDestination) {
      this.finish(op, createResponse(op.command, Status.UnableToProcess, { errorComment: 'C-MOVE is not supported' }));
      return;
    }
    const controller = new AbortController();
    op.cancel = controller;
    const request: CMoveRequest = { ...this.queryRequest(op, identifier), moveDestination: op.command.moveDestination };
    void (async () => {
      let last: SubOperationCounts = { remaining: 0, completed: 0, failed: 0, warning: 0 };
      let response: CommandSet;
      try {
        for await (const counts of handler(request, this, controller.signal)) {
          if (this.endReason !== undefined) return;
          last = counts;
          if (controller.signal.aborted) break;
          const pending = createResponse(op.command, Status.Pending, {
            remainingSuboperations: counts.remaining,
            completedSuboperations: counts.completed,
            failedSuboperations: counts.failed,
            warningSuboperations: counts.warning,
          });
          if (!this.sendMessage(op.context.id, pending)) await this.waitForDrain();
        }
        const cancelled = controller.signal.aborted;
        const status = cancelled
          ? Status.Cancel
          : last.failed + last.warning === 0
            ? Status.Success
            : last.completed + last.warning === 0
              ? Status.OutOfResourcesUnableToPerformSuboperations
              : Status.CoercionOfDataElements; // 0xB000: sub-operations complete, one or more failures
        response = createResponse(op.command, status, {
          ...(cancelled ? { remainingSuboperations: last.remaining } : {}),
          completedSuboperations: last.completed,
          failedSuboperations: last.failed,
          warningSuboperations: last.warning,
        });
      } catch (err) {
        if (this.endReason !== undefined) return;
        const failure = this.failureFrom(err, Status.UnableToProcess, 'C-MOVE');
        response = createResponse(op.command, failure.status, this.resultFields(failure));
      }
      this.finish(op, response);
    })().catch((err: unknown) => this.internalError(err));
  }

  // --- completion ------------------------------------------------------------------------------

  private finish(op: Operation, response: CommandSet, dataSet?: Buffer): void {
    if (op.finished) return;
    op.finished = true;
    if (this.current === op) this.current = null;
    this.setReadPaused(ReadPause.Backpressure, false);
    if (this.endReason !== undefined || this.isClosed) return;
    this.sendMessage(op.context.id, response, dataSet);
    const category = statusCategory(response.status ?? 0);
    if (category !== 'success') {
      this.logger.info(
        this.logFields({ command: commandFieldName(op.command.commandField), status: response.status, sopInstanceUid: op.command.affectedSopInstanceUid }),
        'request answered with a non-success status',
      );
    }
    if (this.queued) {
      const next = this.queued;
      this.queued = null;
      this.dispatch(next.command, next.context);
      this.releaseInput();
    } else if (this.releaseRequested && !this.current) {
      this.completeRelease();
    }
  }

  /** A bug on our side while performing a request: keep the process alive, drop the association. */
  private internalError(err: unknown): void {
    this.logger.error(this.logFields(errorFields(err)), 'internal error while performing a request');
    this.abort(AbortSource.ServiceProvider, AbortReason.NotSpecified, 'internal error');
  }

  private resultFields(result: DimseResult): Partial<CommandSet> {
    const fields: Partial<CommandSet> = {};
    if (result.errorComment) fields.errorComment = limitComment(result.errorComment);
    if (result.offendingElements?.length) fields.offendingElements = result.offendingElements;
    return fields;
  }

  private validResult(result: DimseResult | undefined, operation: string): DimseResult {
    const status = result?.status;
    if (typeof status === 'number' && Number.isInteger(status) && status >= 0 && status <= 0xffff) {
      const { errorComment, offendingElements } = result!;
      return {
        status,
        errorComment: typeof errorComment === 'string' ? errorComment : undefined,
        offendingElements: Array.isArray(offendingElements) ? offendingElements.filter((t) => Number.isInteger(t)) : undefined,
      };
    }
    this.logger.error(this.logFields({ operation }), 'handler returned no valid status; answering processing failure');
    return { status: Status.ProcessingFailure };
  }

  /** A handler error: use its `status` if it carries a valid non-success one, else `fallback`. */
  private failureFrom(err: unknown, fallback: number, operation: string): DimseResult {
    const candidate = err as { status?: unknown; errorComment?: unknown; message?: unknown } | null;
    const status = candidate?.status;
    if (typeof status === 'number' && Number.isInteger(status) && status > 0 && status <= 0xffff && statusCategory(status) !== 'pending') {
      return { status, errorComment: typeof candidate?.errorComment === 'string' ? candidate.errorComment : undefined };
    }
    this.logger.error(this.logFields({ operation, ...errorFields(err) }), 'handler failed');
    return { status: fallback, errorComment: `${operation} handler failed` };
  }
}
