// DicomClient: an association requestor (SCU). C-ECHO, C-STORE (Part 10 file streamed from disk,
// or a raw data set from a stream/buffer), C-FIND (async iterable of decoded matches, C-CANCEL
// when the consumer stops early), C-MOVE (progress and final counts), release and abort.
// One operation at a time (asynchronous operations window 1); calls made concurrently queue.

import { connect, type Socket } from 'node:net';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type AcceptedPresentationContext, type AssociationLimits, AssociationCore, resolveLimits } from './association.ts';
import { type DataElementInput, type DataSetRecord, decodeDataSet, encodeDataSet } from './dataset-codec.ts';
import {
  type CommandSet,
  CommandField,
  createCCancelRequest,
  createCEchoRequest,
  createCFindRequest,
  createCMoveRequest,
  createCStoreRequest,
  createResponse,
  isResponseCommand,
} from './dimse-command.ts';
import {
  AbortReason,
  AbortSource,
  AssociationClosedError,
  AssociationRejectedError,
  DimseStatusError,
  DimseTimeoutError,
  InvalidArgumentError,
  NoPresentationContextError,
  UnexpectedPduError,
} from './errors.ts';
import { type DimseLogger, silentLogger } from './logger.ts';
import { readPart10Info } from './part10.ts';
import {
  type ControlPdu,
  type ProposedPresentationContext,
  type RoleSelection,
  type UserIdentity,
  PresentationContextResult,
  encodeAssociateRq,
  encodeReleaseRp,
  encodeReleaseRq,
  validateAeTitle,
} from './pdu.ts';
import { Status, statusCategory, statusName } from './status.ts';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME, DICOM_APPLICATION_CONTEXT, SopClass, transferSyntaxEncoding } from './uids.ts';

export interface PresentationContextRequest {
  abstractSyntaxUid: string;
  transferSyntaxUids: readonly string[];
}

export interface DicomClientOptions extends Partial<AssociationLimits> {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** Proposed presentation contexts; ids 1, 3, 5, ... are assigned in this order. */
  contexts: readonly PresentationContextRequest[];
  /** TCP connect and association negotiation (and release) timeout. Default 30 s. */
  timeoutMs?: number;
  /** How long to wait for each DIMSE response; 0 = no limit. Default 60 s. */
  dimseTimeoutMs?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  roleSelections?: readonly RoleSelection[];
  userIdentity?: UserIdentity;
  /** Largest response data set (C-FIND match) accepted. Default 16 MiB. */
  maxResponseDataSetBytes?: number;
  logger?: DimseLogger;
}

export interface DimseResponse {
  status: number;
  errorComment: string | undefined;
  /** The full response command set. */
  command: CommandSet;
}

export interface StoreOptions {
  priority?: number;
  /** Set when the store is a C-MOVE sub-operation. */
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}

export interface StoreDataSetParams extends StoreOptions {
  sopClassUid: string;
  sopInstanceUid: string;
  /** Encoding of `data`; a presentation context with this transfer syntax must be accepted. */
  transferSyntaxUid: string;
  /** The raw data set (no File Meta). */
  data: Buffer | Readable;
}

export interface FindRequest {
  /** Default: Study Root Query/Retrieve Information Model - FIND. */
  sopClassUid?: string;
  /** Query keys, or an identifier already encoded in the context's transfer syntax. */
  identifier: readonly DataElementInput[] | Buffer;
  priority?: number;
}

export interface FindSummary {
  status: number;
  matches: number;
  cancelled: boolean;
}

export interface MoveRequest {
  /** Default: Study Root Query/Retrieve Information Model - MOVE. */
  sopClassUid?: string;
  /** AE title the SCP should send the instances to. */
  destination: string;
  identifier: readonly DataElementInput[] | Buffer;
  priority?: number;
}

export interface MoveProgress {
  remaining: number | undefined;
  completed: number;
  failed: number;
  warning: number;
}

export interface MoveResult extends MoveProgress {
  status: number;
  /** From the final response's identifier, when the SCP lists failed instances. */
  failedSopInstanceUids: string[];
}

interface ResponseMessage {
  command: CommandSet;
  dataSet: Buffer | undefined;
}

interface ResponseWaiter {
  messageId: number;
  resolve: (message: ResponseMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Deferred {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Serialises operations: the association allows one outstanding request. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

const CANCEL_DRAIN_TIMEOUT_MS = 10_000;

function connectSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(() => {
      socket.off('error', onError);
      socket.on('error', () => {});
      socket.destroy();
      reject(new DimseTimeoutError(`TCP connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function countOf(value: number | undefined): number {
  return value ?? 0;
}

type ClientState = 'requesting' | 'established' | 'releasing' | 'ended';

export class DicomClient extends AssociationCore {
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  peerImplementationClassUid = '';
  peerImplementationVersionName: string | undefined = undefined;
  private state: ClientState = 'requesting';
  private readonly options: DicomClientOptions;
  private readonly timeoutMs: number;
  private readonly dimseTimeoutMs: number;
  private readonly maxResponseDataSetBytes: number;
  private readonly mutex = new Mutex();
  private readonly proposed = new Map<number, PresentationContextRequest>();
  private messageIdCounter = 0;
  private activeOperations = 0;
  private inbox: ResponseMessage[] = [];
  private waiter: ResponseWaiter | null = null;
  private receiving: { command: CommandSet; chunks: Buffer[]; bytes: number } | null = null;
  private peerRequest: { command: CommandSet; context: AcceptedPresentationContext } | null = null;
  private associationDeferred: Deferred | null = null;
  private releaseDeferred: Deferred | null = null;

  private constructor(socket: Socket, options: DicomClientOptions, limits: AssociationLimits) {
    super(socket, limits, options.logger ?? silentLogger, 'scu-');
    this.options = options;
    this.callingAeTitle = validateAeTitle(options.callingAeTitle, 'calling AE title');
    this.calledAeTitle = validateAeTitle(options.calledAeTitle, 'called AE title');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.dimseTimeoutMs = options.dimseTimeoutMs ?? 60_000;
    this.maxResponseDataSetBytes = options.maxResponseDataSetBytes ?? 16 * 1024 * 1024;
  }

  /** Connects, requests the association and resolves once it is accepted. */
  static async connect(options: DicomClientOptions): Promise<DicomClient> {
    validateAeTitle(options.callingAeTitle, 'calling AE title');
    validateAeTitle(options.calledAeTitle, 'called AE title');
    if (options.contexts.length === 0 || options.contexts.length > 128) throw new InvalidArgumentError('propose between 1 and 128 presentation contexts');
    const timeoutMs = options.timeoutMs ?? 30_000;
    const limits = resolveLimits({ artimTimeoutMs: timeoutMs, ...options });
    const socket = await connectSocket(options.host, options.port, timeoutMs);
    const client = new DicomClient(socket, options, limits);
    await client.requestAssociation();
    return client;
  }

  get isEstablished(): boolean {
    return this.state === 'established';
  }

  /** The accepted context for a SOP class (and transfer syntax, when given). */
  findContext(abstractSyntaxUid: string, transferSyntaxUid?: string): AcceptedPresentationContext {
    for (const context of this.contexts.values()) {
      if (context.abstractSyntaxUid === abstractSyntaxUid && (transferSyntaxUid === undefined || context.transferSyntaxUid === transferSyntaxUid)) return context;
    }
    throw new NoPresentationContextError(abstractSyntaxUid, transferSyntaxUid);
  }

  // --- association -----------------------------------------------------------------------------

  private requestAssociation(): Promise<void> {
    const contexts: ProposedPresentationContext[] = this.options.contexts.map((c, i) => {
      const proposal = { id: 2 * i + 1, abstractSyntaxUid: c.abstractSyntaxUid, transferSyntaxUids: [...c.transferSyntaxUids] };
      this.proposed.set(proposal.id, c);
      return proposal;
    });
    const done = new Promise<void>((resolve, reject) => (this.associationDeferred = { resolve, reject }));
    this.writePdu(
      encodeAssociateRq({
        protocolVersion: 1,
        calledAeTitle: this.calledAeTitle,
        callingAeTitle: this.callingAeTitle,
        applicationContextName: DICOM_APPLICATION_CONTEXT,
        presentationContexts: contexts,
        userInformation: {
          maxPduLength: this.limits.maxPduLength,
          implementationClassUid: this.options.implementationClassUid ?? DEFAULT_IMPLEMENTATION_CLASS_UID,
          implementationVersionName: this.options.implementationVersionName ?? DEFAULT_IMPLEMENTATION_VERSION_NAME,
          roleSelections: [...(this.options.roleSelections ?? [])],
          extendedNegotiations: [],
          userIdentity: this.options.userIdentity,
        },
      }),
    );
    this.startArtim(this.timeoutMs, () => this.dropConnection(new DimseTimeoutError(`no association response within ${this.timeoutMs} ms`)));
    return done;
  }

  protected handleControlPdu(pdu: Exclude<ControlPdu, { type: 'abort' }>): void {
    switch (pdu.type) {
      case 'associate-ac': {
        if (this.state !== 'requesting') throw new UnexpectedPduError('A-ASSOCIATE-AC outside association setup');
        this.stopArtim();
        for (const answer of pdu.presentationContexts) {
          const proposal = this.proposed.get(answer.id);
          if (!proposal || answer.result !== PresentationContextResult.Acceptance) continue;
          if (!proposal.transferSyntaxUids.includes(answer.transferSyntaxUid)) continue;
          this.contexts.set(answer.id, { id: answer.id, abstractSyntaxUid: proposal.abstractSyntaxUid, transferSyntaxUid: answer.transferSyntaxUid });
        }
        this.setPeerMaxPduLength(pdu.userInformation.maxPduLength);
        this.peerImplementationClassUid = pdu.userInformation.implementationClassUid;
        this.peerImplementationVersionName = pdu.userInformation.implementationVersionName;
        this.state = 'established';
        this.dataTransferAllowed = true;
        this.enableIdleTimeout();
        this.logger.info(this.logFields({ calledAeTitle: this.calledAeTitle, acceptedContexts: this.contexts.size, peerMaxPduLength: pdu.userInformation.maxPduLength }), 'association established');
        this.associationDeferred?.resolve();
        this.associationDeferred = null;
        return;
      }
      case 'associate-rj': {
        if (this.state !== 'requesting') throw new UnexpectedPduError('A-ASSOCIATE-RJ outside association setup');
        this.logger.info(this.logFields({ calledAeTitle: this.calledAeTitle, result: pdu.result, source: pdu.source, reason: pdu.reason }), 'association rejected');
        this.dropConnection(new AssociationRejectedError(pdu.result, pdu.source, pdu.reason));
        return;
      }
      case 'release-rp': {
        if (this.state !== 'releasing') throw new UnexpectedPduError('A-RELEASE-RP without a release request');
        this.stopArtim();
        this.markReleased();
        this.finishTransport();
        this.releaseDeferred?.resolve();
        this.releaseDeferred = null;
        return;
      }
      case 'release-rq': {
        // The acceptor asks to release (or a release collision): answer and close.
        if (this.state !== 'established' && this.state !== 'releasing') throw new UnexpectedPduError('A-RELEASE-RQ outside an established association');
        this.writePdu(encodeReleaseRp());
        this.markReleased();
        this.finishTransport();
        this.releaseDeferred?.resolve();
        this.releaseDeferred = null;
        return;
      }
      default:
        throw new UnexpectedPduError(`${pdu.type} PDU is not expected by an association requestor`);
    }
  }

  protected handleTermination(error: Error | null): void {
    this.state = 'ended';
    const failure = error ?? new AssociationClosedError('association released');
    this.associationDeferred?.reject(failure);
    this.associationDeferred = null;
    if (error) this.releaseDeferred?.reject(error);
    else this.releaseDeferred?.resolve();
    this.releaseDeferred = null;
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(failure);
    }
  }

  protected isBusy(): boolean {
    return this.activeOperations > 0;
  }

  /** Releases the association (after queued operations) and waits for the connection to close. */
  async release(): Promise<void> {
    const unlock = await this.mutex.acquire();
    try {
      if (this.state !== 'established') {
        if (this.endReason === null) return;
        throw this.endError();
      }
      this.state = 'releasing';
      const released = new Promise<void>((resolve, reject) => (this.releaseDeferred = { resolve, reject }));
      this.writePdu(encodeReleaseRq());
      this.startArtim(this.timeoutMs, () => this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'no A-RELEASE-RP in time'));
      await released;
      await this.closed;
    } finally {
      unlock();
    }
  }

  // --- receiving responses -------------------------------------------------------------------

  protected handleCommand(command: CommandSet, context: AcceptedPresentationContext): void {
    if (isResponseCommand(command.commandField)) {
      if (command.hasDataSet) this.receiving = { command, chunks: [], bytes: 0 };
      else this.deliver({ command, dataSet: undefined });
      return;
    }
    // A request from the acceptor (e.g. C-STORE for a C-GET, N-EVENT-REPORT): not served here.
    this.peerRequest = { command, context };
    if (!command.hasDataSet) this.answerPeerRequest();
  }

  protected handleDataFragment(_context: AcceptedPresentationContext, data: Buffer, endOfDataSet: boolean): void {
    const receiving = this.receiving;
    if (receiving) {
      receiving.bytes += data.length;
      if (receiving.bytes > this.maxResponseDataSetBytes) {
        this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'response data set larger than allowed');
        return;
      }
      if (data.length > 0) receiving.chunks.push(data);
      if (endOfDataSet) {
        this.receiving = null;
        this.deliver({ command: receiving.command, dataSet: Buffer.concat(receiving.chunks, receiving.bytes) });
      }
      return;
    }
    if (this.peerRequest && endOfDataSet) this.answerPeerRequest();
  }

  private answerPeerRequest(): void {
    const request = this.peerRequest;
    this.peerRequest = null;
    if (!request) return;
    const status =
      request.command.commandField === CommandField.CEchoRq
        ? Status.Success
        : request.command.commandField === CommandField.CStoreRq
          ? Status.SopClassNotSupported
          : Status.UnrecognizedOperation;
    this.sendCommand(request.context.id, createResponse(request.command, status));
  }

  private deliver(message: ResponseMessage): void {
    const waiter = this.waiter;
    if (waiter && message.command.messageIdBeingRespondedTo === waiter.messageId) {
      this.waiter = null;
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(message);
      return;
    }
    this.inbox.push(message);
  }

  private nextResponse(messageId: number, timeoutMs = this.dimseTimeoutMs): Promise<ResponseMessage> {
    while (this.inbox.length > 0) {
      const message = this.inbox.shift()!;
      if (message.command.messageIdBeingRespondedTo === messageId) return Promise.resolve(message);
      this.logger.warn(this.logFields({ messageIdBeingRespondedTo: message.command.messageIdBeingRespondedTo }), 'dropping a response to an earlier request');
    }
    if (this.state === 'ended' || this.endReason !== undefined) return Promise.reject(this.endError());
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.waiter = null;
              reject(new DimseTimeoutError(`no DIMSE response within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.waiter = { messageId, resolve, reject, timer };
    });
  }

  // --- operations ------------------------------------------------------------------------------

  private nextMessageId(): number {
    this.messageIdCounter = (this.messageIdCounter % 0xffff) + 1;
    return this.messageIdCounter;
  }

  private assertEstablished(): void {
    if (this.state !== 'established') throw this.endReason !== undefined ? this.endError() : new AssociationClosedError('association is not established');
  }

  private async exclusive<T>(run: () => Promise<T>): Promise<T> {
    const unlock = await this.mutex.acquire();
    this.activeOperations++;
    try {
      this.assertEstablished();
      return await run();
    } finally {
      this.activeOperations--;
      unlock();
    }
  }

  private static toResponse(message: ResponseMessage): DimseResponse {
    return { status: message.command.status ?? Status.ProcessingFailure, errorComment: message.command.errorComment, command: message.command };
  }

  /** C-ECHO; throws DimseStatusError unless the status is success. */
  echo(): Promise<DimseResponse> {
    return this.exclusive(async () => {
      const context = this.findContext(SopClass.Verification);
      const messageId = this.nextMessageId();
      this.sendCommand(context.id, createCEchoRequest(messageId));
      const response = DicomClient.toResponse(await this.nextResponse(messageId));
      if (statusCategory(response.status) !== 'success') throw new DimseStatusError('C-ECHO', response.status, statusName(response.status), response.errorComment);
      return response;
    });
  }

  /**
   * C-STORE of a Part 10 file (or a bare data set file), streamed from disk in PDU-sized reads.
   * The data set is sent as stored, in the file's transfer syntax (no transcoding): a context
   * for that SOP class and transfer syntax must have been accepted. Returns the response whatever
   * its status (warnings are common); check it with statusCategory().
   */
  async storeFile(path: string, options: StoreOptions = {}): Promise<DimseResponse> {
    const info = await readPart10Info(path);
    return this.exclusive(async () => {
      const context = this.findContext(info.sopClassUid, info.transferSyntaxUid);
      const handle = await open(path, 'r');
      const messageId = this.nextMessageId();
      try {
        this.sendCommand(context.id, createCStoreRequest({ messageId, sopClassUid: info.sopClassUid, sopInstanceUid: info.sopInstanceUid, ...options }));
        await this.sendDataSetFromFile(context.id, handle, info.dataSetOffset, info.dataSetLength);
      } catch (err) {
        // Half a data set went out: the association cannot be used any more.
        this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'C-STORE data could not be sent');
        throw err;
      } finally {
        await handle.close();
      }
      return DicomClient.toResponse(await this.nextResponse(messageId));
    });
  }

  /** C-STORE of a raw data set (no File Meta) from a buffer or stream. */
  storeDataSet(params: StoreDataSetParams): Promise<DimseResponse> {
    return this.exclusive(async () => {
      const context = this.findContext(params.sopClassUid, params.transferSyntaxUid);
      const messageId = this.nextMessageId();
      const { sopClassUid, sopInstanceUid, priority, moveOriginatorAeTitle, moveOriginatorMessageId } = params;
      const command = createCStoreRequest({ messageId, sopClassUid, sopInstanceUid, priority, moveOriginatorAeTitle, moveOriginatorMessageId });
      try {
        if (Buffer.isBuffer(params.data)) {
          if (!this.sendMessage(context.id, command, params.data)) await this.waitForDrain();
        } else {
          this.sendCommand(context.id, command);
          await this.sendDataSetFromStream(context.id, params.data);
        }
      } catch (err) {
        this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'C-STORE data could not be sent');
        throw err;
      }
      return DicomClient.toResponse(await this.nextResponse(messageId));
    });
  }

  private queryContext(sopClassUid: string): { context: AcceptedPresentationContext; explicitVr: boolean } {
    const context = this.findContext(sopClassUid);
    const encoding = transferSyntaxEncoding(context.transferSyntaxUid);
    if (!encoding.littleEndian || encoding.deflated) throw new InvalidArgumentError(`identifier encoding ${context.transferSyntaxUid} is not supported; propose Implicit or Explicit VR Little Endian`);
    return { context, explicitVr: encoding.explicitVr };
  }

  /** Sends C-CANCEL and reads responses up to the final one, so the association stays usable. */
  private async cancelAndDrain(contextId: number, messageId: number): Promise<void> {
    if (this.state !== 'established') return;
    try {
      this.sendCommand(contextId, createCCancelRequest(messageId));
      for (;;) {
        const message = await this.nextResponse(messageId, this.dimseTimeoutMs > 0 ? Math.min(this.dimseTimeoutMs, CANCEL_DRAIN_TIMEOUT_MS) : CANCEL_DRAIN_TIMEOUT_MS);
        if (statusCategory(message.command.status ?? Status.ProcessingFailure) !== 'pending') return;
      }
    } catch {
      this.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'no final response after C-CANCEL');
    }
  }

  /**
   * C-FIND: yields each match decoded to a plain object (keyword or tag keys); returns a summary.
   * Leaving the loop early sends C-CANCEL. A failure status throws DimseStatusError.
   */
  async *find(request: FindRequest): AsyncGenerator<DataSetRecord, FindSummary, undefined> {
    const unlock = await this.mutex.acquire();
    this.activeOperations++;
    let messageId = -1;
    let contextId = -1;
    let finished = false;
    try {
      this.assertEstablished();
      const { context, explicitVr } = this.queryContext(request.sopClassUid ?? SopClass.StudyRootQueryRetrieveFind);
      contextId = context.id;
      const identifier = Buffer.isBuffer(request.identifier) ? request.identifier : encodeDataSet(request.identifier, { explicitVr });
      messageId = this.nextMessageId();
      if (!this.sendMessage(context.id, createCFindRequest({ messageId, sopClassUid: context.abstractSyntaxUid, priority: request.priority }), identifier)) await this.waitForDrain();
      let matches = 0;
      for (;;) {
        const message = await this.nextResponse(messageId);
        const status = message.command.status ?? Status.ProcessingFailure;
        const category = statusCategory(status);
        if (category === 'pending') {
          if (message.dataSet) {
            matches++;
            yield decodeDataSet(message.dataSet, { explicitVr });
          }
          continue;
        }
        finished = true;
        if (category === 'failure') throw new DimseStatusError('C-FIND', status, statusName(status), message.command.errorComment);
        return { status, matches, cancelled: category === 'cancel' };
      }
    } finally {
      if (!finished && messageId !== -1) await this.cancelAndDrain(contextId, messageId);
      this.activeOperations--;
      unlock();
    }
  }

  /** C-FIND collected into an array. */
  async findAll(request: FindRequest): Promise<DataSetRecord[]> {
    const matches: DataSetRecord[] = [];
    for await (const match of this.find(request)) matches.push(match);
    return matches;
  }

  /**
   * C-MOVE: yields the counts of each pending response; returns the final counts. Failure
   * statuses (e.g. 0xA801 move destination unknown) throw DimseStatusError. Leaving early cancels.
   */
  async *moveProgress(request: MoveRequest): AsyncGenerator<MoveProgress, MoveResult, undefined> {
    const unlock = await this.mutex.acquire();
    this.activeOperations++;
    let messageId = -1;
    let contextId = -1;
    let finished = false;
    try {
      this.assertEstablished();
      validateAeTitle(request.destination, 'move destination');
      const { context, explicitVr } = this.queryContext(request.sopClassUid ?? SopClass.StudyRootQueryRetrieveMove);
      contextId = context.id;
      const identifier = Buffer.isBuffer(request.identifier) ? request.identifier : encodeDataSet(request.identifier, { explicitVr });
      messageId = this.nextMessageId();
      const command = createCMoveRequest({ messageId, sopClassUid: context.abstractSyntaxUid, moveDestination: request.destination.trim(), priority: request.priority });
      if (!this.sendMessage(context.id, command, identifier)) await this.waitForDrain();
      for (;;) {
        const message = await this.nextResponse(messageId);
        const rsp = message.command;
        const status = rsp.status ?? Status.ProcessingFailure;
        const category = statusCategory(status);
        const counts: MoveProgress = {
          remaining: rsp.remainingSuboperations,
          completed: countOf(rsp.completedSuboperations),
          failed: countOf(rsp.failedSuboperations),
          warning: countOf(rsp.warningSuboperations),
        };
        if (category === 'pending') {
          yield counts;
          continue;
        }
        finished = true;
        if (category === 'failure') throw new DimseStatusError('C-MOVE', status, statusName(status), rsp.errorComment);
        let failedSopInstanceUids: string[] = [];
        if (message.dataSet && message.dataSet.length > 0) {
          const failedList = decodeDataSet(message.dataSet, { explicitVr }).FailedSOPInstanceUIDList;
          if (typeof failedList === 'string' && failedList !== '') failedSopInstanceUids = failedList.split('\\');
        }
        return { ...counts, status, failedSopInstanceUids };
      }
    } finally {
      if (!finished && messageId !== -1) await this.cancelAndDrain(contextId, messageId);
      this.activeOperations--;
      unlock();
    }
  }

  /** C-MOVE to completion; `onProgress` sees each pending response. */
  async move(request: MoveRequest, options: { onProgress?: (progress: MoveProgress) => void } = {}): Promise<MoveResult> {
    const iterator = this.moveProgress(request);
    for (;;) {
      const step = await iterator.next();
      if (step.done) return step.value;
      options.onProgress?.(step.value);
    }
  }
}
