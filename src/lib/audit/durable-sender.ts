// Durable audit sender: a spool folder on disk plus a background loop that delivers over TLS.
//
// - send() returns once the message is on disk: it is written to a temp file, fsync'ed, renamed to
//   "<sequence>-<uuid>.syslog" and the folder is fsync'ed. The file holds the complete RFC 5424
//   message, so every (re)delivery sends identical bytes.
// - The loop sends spool files in sequence order over one TLS connection and deletes a file once it
//   has "settled": written, and the connection still healthy settleMs later (or closed cleanly by
//   us). Syslog over TLS has no acknowledgements, so this is the closest a sender can get to
//   knowing delivery; a connection that breaks earlier sends its unsettled files again.
// - When the repository is down it retries with exponential backoff; after a restart a new sender
//   on the same folder delivers what is left.
// - So delivery is at least once and in order. Each message carries a stable id in its structured
//   data (syslog.ts, MESSAGE_ID_SD_ID) so that a receiver can drop the rare repeat: a message that
//   was delivered but whose file was not yet deleted when the connection broke or the process died.
import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { AuditTransportError } from './errors.ts';
import type { AuditMessage } from './model.ts';
import { MESSAGE_ID_SD_ID, MESSAGE_ID_SD_PARAM, frameOctetCounting } from './syslog.ts';
import { DEFAULT_MAX_AUDIT_MESSAGE_BYTES } from './parse.ts';
import {
  connectTls,
  silentLogger,
  toSyslogBytes,
  writeAll,
  type AuditLogger,
  type SyslogSenderOptions,
  type TlsClientOptions,
} from './transport.ts';

export interface DurableAuditSenderOptions extends SyslogSenderOptions {
  /** The spool folder; created if missing. One sender per folder at a time. */
  readonly directory: string;
  readonly tls: TlsClientOptions;
  /** How long a written message must stay on a healthy connection before its file is deleted. Default 1000 ms. */
  readonly settleMs?: number;
  /** First retry delay after a failed connection; doubles up to maxRetryDelayMs. Default 250 ms. */
  readonly initialRetryDelayMs?: number;
  /** Default 30 s. */
  readonly maxRetryDelayMs?: number;
  /** send() refuses new messages beyond this many pending files. Default 100 000. */
  readonly maxPendingMessages?: number;
  /** Largest XML accepted by send(); larger ones would be refused by the repository forever. Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /** SD-ID for the message id; default MESSAGE_ID_SD_ID. */
  readonly messageIdSdId?: string;
  readonly logger?: AuditLogger;
}

export interface SpooledMessage {
  /** The stable message id (also in the syslog structured data). */
  readonly id: string;
  /** The spool file name. */
  readonly file: string;
}

const SPOOL_SUFFIX = '.syslog';
const LOCK_FILE = '.lock';
/** Spool folders held by senders of this process (the lock file holds only the pid). */
const lockedInThisProcess = new Set<string>();
const TEMP_PREFIX = '.tmp-';
const SEQUENCE_DIGITS = 16;

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}

export class DurableAuditSender {
  private readonly queue: string[] = [];
  /** Files written on the current connection and not yet settled, in send order, with write time. */
  private readonly unsettled = new Map<string, number>();
  private socket: TLSSocket | undefined;
  private lastSequence = 0;
  private closing = false;
  private readonly stop = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private delivered = 0;
  private readonly logger: AuditLogger;

  private constructor(private readonly options: DurableAuditSenderOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Opens the spool (recovering files left by an earlier process) and starts delivering. */
  static async open(options: DurableAuditSenderOptions): Promise<DurableAuditSender> {
    const sender = new DurableAuditSender(options);
    await sender.recover();
    sender.loop = sender.run();
    return sender;
  }

  /** Messages on disk not yet delivered (queued or written but not settled). */
  get pendingCount(): number {
    return this.queue.length + this.unsettled.size;
  }

  /** Messages whose files were deleted after delivery, since open. */
  get deliveredCount(): number {
    return this.delivered;
  }

  /** Puts one message in the spool; resolves once it is durably on disk. */
  async send(message: AuditMessage | string): Promise<SpooledMessage> {
    if (this.closing) throw new AuditTransportError('closed', 'durable audit sender is closed');
    if (this.pendingCount >= (this.options.maxPendingMessages ?? 100_000)) {
      throw new AuditTransportError('spool-full', `audit spool ${this.options.directory} holds too many pending messages`);
    }
    const id = randomUUID();
    const bytes = toSyslogBytes(message, {
      ...this.options,
      structuredData: [{ id: this.options.messageIdSdId ?? MESSAGE_ID_SD_ID, params: [[MESSAGE_ID_SD_PARAM, id]] }],
    });
    const limit = (this.options.maxMessageBytes ?? DEFAULT_MAX_AUDIT_MESSAGE_BYTES) + 1024;
    if (bytes.length > limit) throw new AuditTransportError('message-too-large', `audit message of ${bytes.length} bytes exceeds ${limit}`);

    const sequence = Math.max(this.lastSequence + 1, Date.now() * 1000);
    this.lastSequence = sequence;
    const file = `${String(sequence).padStart(SEQUENCE_DIGITS, '0')}-${id}${SPOOL_SUFFIX}`;
    const temp = join(this.options.directory, `${TEMP_PREFIX}${id}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(this.options.directory, file));
    await fsyncDirectory(this.options.directory);
    // Concurrent sends may finish out of order: keep the queue in sequence order, as a restart would.
    let at = this.queue.length;
    while (at > 0 && (this.queue[at - 1] as string) > file) at--;
    this.queue.splice(at, 0, file);
    this.wake?.();
    return { id, file };
  }

  /** Waits until every spooled message is delivered and settled; false on timeout. */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pendingCount > 0) {
      if (Date.now() >= deadline) return false;
      this.wake?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /**
   * Stops the sender. With flush (default) it first tries, for up to timeoutMs, to deliver what is
   * pending and closes the connection cleanly; whatever is left stays in the folder for the next open.
   */
  async close(options: { flush?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return this.loop;
    const timeoutMs = options.timeoutMs ?? 5_000;
    if (options.flush ?? true) {
      const deadline = Date.now() + timeoutMs;
      while (this.queue.length > 0 && Date.now() < deadline) {
        this.wake?.();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.closing = true;
    this.stop.abort();
    this.wake?.();
    await this.loop;
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed && (options.flush ?? true)) {
      // A clean close (our FIN acknowledged and the peer's close seen) means the repository read
      // everything before it: the unsettled files are delivered.
      const clean = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.min(timeoutMs, 2_000));
        socket.once('close', (hadError: boolean) => {
          clearTimeout(timer);
          resolve(!hadError);
        });
        socket.end();
      });
      socket.destroy();
      if (clean) await this.settle(0);
    } else {
      socket?.destroy();
    }
    await this.unlock();
  }

  /**
   * One sender per folder: two would deliver the same files twice. The lock file names the owning
   * pid; a lock whose process is gone (crash, kill -9) is taken over.
   */
  private async lock(): Promise<void> {
    const directory = resolve(this.options.directory);
    const lockPath = join(directory, LOCK_FILE);
    if (lockedInThisProcess.has(directory)) throw new AuditTransportError('spool-locked', `audit spool ${directory} is in use by another sender`);
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new AuditTransportError('spool-locked', `audit spool ${directory} is in use by process ${owner}`);
    }
    await writeFile(lockPath, String(process.pid), { mode: 0o600 });
    lockedInThisProcess.add(directory);
  }

  private async unlock(): Promise<void> {
    const directory = resolve(this.options.directory);
    if (!lockedInThisProcess.delete(directory)) return;
    await unlink(join(directory, LOCK_FILE)).catch(() => undefined);
  }

  private async recover(): Promise<void> {
    await mkdir(this.options.directory, { recursive: true, mode: 0o700 });
    await this.lock();
    const names = await readdir(this.options.directory);
    for (const name of names) {
      // A temp file is a send() that never returned: its caller was not told the message was kept.
      if (name.startsWith(TEMP_PREFIX)) await unlink(join(this.options.directory, name)).catch(() => undefined);
    }
    const spooled = names.filter((n) => n.endsWith(SPOOL_SUFFIX) && /^\d+-/.test(n)).sort();
    this.queue.push(...spooled);
    const last = spooled.at(-1);
    if (last) this.lastSequence = Number(last.slice(0, last.indexOf('-')));
    if (spooled.length) this.logger.info?.({ pending: spooled.length, directory: this.options.directory }, 'audit spool recovered');
  }

  private async run(): Promise<void> {
    const settleMs = this.options.settleMs ?? 1_000;
    const initialDelay = this.options.initialRetryDelayMs ?? 250;
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    let retryDelay = initialDelay;
    while (!this.stop.signal.aborted) {
      try {
        await this.settle(settleMs);
      } catch (err) {
        // e.g. the spool folder became unwritable: keep going, the files are sent again later at worst.
        this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audit spool cleanup failed');
        await sleep(1_000, this.stop.signal);
        continue;
      }
      if (this.queue.length === 0) {
        await this.idle(this.unsettled.size > 0 ? Math.max(10, settleMs / 4) : 1_000);
        continue;
      }
      if (!this.socket) {
        try {
          this.socket = await this.connect();
          retryDelay = initialDelay;
        } catch (err) {
          this.logger.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: retryDelay }, 'audit repository unreachable; will retry');
          await sleep(retryDelay * (0.75 + Math.random() * 0.5), this.stop.signal);
          retryDelay = Math.min(maxDelay, retryDelay * 2);
          continue;
        }
      }
      await this.sendQueued();
    }
  }

  private async connect(): Promise<TLSSocket> {
    const socket = await connectTls(this.options.tls);
    socket.on('error', (err) => this.lose(socket, err.message));
    socket.on('end', () => this.lose(socket, 'closed by repository'));
    socket.on('close', () => this.lose(socket, 'closed'));
    socket.on('data', () => undefined); // a repository does not talk back
    return socket;
  }

  /** The connection broke: files written on it may not have arrived, so they go first in the queue again. */
  private lose(socket: TLSSocket, reason: string): void {
    socket.destroy();
    if (this.socket !== socket) return;
    this.socket = undefined;
    const resend = [...this.unsettled.keys()];
    this.unsettled.clear();
    this.queue.unshift(...resend);
    if (!this.closing) this.logger.warn({ reason, resend: resend.length }, 'audit repository connection lost');
    this.wake?.();
  }

  private async sendQueued(): Promise<void> {
    while (this.queue.length > 0 && !this.stop.signal.aborted) {
      const socket = this.socket;
      if (!socket) return;
      if (socket.destroyed) {
        this.lose(socket, 'destroyed');
        return;
      }
      const file = this.queue[0] as string;
      let bytes: Buffer;
      try {
        bytes = await readFile(join(this.options.directory, file));
      } catch (err) {
        // Unreadable or vanished (deleted by an operator): nothing to deliver.
        this.logger.error({ file, err: err instanceof Error ? err.message : String(err) }, 'audit spool file unreadable; skipped');
        this.queue.shift();
        continue;
      }
      try {
        await writeAll(socket, frameOctetCounting(bytes));
      } catch (err) {
        this.lose(socket, err instanceof Error ? err.message : String(err));
        return;
      }
      if (this.socket !== socket) return; // lost while writing; already requeued
      this.queue.shift();
      this.unsettled.set(file, Date.now());
    }
  }

  /** Deletes the files that have stayed on a healthy connection for settleMs (0: all of them). */
  private async settle(settleMs: number): Promise<void> {
    const now = Date.now();
    for (const [file, writtenAt] of this.unsettled) {
      if (settleMs > 0 && now - writtenAt < settleMs) break; // in send order: the rest are younger
      this.unsettled.delete(file);
      try {
        await unlink(join(this.options.directory, file));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.delivered++;
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.stop.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}
