// DicomServer: a DICOM SCP on a net.Server. Each TCP connection becomes one ScpAssociation; they
// run side by side on the event loop and a failing association never affects the others.

import { EventEmitter } from 'node:events';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type AssociationLimits, resolveLimits } from './association.ts';
import { AbortReason, AbortSource, ServerStateError } from './errors.ts';
import { type DimseLogger, silentLogger } from './logger.ts';
import { Reject } from './negotiation.ts';
import { type DicomServerHandlers, type ScpEnvironment, type ServerAssociation, ScpAssociation } from './server-association.ts';
import { DEFAULT_IMPLEMENTATION_CLASS_UID, DEFAULT_IMPLEMENTATION_VERSION_NAME } from './uids.ts';

export interface DicomServerOptions extends Partial<AssociationLimits> {
  handlers?: DicomServerHandlers;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** Associations beyond this are rejected (transient, local limit exceeded). Default 64. */
  maxAssociations?: number;
  /** Bytes buffered in a C-STORE data stream before the socket is paused. Default 1 MiB. */
  storeHighWaterMark?: number;
  /** Largest C-FIND/C-MOVE identifier accepted. Default 1 MiB. */
  maxIdentifierBytes?: number;
  logger?: DimseLogger;
}

export interface DicomServerEvents {
  /** An association was accepted. */
  association: [association: ServerAssociation];
  /** An accepted association ended: null after a release, else the abort or transport error. */
  associationEnded: [association: ServerAssociation, error: Error | null];
}

export interface CloseOptions {
  /** How long in-flight associations may continue before they are aborted. Default 10 s. */
  graceMs?: number;
}

export class DicomServer extends EventEmitter<DicomServerEvents> {
  private readonly server: Server;
  private readonly associations = new Set<ScpAssociation>();
  private readonly env: ScpEnvironment;
  private readonly maxAssociations: number;
  private closing: Promise<void> | undefined;

  constructor(options: DicomServerOptions = {}) {
    super();
    this.maxAssociations = options.maxAssociations ?? 64;
    const logger = options.logger ?? silentLogger;
    this.env = {
      limits: resolveLimits(options),
      logger,
      handlers: options.handlers ?? {},
      implementationClassUid: options.implementationClassUid ?? DEFAULT_IMPLEMENTATION_CLASS_UID,
      implementationVersionName: options.implementationVersionName ?? DEFAULT_IMPLEMENTATION_VERSION_NAME,
      storeHighWaterMark: options.storeHighWaterMark ?? 1024 * 1024,
      maxIdentifierBytes: options.maxIdentifierBytes ?? 1024 * 1024,
      admit: () => {
        if (this.closing) return Reject.temporaryCongestion();
        if (this.associations.size > this.maxAssociations) return Reject.localLimitExceeded();
        return undefined;
      },
      established: (association) => this.emitSafely('association', association),
      ended: (association, error) => this.emitSafely('associationEnded', association, error),
    };
    this.server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.server.on('error', (err) => logger.error({ errorCode: (err as NodeJS.ErrnoException).code ?? err.name }, 'DICOM listener error'));
  }

  /** Starts listening; port 0 picks a free port. Resolves with the bound address. */
  listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    if (this.closing) return Promise.reject(new ServerStateError('server is closed'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        this.env.logger.info({ port: address.port, host: address.address }, 'DICOM server listening');
        resolve(address);
      });
    });
  }

  get address(): AddressInfo | null {
    const address = this.server.address();
    return address && typeof address === 'object' ? address : null;
  }

  /** Open associations (including ones still negotiating). */
  get associationCount(): number {
    return this.associations.size;
  }

  /**
   * Stops accepting connections (new ones are refused; requests on connections already open are
   * rejected as transient), lets in-flight associations finish within `graceMs`, then aborts the
   * rest. Resolves when every socket is closed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.graceMs ?? 10_000);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const allClosed = (): Promise<unknown> => Promise.all([...this.associations].map((a) => a.closed));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([allClosed(), grace]);
    clearTimeout(timer);
    if (this.associations.size > 0) {
      this.env.logger.warn({ associations: this.associations.size, graceMs }, 'aborting associations still open after the grace period');
      for (const association of this.associations) association.abort(AbortSource.ServiceUser, AbortReason.NotSpecified, 'server shutting down');
      await allClosed();
    }
    await listenerClosed;
    this.env.logger.info({}, 'DICOM server closed');
  }

  /** A throwing listener must not break the association that triggered the event. */
  private emitSafely<K extends keyof DicomServerEvents>(event: K, ...args: DicomServerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: DicomServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.env.logger.error({ event, errorName: err instanceof Error ? err.name : typeof err }, 'DicomServer event listener threw');
    }
  }

  private onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const association = new ScpAssociation(socket, this.env);
    this.associations.add(association);
    void association.closed.then(() => this.associations.delete(association));
  }
}
