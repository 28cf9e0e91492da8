// Audit message senders: RFC 5425 (syslog over TLS, octet counting) and RFC 5426 (syslog over UDP,
// one message per datagram). For delivery that survives outages and restarts see DurableAuditSender.
import { connect as tlsConnect, type TLSSocket, type SecureVersion } from 'node:tls';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { toDicomXml } from './dicom-xml.ts';
import { AuditTransportError } from './errors.ts';
import type { AuditMessage } from './model.ts';
import { formatSyslogMessage, frameOctetCounting, severityForOutcome, type StructuredDataElement, type SyslogHeaderOptions } from './syslog.ts';

/** The logging this library does; a pino logger fits. */
export interface AuditLogger {
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
  info?(obj: Record<string, unknown>, msg?: string): void;
  debug?(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: AuditLogger = { warn() {}, error() {} };

/** How to reach an Audit Record Repository over TLS. */
export interface TlsClientOptions {
  readonly host: string;
  readonly port: number;
  /** CA certificate(s) that sign the repository's certificate; default: the system store. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client certificate and key (ATNA secure node); optional. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name to verify in the server certificate; default host (if it is a name). */
  readonly servername?: string;
  /** Default TLSv1.2 (DICOM PS3.15 / IHE ATNA: TLS 1.2 or later). */
  readonly minVersion?: SecureVersion;
  readonly connectTimeoutMs?: number;
}

/** Header fields of the syslog messages a sender writes. */
export type SyslogSenderOptions = Pick<SyslogHeaderOptions, 'hostname' | 'appName' | 'procId' | 'facility'>;

/** Formats an audit message (model or ready XML) as one RFC 5424 syslog message. */
export function toSyslogBytes(
  message: AuditMessage | string,
  options: SyslogSenderOptions & { structuredData?: readonly StructuredDataElement[]; timestamp?: Date } = {},
): Buffer {
  const xml = typeof message === 'string' ? message : toDicomXml(message);
  const severity = typeof message === 'string' ? 5 : severityForOutcome(message.event.outcome);
  return formatSyslogMessage(xml, { ...options, severity });
}

/** Opens a verified TLS connection (TLS >= 1.2, server certificate checked against `ca`). */
export function connectTls(options: TlsClientOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const servername = options.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
    const socket = tlsConnect({
      host: options.host,
      port: options.port,
      ...(options.ca ? { ca: options.ca as string | Buffer | Array<string | Buffer> } : {}),
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      ...(servername ? { servername } : {}),
      minVersion: options.minVersion ?? 'TLSv1.2',
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AuditTransportError('connect-failed', `TLS connect to ${options.host}:${options.port} timed out`));
    }, options.connectTimeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new AuditTransportError('connect-failed', `TLS connect to ${options.host}:${options.port} failed: ${err.message}`, { cause: err }));
    };
    socket.once('error', onError);
  });
}

/** Writes and resolves once the bytes are handed to the socket. */
export function writeAll(socket: TLSSocket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * RFC 5425 sender: one TLS connection, opened on first use and re-opened after a failure.
 * `send` resolves when the frame is written to the socket; it gives no delivery guarantee
 * (syslog has no acknowledgements): use DurableAuditSender for that.
 */
export class TlsSyslogSender {
  private socket: TLSSocket | undefined;
  private connecting: Promise<TLSSocket> | undefined;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly options: TlsClientOptions & SyslogSenderOptions & { logger?: AuditLogger }) {}

  send(message: AuditMessage | string): Promise<void> {
    return this.sendSyslog(toSyslogBytes(message, this.options));
  }

  /** Sends one ready-formatted syslog message (octet-counting framing is added here). */
  sendSyslog(syslogMessage: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new AuditTransportError('closed', 'sender is closed'));
    // Sends are serialized so that messages leave in the order they were given.
    const result = this.chain.then(async () => {
      const socket = await this.connection();
      try {
        await writeAll(socket, frameOctetCounting(syslogMessage));
      } catch (err) {
        this.drop(socket);
        throw err;
      }
    });
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async connection(): Promise<TLSSocket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    this.connecting ??= connectTls(this.options).finally(() => {
      this.connecting = undefined;
    });
    const socket = await this.connecting;
    socket.on('error', (err) => {
      this.options.logger?.warn({ err: err.message }, 'audit TLS connection error');
      this.drop(socket);
    });
    socket.on('close', () => this.drop(socket));
    socket.on('data', () => undefined); // a repository does not talk back; drain anything it sends
    this.socket = socket;
    return socket;
  }

  private drop(socket: TLSSocket): void {
    socket.destroy();
    if (this.socket === socket) this.socket = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 2_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
  }
}

/** Largest UDP payload over IPv4 (65535 - 8 byte UDP header - 20 byte IP header). */
export const MAX_UDP_PAYLOAD = 65_507;

/**
 * RFC 5426 sender: one syslog message per datagram, no framing. Messages larger than a datagram
 * can carry are refused (with a warning), since UDP would drop them anyway.
 */
export class UdpSyslogSender {
  private readonly socket: UdpSocket;
  private closed = false;

  constructor(private readonly options: { host: string; port: number; logger?: AuditLogger } & SyslogSenderOptions) {
    this.socket = createSocket(isIP(options.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('error', (err) => options.logger?.warn({ err: err.message }, 'audit UDP socket error'));
    this.socket.unref();
  }

  send(message: AuditMessage | string): Promise<void> {
    return this.sendSyslog(toSyslogBytes(message, this.options));
  }

  sendSyslog(syslogMessage: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new AuditTransportError('closed', 'sender is closed'));
    if (syslogMessage.length > MAX_UDP_PAYLOAD) {
      this.options.logger?.warn({ bytes: syslogMessage.length }, 'audit message too large for one UDP datagram; not sent');
      return Promise.reject(new AuditTransportError('datagram-too-large', `audit message of ${syslogMessage.length} bytes does not fit a UDP datagram`));
    }
    return new Promise((resolve, reject) => {
      this.socket.send(syslogMessage, this.options.port, this.options.host, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
