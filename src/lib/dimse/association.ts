// The part of an association both roles share: the socket (TCP_NODELAY, one write per PDU), the
// incremental PDU decoder, reassembly of command sets from PDV fragments, the split between
// command and data fragments, sending messages and data sets in P-DATA-TF PDUs, read pausing
// (backpressure), the ARTIM and idle timers, and abort/close handling. The SCP and SCU state
// machines (server-association.ts, client.ts) build on it.

import type { Socket } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type CommandSet, decodeCommandSet, encodeCommandSet } from './dimse-command.ts';
import {
  AbortReason,
  AbortSource,
  AssociationAbortedError,
  AssociationClosedError,
  DimseError,
  PduDecodeError,
  Part10Error,
  UnexpectedPduError,
} from './errors.ts';
import type { DimseLogger, LogFields } from './logger.ts';
import {
  type ControlPdu,
  DEFAULT_MAX_CONTROL_PDU_LENGTH,
  PDATA_OVERHEAD,
  PduDecoder,
  encodeAbort,
  encodePDataTf,
  writeSinglePdvHeader,
} from './pdu.ts';

export interface AcceptedPresentationContext {
  id: number;
  abstractSyntaxUid: string;
  transferSyntaxUid: string;
}

export interface AssociationLimits {
  /** Maximum P-DATA-TF variable field length we announce (what the peer may send us). */
  maxPduLength: number;
  /** Guard: larger announced P-DATA-TF lengths are answered with A-ABORT. */
  maxPDataPduLength: number;
  /** Guard for every other PDU type. */
  maxControlPduLength: number;
  /** Cap on the PDUs we send; 0 = whatever the peer announced. */
  maxSendPduLength: number;
  /** ARTIM: how long to wait for an association request/answer, or for the peer to close. */
  artimTimeoutMs: number;
  /** Abort an established association after this long without traffic; 0 = never. */
  idleTimeoutMs: number;
}

/** 16 KiB is what DCMTK, Orthanc and most PACS use; peers size their PDUs by this value. */
export const DEFAULT_MAX_PDU_LENGTH = 16384;
const ONE_MIB = 1024 * 1024;
/** When the peer announces "no limit" (0) we still send bounded PDUs. */
const UNLIMITED_PEER_SEND_LENGTH = 64 * 1024;
/** Command sets are a few hundred bytes; anything beyond this is not a command. */
const MAX_COMMAND_BYTES = 64 * 1024;
/** How much file data one readv() reads (straight into the PDU buffers). */
const FILE_BATCH_BYTES = 256 * 1024;
/** After sending A-ABORT or A-RELEASE-RP, wait at most this long for the peer to close. */
const CLOSE_LINGER_MS = 2000;
/**
 * A data set is sent with even length: an odd one (e.g. a deflated stream stored unpadded) gets a
 * trailing NUL, as DCMTK does on sending (and requires on receiving: "Odd Fragment Length").
 */
const EVEN_PAD = Buffer.alloc(1);

export function resolveLimits(partial: Partial<AssociationLimits>): AssociationLimits {
  const maxPduLength = partial.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  return {
    maxPduLength,
    maxPDataPduLength: partial.maxPDataPduLength ?? Math.max(maxPduLength, ONE_MIB),
    maxControlPduLength: partial.maxControlPduLength ?? DEFAULT_MAX_CONTROL_PDU_LENGTH,
    maxSendPduLength: partial.maxSendPduLength ?? 0,
    artimTimeoutMs: partial.artimTimeoutMs ?? 30_000,
    idleTimeoutMs: partial.idleTimeoutMs ?? 300_000,
  };
}

/** Why reading from the socket is paused; reading resumes when no reason is left. */
export const ReadPause = {
  /** A consumer (C-STORE data stream) is full. */
  Backpressure: 1,
  /** A request arrived while another is being performed; it waits (async window 1). */
  Serialize: 2,
} as const;

let associationCounter = 0;

export abstract class AssociationCore {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  protected readonly socket: Socket;
  protected readonly limits: AssociationLimits;
  protected readonly logger: DimseLogger;
  protected readonly decoder: PduDecoder;
  protected readonly contexts = new Map<number, AcceptedPresentationContext>();
  /** P-DATA-TF is accepted only while this is true (established, not yet released). */
  protected dataTransferAllowed = false;
  /** undefined while alive; null after a clean release; the error after an abort or a lost connection. */
  protected endReason: Error | null | undefined = undefined;
  protected isClosed = false;
  /** Resolves when the socket has closed, whatever the reason. */
  readonly closed: Promise<void>;

  private commandChunks: Buffer[] = [];
  private commandBytes = 0;
  private commandContextId = -1;
  private dataContextId = -1;
  private readPauseReasons = 0;
  private artimTimer: NodeJS.Timeout | undefined;
  private terminated = false;
  private drainWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private resolveClosed!: () => void;
  private peerMaxPduLengthValue = 0;
  /** Streams being sent as data sets; destroyed if the association dies under them. */
  private readonly activeSources = new Set<Readable>();

  constructor(socket: Socket, limits: AssociationLimits, logger: DimseLogger, idPrefix: string) {
    this.id = `${idPrefix}${++associationCounter}`;
    this.socket = socket;
    this.limits = limits;
    this.logger = logger;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.decoder = new PduDecoder(
      {
        controlPdu: (pdu) => this.onControlPdu(pdu),
        pdvData: (contextId, isCommand, isLast, data, pdvComplete) => this.onPdv(contextId, isCommand, isLast, data, pdvComplete),
        decodeError: (err) => this.onProtocolError(err),
      },
      { maxPDataLength: limits.maxPDataPduLength, maxControlLength: limits.maxControlPduLength },
    );
    // Every PDU we send is one write; noDelay makes sure small ones (responses) leave at once
    // instead of waiting for the peer's delayed ACK (about 40 ms per message otherwise).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.on('drain', () => this.flushDrainWaiters());
    socket.on('timeout', () => this.onIdle());
    socket.on('error', (err) => {
      this.logger.debug(this.logFields({ errorCode: (err as NodeJS.ErrnoException).code ?? err.name }), 'socket error');
    });
    socket.on('close', () => this.onSocketClose());
  }

  /** The peer's maximum receive PDU length (0 = unlimited); sizes the PDUs we send. */
  get peerMaxPduLength(): number {
    return this.peerMaxPduLengthValue;
  }

  protected setPeerMaxPduLength(length: number): void {
    this.peerMaxPduLengthValue = length;
  }

  /** Accepted presentation contexts by id. */
  get acceptedContexts(): ReadonlyMap<number, AcceptedPresentationContext> {
    return this.contexts;
  }

  /** Sends A-ABORT and closes the connection. Safe to call at any time, more than once. */
  abort(source: number = AbortSource.ServiceUser, reason: number = AbortReason.NotSpecified, detail?: string): void {
    if (this.isClosed) return;
    if (this.endReason !== undefined) {
      this.socket.destroy();
      return;
    }
    const error = new AssociationAbortedError(source, reason, true, detail);
    this.endReason = error;
    this.dataTransferAllowed = false;
    this.decoder.stop();
    this.logger.info(this.logFields({ source, reason, detail }), 'association aborted locally');
    if (this.socket.writable) this.socket.write(encodeAbort(source, reason));
    this.socket.end();
    this.startArtim(CLOSE_LINGER_MS, () => this.socket.destroy());
    this.terminate(error);
  }

  // --- hooks for the role-specific state machines --------------------------------------------

  protected abstract handleControlPdu(pdu: Exclude<ControlPdu, { type: 'abort' }>): void;
  protected abstract handleCommand(command: CommandSet, context: AcceptedPresentationContext): void;
  /** A fragment of the data set announced by the last command; `endOfDataSet` on the final one. */
  protected abstract handleDataFragment(context: AcceptedPresentationContext, data: Buffer, endOfDataSet: boolean): void;
  /** Called once when the association ends: null after a clean release, else the error. */
  protected abstract handleTermination(error: Error | null): void;
  /** While busy (an operation is being performed), the idle timeout does not abort. */
  protected abstract isBusy(): boolean;

  protected logFields(extra: LogFields = {}): LogFields {
    return { association: this.id, remoteAddress: this.remoteAddress, remotePort: this.remotePort, ...extra };
  }

  // --- timers and transport --------------------------------------------------------------------

  protected startArtim(ms: number, onExpire: () => void): void {
    this.stopArtim();
    this.artimTimer = setTimeout(onExpire, ms);
  }

  protected stopArtim(): void {
    if (this.artimTimer) clearTimeout(this.artimTimer);
    this.artimTimer = undefined;
  }

  protected enableIdleTimeout(): void {
    if (this.limits.idleTimeoutMs > 0) this.socket.setTimeout(this.limits.idleTimeoutMs);
  }

  /** After a clean release (or a reject): end our side and close if the peer does not. */
  protected finishTransport(): void {
    this.dataTransferAllowed = false;
    this.socket.end();
    this.startArtim(CLOSE_LINGER_MS, () => this.socket.destroy());
  }

  /** Closes the transport without any PDU (e.g. ARTIM expiry before an association exists). */
  protected dropConnection(error: Error): void {
    if (this.endReason === undefined) this.endReason = error;
    this.decoder.stop();
    this.socket.destroy();
    this.terminate(error);
  }

  protected markReleased(): void {
    if (this.endReason === undefined) this.endReason = null;
  }

  protected setReadPaused(reason: number, paused: boolean): void {
    const before = this.readPauseReasons;
    this.readPauseReasons = paused ? before | reason : before & ~reason;
    if (before === 0 && this.readPauseReasons !== 0) this.socket.pause();
    else if (before !== 0 && this.readPauseReasons === 0 && !this.isClosed) this.socket.resume();
  }

  /** Stops decoding after the current PDV (and reading the socket) until `releaseInput()`. */
  protected holdInput(): void {
    this.decoder.pause();
    this.setReadPaused(ReadPause.Serialize, true);
  }

  protected releaseInput(): void {
    this.setReadPaused(ReadPause.Serialize, false);
    this.decoder.resume();
  }

  /** The error to report for work that cannot complete because the association is gone. */
  protected endError(): Error {
    return this.endReason ?? new AssociationClosedError();
  }

  // --- sending ---------------------------------------------------------------------------------

  /** Largest PDV data we put in one P-DATA-TF (PDU variable field minus the 6-byte PDV header). */
  protected get maxPdvDataLength(): number {
    let pduLimit = this.peerMaxPduLengthValue > 0 ? this.peerMaxPduLengthValue : UNLIMITED_PEER_SEND_LENGTH;
    if (this.limits.maxSendPduLength > 0) pduLimit = Math.min(pduLimit, this.limits.maxSendPduLength);
    // Even, because DICOM values and data sets have even lengths and DCMTK rejects odd fragments.
    return Math.max((pduLimit - 6) & ~1, 2);
  }

  /** Writes one whole PDU in one socket write. Returns false when the caller should wait for drain. */
  protected writePdu(pdu: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(pdu);
  }

  protected waitForDrain(): Promise<void> {
    if (this.isClosed || this.socket.destroyed || this.endReason !== undefined) return Promise.reject(this.endError());
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  private flushDrainWaiters(error?: Error): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  private sendFragments(contextId: number, isCommand: boolean, payload: Buffer): boolean {
    const max = this.maxPdvDataLength;
    if (payload.length <= max) return this.writePdu(encodePDataTf([{ contextId, isCommand, isLast: true, data: payload }]));
    let ok = true;
    for (let offset = 0; offset < payload.length; offset += max) {
      const end = Math.min(offset + max, payload.length);
      ok = this.writePdu(encodePDataTf([{ contextId, isCommand, isLast: end === payload.length, data: payload.subarray(offset, end) }]));
    }
    return ok;
  }

  /** Sends a command, and its data set when given. Returns false when the socket wants a drain. */
  protected sendMessage(contextId: number, command: CommandSet, dataSet?: Buffer): boolean {
    let ok = this.sendFragments(contextId, true, encodeCommandSet(command));
    if (dataSet) ok = this.sendFragments(contextId, false, dataSet.length % 2 === 0 ? dataSet : Buffer.concat([dataSet, EVEN_PAD]));
    return ok;
  }

  protected sendCommand(contextId: number, command: CommandSet): boolean {
    return this.sendFragments(contextId, true, encodeCommandSet(command));
  }

  private assertSending(): void {
    if (this.isClosed || this.endReason !== undefined) throw this.endError();
  }

  /**
   * Sends `length` bytes of an open file from `position` as the data set of the current message.
   * File data is read with readv() directly into the PDU buffers behind their 12-byte headers,
   * so each PDU is one buffer and one write with no extra copy.
   */
  protected async sendDataSetFromFile(contextId: number, handle: FileHandle, position: number, length: number): Promise<void> {
    const max = this.maxPdvDataLength;
    const fileEnd = position + length;
    // The wire length is even; an odd data set gets one NUL pad byte after the file's last byte.
    const end = fileEnd + (length % 2);
    if (length === 0) {
      this.writePdu(encodePDataTf([{ contextId, isCommand: false, isLast: true, data: Buffer.alloc(0) }]));
      return;
    }
    const pdusPerBatch = Math.max(1, Math.floor(FILE_BATCH_BYTES / max));
    while (position < end) {
      this.assertSending();
      const pdus: Buffer[] = [];
      let batchEnd = position;
      while (pdus.length < pdusPerBatch && batchEnd < end) {
        const n = Math.min(max, end - batchEnd);
        pdus.push(Buffer.allocUnsafe(PDATA_OVERHEAD + n));
        batchEnd += n;
      }
      const views = pdus.map((p) => p.subarray(PDATA_OVERHEAD));
      if (batchEnd > fileEnd) {
        const last = views[views.length - 1]!;
        last[last.length - 1] = 0;
        views[views.length - 1] = last.subarray(0, last.length - 1);
      }
      await readFully(handle, views, position);
      this.assertSending();
      let writable = true;
      for (const pdu of pdus) {
        position += pdu.length - PDATA_OVERHEAD;
        writeSinglePdvHeader(pdu, contextId, false, position === end);
        writable = this.writePdu(pdu);
      }
      if (!writable) await this.waitForDrain();
    }
  }

  /**
   * Sends a data set from a byte stream, copying it into PDU-sized buffers. Like pipeline(), the
   * source is destroyed if the association ends before it is consumed (nothing could read it).
   */
  protected async sendDataSetFromStream(contextId: number, source: Readable): Promise<void> {
    this.activeSources.add(source);
    try {
      await this.pumpDataSet(contextId, source);
    } finally {
      this.activeSources.delete(source);
    }
  }

  private async pumpDataSet(contextId: number, source: Readable): Promise<void> {
    this.assertSending();
    const max = this.maxPdvDataLength;
    let pdu = Buffer.allocUnsafe(PDATA_OVERHEAD + max);
    let fill = 0;
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      let offset = 0;
      while (offset < bytes.length) {
        if (fill === max) {
          // Only now do we know this PDU is not the last one.
          this.assertSending();
          writeSinglePdvHeader(pdu, contextId, false, false);
          const writable = this.writePdu(pdu);
          pdu = Buffer.allocUnsafe(PDATA_OVERHEAD + max);
          fill = 0;
          if (!writable) await this.waitForDrain();
        }
        const n = Math.min(max - fill, bytes.length - offset);
        bytes.copy(pdu, PDATA_OVERHEAD + fill, offset, offset + n);
        fill += n;
        offset += n;
      }
    }
    this.assertSending();
    // max is even, so an odd total leaves room for the pad byte in this last PDU.
    if (fill % 2 === 1) pdu[PDATA_OVERHEAD + fill++] = 0;
    const last = fill === max ? pdu : pdu.subarray(0, PDATA_OVERHEAD + fill);
    writeSinglePdvHeader(last, contextId, false, true);
    if (!this.writePdu(last)) await this.waitForDrain();
  }

  // --- receiving -------------------------------------------------------------------------------

  private onControlPdu(pdu: ControlPdu): void {
    if (pdu.type === 'abort') {
      const error = new AssociationAbortedError(pdu.source, pdu.reason, false);
      this.logger.info(this.logFields({ source: pdu.source, reason: pdu.reason }), 'association aborted by peer');
      this.endReason ??= error;
      this.dataTransferAllowed = false;
      this.decoder.stop();
      this.socket.destroy();
      this.terminate(error);
      return;
    }
    this.handleControlPdu(pdu);
  }

  private onPdv(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer, pdvComplete: boolean): void {
    if (!this.dataTransferAllowed) throw new UnexpectedPduError('P-DATA-TF outside an established association');
    const context = this.contexts.get(contextId);
    if (!context) throw new PduDecodeError(`PDV on presentation context ${contextId}, which is not accepted`, AbortReason.InvalidPduParameterValue);
    if (!isCommand) {
      if (this.dataContextId !== contextId) throw new PduDecodeError('data fragment that no command announced', AbortReason.UnexpectedPduParameter);
      const endOfDataSet = pdvComplete && isLast;
      if (endOfDataSet) this.dataContextId = -1;
      this.handleDataFragment(context, data, endOfDataSet);
      return;
    }
    if (this.dataContextId !== -1) throw new PduDecodeError('command fragment while a data set is being received', AbortReason.UnexpectedPduParameter);
    if (this.commandContextId !== -1 && this.commandContextId !== contextId) throw new PduDecodeError('command fragments on two presentation contexts', AbortReason.UnexpectedPduParameter);
    this.commandContextId = contextId;
    this.commandBytes += data.length;
    if (this.commandBytes > MAX_COMMAND_BYTES) throw new PduDecodeError('command set larger than 64 KiB', AbortReason.InvalidPduParameterValue);
    if (data.length > 0) this.commandChunks.push(data);
    if (!(pdvComplete && isLast)) return;
    const encoded = this.commandChunks.length === 1 ? this.commandChunks[0]! : Buffer.concat(this.commandChunks, this.commandBytes);
    this.commandChunks = [];
    this.commandBytes = 0;
    this.commandContextId = -1;
    const command = decodeCommandSet(encoded);
    if (command.hasDataSet) this.dataContextId = contextId;
    this.handleCommand(command, context);
  }

  /** Malformed or unexpected input: A-ABORT (source: service provider) and close. */
  private onProtocolError(error: Error): void {
    const reason = error instanceof PduDecodeError ? error.abortReason : AbortReason.NotSpecified;
    const code = error instanceof DimseError ? error.code : 'INTERNAL';
    // Not one of ours: a bug, or an exception from application code called synchronously; its
    // message is not logged (it could quote patient data).
    if (!(error instanceof DimseError)) this.logger.error(this.logFields({ errorCode: code, errorName: error.name }), 'internal error while handling input');
    else this.logger.warn(this.logFields({ errorCode: code, error: error.message }), 'protocol error, aborting association');
    this.abort(AbortSource.ServiceProvider, reason, error instanceof DimseError ? error.message : 'internal error');
  }

  private onIdle(): void {
    if (this.isBusy() || this.endReason !== undefined) return;
    this.logger.info(this.logFields({ idleTimeoutMs: this.limits.idleTimeoutMs }), 'idle timeout');
    this.abort(AbortSource.ServiceProvider, AbortReason.NotSpecified, 'idle timeout');
  }

  private onSocketClose(): void {
    this.isClosed = true;
    this.dataTransferAllowed = false;
    this.stopArtim();
    this.decoder.stop();
    if (this.endReason === undefined) this.endReason = new AssociationClosedError();
    this.flushDrainWaiters(this.endError());
    this.terminate(this.endReason);
    this.resolveClosed();
  }

  private terminate(error: Error | null): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const source of this.activeSources) source.destroy(error ?? new AssociationClosedError());
    this.activeSources.clear();
    try {
      this.handleTermination(error);
    } catch (err) {
      this.logger.error(this.logFields({ error: err instanceof Error ? err.message : String(err) }), 'error in termination handler');
    }
  }
}

async function readFully(handle: FileHandle, views: Buffer[], position: number): Promise<void> {
  let pending = views;
  while (pending.length > 0) {
    const { bytesRead } = await handle.readv(pending, position);
    if (bytesRead === 0) throw new Part10Error('file is shorter than expected (changed while being sent?)');
    position += bytesRead;
    let skip = bytesRead;
    const rest: Buffer[] = [];
    for (const v of pending) {
      if (skip >= v.length) {
        skip -= v.length;
        continue;
      }
      rest.push(skip > 0 ? v.subarray(skip) : v);
      skip = 0;
    }
    pending = rest;
  }
}
