// Syslog receiver for audit messages (the transport half of an Audit Record Repository):
// TLS listener (RFC 5425 octet counting; LF framing tolerated) and UDP listener (RFC 5426).
// Each message is parsed (RFC 5424, or legacy RFC 3164), its XML validated by parseAuditXml, and
// handed to the caller's async store(record). Persistence, de-duplication by messageId and access
// control are the caller's business.
//
// Robustness: a connection that announces an oversized frame, sends bytes that are not syslog
// framing, or stalls is closed; a bad message (bad UTF-8, DTD/entities, not an audit message, ...)
// is reported through onRejected and skipped. Nothing a peer sends can stop the server or affect
// other connections. Messages of one connection reach store() in order, one at a time.
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer, type SecureVersion } from 'node:tls';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { AuditParseError, type AuditRejectCode } from './errors.ts';
import { DEFAULT_MAX_AUDIT_MESSAGE_BYTES, parseAuditXml, type AuditRecord } from './parse.ts';
import { MESSAGE_ID_SD_ID, SyslogStreamDecoder, messageIdOf, parseSyslogMessage, type ParsedSyslogMessage } from './syslog.ts';
import { silentLogger, type AuditLogger } from './transport.ts';

export interface PeerInfo {
  readonly transport: 'tls' | 'udp';
  readonly address: string;
  readonly port: number;
  /** Subject CN of the verified client certificate, when the peer presented one. */
  readonly certificateSubject?: string;
}

export interface ReceivedAuditRecord extends AuditRecord {
  /** The sender's stable message id from the structured data (see syslog.ts), for de-duplication. */
  readonly messageId?: string;
  readonly syslog: Omit<ParsedSyslogMessage, 'msg'>;
  readonly peer: PeerInfo;
  readonly receivedAt: Date;
}

export interface AuditRejection {
  readonly code: AuditRejectCode;
  readonly message: string;
}

export interface AuditReceiverTlsOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** CA(s) for client certificates. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Reject clients without a valid client certificate (ATNA secure node). Default false. */
  readonly requireClientCertificate?: boolean;
  /** Ask clients for a certificate (recorded as peer.certificateSubject when valid). Default: when `ca` is given. */
  readonly requestClientCertificate?: boolean;
  readonly minVersion?: SecureVersion;
}

export interface AuditReceiverOptions {
  readonly tls?: AuditReceiverTlsOptions;
  readonly udp?: { readonly host?: string; readonly port?: number };
  /** Persists one validated record; a rejection is reported as 'store-failed'. */
  readonly store: (record: ReceivedAuditRecord) => Promise<void>;
  readonly onRejected?: (reason: AuditRejection, peer: PeerInfo) => void;
  /** Largest accepted XML message. Default 64 KiB; frames may be up to this plus 4 KiB of syslog header. */
  readonly maxMessageBytes?: number;
  /** Connections silent for this long are closed. Default 5 minutes. */
  readonly idleTimeoutMs?: number;
  /** Default 256. */
  readonly maxConnections?: number;
  /** SD-ID carrying the message id; default MESSAGE_ID_SD_ID. */
  readonly messageIdSdId?: string;
  readonly logger?: AuditLogger;
}

export interface AuditReceiver {
  readonly tlsAddress?: AddressInfo;
  readonly udpAddress?: AddressInfo;
  /** Stops listening, closes connections and waits for store() calls in progress. */
  close(): Promise<void>;
}

const SYSLOG_HEADER_ALLOWANCE = 4 * 1024;
/** Frames a connection may have waiting for store() before reading from it pauses. */
const MAX_QUEUED_FRAMES = 32;

function certificateSubject(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return Array.isArray(cn) ? cn.join(',') : cn;
}

export async function startAuditReceiver(options: AuditReceiverOptions): Promise<AuditReceiver> {
  if (!options.tls && !options.udp) throw new TypeError('startAuditReceiver needs a tls or udp listener');
  const logger = options.logger ?? silentLogger;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_AUDIT_MESSAGE_BYTES;
  const maxFrameBytes = maxMessageBytes + SYSLOG_HEADER_ALLOWANCE;
  const sdId = options.messageIdSdId ?? MESSAGE_ID_SD_ID;
  const inFlight = new Set<Promise<void>>();
  const sockets = new Set<TLSSocket>();

  function reject(reason: AuditRejection, peer: PeerInfo): void {
    logger.warn({ code: reason.code, reason: reason.message, peer: `${peer.transport}://${peer.address}:${peer.port}` }, 'audit message rejected');
    try {
      options.onRejected?.(reason, peer);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'onRejected hook threw');
    }
  }

  /** Parses and stores one syslog message; never throws. */
  async function handle(frame: Buffer, peer: PeerInfo): Promise<void> {
    let record: ReceivedAuditRecord;
    try {
      const syslog = parseSyslogMessage(frame);
      const { msg, ...header } = syslog;
      const parsed = parseAuditXml(msg, { maxBytes: maxMessageBytes });
      const messageId = messageIdOf(syslog, sdId);
      record = { ...parsed, ...(messageId ? { messageId } : {}), syslog: header, peer, receivedAt: new Date() };
    } catch (err) {
      if (err instanceof AuditParseError) reject({ code: err.code, message: err.message }, peer);
      else reject({ code: 'not-well-formed', message: err instanceof Error ? err.message : String(err) }, peer);
      return;
    }
    try {
      await options.store(record);
    } catch (err) {
      reject({ code: 'store-failed', message: err instanceof Error ? err.message : String(err) }, peer);
    }
  }

  function track(p: Promise<void>): Promise<void> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  }

  function onConnection(socket: TLSSocket): void {
    sockets.add(socket);
    const peer: PeerInfo = {
      transport: 'tls',
      address: socket.remoteAddress ?? '?',
      port: socket.remotePort ?? 0,
      ...(certificateSubject(socket) ? { certificateSubject: certificateSubject(socket) } : {}),
    };
    const decoder = new SyslogStreamDecoder(maxFrameBytes);
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    let failed = false;
    socket.setTimeout(options.idleTimeoutMs ?? 5 * 60_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (failed) return;
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        failed = true;
        const e = err instanceof AuditParseError ? err : new AuditParseError('bad-framing', String(err));
        reject({ code: e.code, message: e.message }, peer);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        queued++;
        if (queued > MAX_QUEUED_FRAMES) socket.pause();
        chain = track(
          chain.then(() => handle(frame, peer)).finally(() => {
            queued--;
            if (queued <= MAX_QUEUED_FRAMES / 2 && socket.isPaused() && !socket.destroyed) socket.resume();
          }),
        );
      }
    });
    socket.on('end', () => {
      if (!failed && decoder.pendingBytes > 0) {
        reject({ code: 'bad-framing', message: `connection closed inside a frame (${decoder.pendingBytes} bytes pending)` }, peer);
      }
      // Answer the peer's clean close only after its messages are stored: the durable sender takes
      // a clean close as delivery.
      void chain.then(() => socket.end());
    });
    socket.on('error', (err) => logger.debug?.({ err: err.message }, 'audit TLS connection error'));
    socket.on('close', () => sockets.delete(socket));
  }

  let tlsServer: TlsServer | undefined;
  let tlsAddress: AddressInfo | undefined;
  if (options.tls) {
    const t = options.tls;
    const server = createTlsServer({
      key: t.key,
      cert: t.cert,
      ...(t.ca ? { ca: t.ca as string | Buffer | Array<string | Buffer> } : {}),
      requestCert: (t.requireClientCertificate ?? false) || (t.requestClientCertificate ?? t.ca !== undefined),
      rejectUnauthorized: t.requireClientCertificate ?? false,
      minVersion: t.minVersion ?? 'TLSv1.2',
      handshakeTimeout: 10_000,
    });
    tlsServer = server;
    server.maxConnections = options.maxConnections ?? 256;
    server.on('secureConnection', onConnection);
    server.on('tlsClientError', (err, socket) => {
      reject({ code: 'tls-error', message: err.message }, { transport: 'tls', address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
      socket.destroy();
    });
    server.on('error', (err) => logger.error({ err: err.message }, 'audit TLS server error'));
    await new Promise<void>((resolve, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(t.port ?? 0, t.host ?? '127.0.0.1', () => {
        server.off('error', rejectListen);
        resolve();
      });
    });
    tlsAddress = server.address() as AddressInfo;
  }

  let udpSocket: UdpSocket | undefined;
  let udpAddress: AddressInfo | undefined;
  if (options.udp) {
    const host = options.udp.host ?? '127.0.0.1';
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    udpSocket = socket;
    socket.on('message', (datagram: Buffer, rinfo: RemoteInfo) => {
      const peer: PeerInfo = { transport: 'udp', address: rinfo.address, port: rinfo.port };
      if (datagram.length > maxFrameBytes) {
        reject({ code: 'too-large', message: `datagram of ${datagram.length} bytes exceeds the limit of ${maxFrameBytes}` }, peer);
        return;
      }
      void track(handle(datagram, peer));
    });
    socket.on('error', (err) => logger.error({ err: err.message }, 'audit UDP socket error'));
    await new Promise<void>((resolve, rejectBind) => {
      socket.once('error', rejectBind);
      socket.bind(options.udp?.port ?? 0, host, () => {
        socket.off('error', rejectBind);
        resolve();
      });
    });
    udpAddress = socket.address();
  }

  let closed: Promise<void> | undefined;
  return {
    ...(tlsAddress ? { tlsAddress } : {}),
    ...(udpAddress ? { udpAddress } : {}),
    close(): Promise<void> {
      closed ??= (async () => {
        const serverClosed = tlsServer ? new Promise<void>((resolve) => tlsServer?.close(() => resolve())) : Promise.resolve();
        for (const s of sockets) s.destroy();
        const udpClosed = udpSocket ? new Promise<void>((resolve) => udpSocket?.close(() => resolve())) : Promise.resolve();
        await Promise.all([serverClosed, udpClosed]);
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      })();
      return closed;
    },
  };
}
