// Filesystem blob store: each object is written to a temporary file, renamed to its content address
// (BLAKE3, see createBlobHasher) once all its bytes are written and fdatasync'ed, and its folder is
// fsync'ed before the commit's `durable` resolves, so a crash never leaves a half-written object under
// a real key and identical bytes are stored once.
//
// Speed (measured on the C-STORE benchmark): the sender waits for each instance's response, so the
// latency per object counts. Small metadata calls (open, stat, rename, close) and page-cache writes are
// made synchronously: a thread-pool round trip costs more than the call itself. Only fsync, which
// waits for the disk, goes to the thread pool, and the work left once the last byte is in runs beside
// it: the file's fdatasync, the hash (on this thread) and the folder's fsync all overlap. Chunks are
// written through as they arrive, gathered up to 128 KiB per writev, and the 256 fan-out folders are
// created once, with their descriptors kept for fsync.
//
// Objects up to 2 MiB (HASH_AT_END_BYTES) go first to the intake journal when it is enabled (see
// blob-journal.ts): one fdatasync of preallocated blocks makes them durable, about half the cost of a
// new file and its name. Their commit resolves as soon as they are hashed (readable, and kept through
// a crash of the process: the kernel has the bytes), so that the caller indexes them while that
// fdatasync runs, and `durable` when it is done. They are copied into their own files once the store
// has been idle for SETTLE_IDLE_MS, and read from the journal until then; a restart finds them there
// again.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  fdatasync,
  fsync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writevSync,
} from 'node:fs';
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  blobKeyOf,
  createBlobHasher,
  isBlobKey,
  type BlobHasher,
  type BlobRef,
  type BlobStore,
  type BlobWriter,
  type ReadRange,
} from './blob-store.ts';
import { isProcessRunning } from '../../util/process.ts';
import { BlobJournal, type JournalLease, type JournalRecord, type JournalSegment } from './blob-journal.ts';

export interface FsBlobStoreOptions {
  dir: string;
  /** fsync file and folder before commit resolves (default true). */
  fsync?: boolean;
  /**
   * Size of the intake journal in bytes (default 0: every object is written to its own file at
   * once). Objects a journal of an earlier start still holds are recovered whatever this is.
   */
  journalBytes?: number;
}

/** The journal's objects are copied into their own files once no object was journaled for this long. */
const SETTLE_IDLE_MS = 250;
/** Wait before trying the copy again after it failed (disk full, say). */
const SETTLE_RETRY_MS = 5000;

/**
 * Marks the store's folders as tops of directory hierarchies for ext4's Orlov allocator (`chattr +T`),
 * so a folder created in them goes to a block group of ext4's choosing (the emptiest, searched from a
 * hash of its name) instead of beside its parent; a file's inode comes from its folder's group.
 * Measured here: on ext4 without a journal, creating a file in a group where files were deleted in
 * the last 1 to 6 minutes (a purge, another program's clean-up) first scans every such inode,
 * 0.3 to 3 ms per file instead of 0.02 ms. Best effort: other filesystems, or no chattr (e2fsprogs),
 * keep the default placement.
 */
function markTopDirectories(dirs: string[]): void {
  if (process.platform !== 'linux') return;
  try {
    spawnSync('chattr', ['+T', ...dirs], { stdio: 'ignore', timeout: 5000 });
  } catch {
    /* not available: default placement */
  }
}

/** A temporary folder is named `<pid>-<random>`; true when that pid is another running process here. */
function isLiveProcessFolder(name: string): boolean {
  const m = /^(\d+)-[0-9a-f]+$/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  return pid !== process.pid && isProcessRunning(pid);
}

export class FsBlobStore implements BlobStore {
  readonly dir: string;
  /** This process's folder for temporary files. */
  readonly tmpDir: string;
  readonly fsync: boolean;
  private readonly dirFds = new Map<string, number>();
  private readonly journal: BlobJournal | null;
  /** Objects whose only copy is in the journal, by key. */
  private readonly journaled = new Map<string, JournalRecord>();
  private lastJournalWrite = 0;
  private settleTimer: NodeJS.Timeout | null = null;
  private settling: Promise<void> | null = null;
  private closed = false;
  /** The last failure of the copy out of the journal (retried), for diagnosis. */
  lastSettleError: Error | null = null;

  constructor(opts: FsBlobStoreOptions) {
    this.dir = opts.dir;
    this.fsync = opts.fsync ?? true;
    const tmpRoot = join(opts.dir, 'tmp');
    mkdirSync(tmpRoot, { recursive: true });
    markTopDirectories([this.dir, tmpRoot]);
    // Temporary files are leftovers of writes that were never committed (crash): drop them, except
    // the folder of another process of this host that is still running on the same store.
    for (const name of readdirSync(tmpRoot)) {
      if (!isLiveProcessFolder(name)) rmSync(join(tmpRoot, name), { recursive: true, force: true });
    }
    // A folder of its own per process, under a new random name: ext4 then places it (and so the
    // inodes of the files created in it) in a block group of its own choosing, see markTopDirectories.
    this.tmpDir = join(tmpRoot, `${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(this.tmpDir);
    for (let i = 0; i < 256; i++) {
      const sub = join(this.dir, i.toString(16).padStart(2, '0'));
      if (!existsSync(sub)) mkdirSync(sub);
    }
    const journalDir = join(this.dir, 'journal');
    const journalBytes = opts.journalBytes ?? 0;
    this.journal =
      journalBytes > 0 || existsSync(journalDir)
        ? BlobJournal.open({ dir: journalDir, totalBytes: journalBytes, maxRecordBytes: HASH_AT_END_BYTES, fsync: this.fsync })
        : null;
    if (this.journal) this.recoverJournal(this.journal);
  }

  /** The records a crash (or a stop before they were copied) left in the journal: hashed and listed. */
  private recoverJournal(journal: BlobJournal): void {
    for (const seg of journal.segments) {
      for (const record of seg.records) {
        record.key = blobKeyOf(journal.readRecord(record));
        // A file of the same name is copied over again: a power loss may have left it incomplete.
        if (this.journaled.has(record.key)) record.settled = true;
        else this.journaled.set(record.key, record);
      }
    }
    for (const seg of [...journal.segments]) if (seg.unsettled === 0) journal.tryFree(seg);
    if (this.journaled.size > 0) this.armSettle(SETTLE_IDLE_MS);
  }

  private fileHolds(key: string, size: number): boolean {
    return statSync(this.localPath(key), { throwIfNoEntry: false })?.size === size;
  }

  /** @internal True when the object is already stored (in its file, or in the journal). */
  holds(key: string, size: number): boolean {
    return this.journaled.get(key)?.size === size || this.fileHolds(key, size);
  }

  /** @internal A journal segment for one writer, or null: no journal, or no room (then written directly). */
  leaseJournal(): JournalLease | null {
    return this.journal?.lease() ?? null;
  }

  /** @internal */
  get openJournal(): BlobJournal {
    if (!this.journal) throw new Error('blob store: no journal');
    return this.journal;
  }

  /**
   * @internal A writer's object is complete in the journal (durable once the segment's fdatasync
   * that the writer started is done): it is readable under its key from now on.
   */
  journalCommitted(lease: JournalLease, key: string, size: number): { alreadyStored: boolean; record: JournalRecord } {
    const alreadyStored = this.holds(key, size);
    // Even when its file exists, the journal's durable copy is what counts until it has been copied
    // over that file (which a power loss may have left incomplete, see commit()).
    const inJournal = this.journaled.get(key)?.size === size;
    const record = this.openJournal.addRecord(lease, size, key, inJournal);
    if (!inJournal) this.journaled.set(key, record);
    this.lastJournalWrite = performance.now();
    this.armSettle(SETTLE_IDLE_MS);
    return { alreadyStored, record };
  }

  /**
   * @internal The fdatasync of a record failed: its bytes may not be on disk. It is no longer served
   * (reads say not found; the same bytes sent again are stored again) and is skipped by recovery.
   */
  journalWriteFailed(record: JournalRecord): void {
    if (this.journaled.get(record.key) === record) this.journaled.delete(record.key);
    if (!record.deleted) this.openJournal.markDeleted(record);
  }

  /** Objects still only in the journal (not yet in their own files). */
  get journaledCount(): number {
    return this.journaled.size;
  }

  private armSettle(delayMs: number): void {
    if (this.settleTimer || this.closed || !this.journal) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.settle();
    }, delayMs);
    this.settleTimer.unref();
  }

  /**
   * Copies the journal's objects into their own files while no new object arrives, and frees the
   * segments that hold nothing else. `{ now: true }` copies everything at once (tests, tools).
   */
  settle(opts: { now?: boolean } = {}): Promise<void> {
    if (this.settling) return opts.now ? this.settling.then(() => this.settle(opts)) : this.settling;
    this.settling = (async () => {
      const journal = this.journal;
      if (!journal) return;
      for (const seg of [...journal.segments]) {
        for (let i = 0; i < seg.records.length; i++) {
          const record = seg.records[i]!;
          if (record.settled) continue;
          if (this.closed) return;
          if (!opts.now && performance.now() - this.lastJournalWrite < SETTLE_IDLE_MS) {
            // New objects are arriving: the copy waits, it would slow their acknowledgements.
            this.armSettle(SETTLE_IDLE_MS);
            return;
          }
          await this.settleRecord(journal, record);
        }
      }
      for (const seg of [...journal.segments]) journal.tryFree(seg);
      this.lastSettleError = null;
    })()
      .catch((err: Error) => {
        this.lastSettleError = err;
        this.armSettle(SETTLE_RETRY_MS);
      })
      .finally(() => {
        this.settling = null;
      });
    return this.settling;
  }

  private async settleRecord(journal: BlobJournal, record: JournalRecord): Promise<void> {
    const ref = await this.putFile(journal.readRecord(record));
    if (ref.key !== record.key) throw new Error(`blob journal: record of ${record.key} reads back as ${ref.key}`);
    record.settled = true;
    if (this.journaled.get(record.key) === record) this.journaled.delete(record.key);
    // Deleted while its copy was being written: the copy goes too.
    if (record.deleted) await this.delete(record.key);
    journal.tryFree(record.segment);
  }

  /** Writes an object to its own file (not to the journal), durably. */
  private putFile(bytes: Buffer): Promise<BlobRef & { alreadyStored: boolean }> {
    return this.putWith(new FsBlobWriter(this, false), bytes);
  }

  /** @internal A reader streams from the segment: it is not reused meanwhile. */
  pin(seg: JournalSegment): () => void {
    seg.pins++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      seg.pins--;
      if (seg.pins === 0 && seg.unsettled === 0) this.journal?.tryFree(seg);
    };
  }

  /**
   * Where the object's own file is. An object still in the intake journal has none yet (read it with
   * openRead, or `settle({ now: true })` first).
   */
  localPath(key: string): string {
    if (!isBlobKey(key)) throw new BlobNotFoundError(key);
    return join(this.dir, key.slice(0, 2), key);
  }

  /**
   * Releases the folder descriptors kept for fsync and removes this process's temporary folder.
   * Objects still in the journal stay there (durable) for the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    await this.settling;
    this.journal?.close();
    for (const fd of this.dirFds.values()) closeSync(fd);
    this.dirFds.clear();
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private tempCounter = 0;
  private nextTempPath(): string {
    return join(this.tmpDir, `${++this.tempCounter}.tmp`);
  }

  /**
   * @internal A new, empty temporary file, open for writing. Created here, on the calling thread:
   * about 0.02 ms with the folder placed as markTopDirectories arranges; a pool of files created
   * ahead in the thread pool measured no faster per instance.
   */
  takeTempFile(): { path: string; fd: number } {
    const path = this.nextTempPath();
    try {
      return { path, fd: openSync(path, 'wx') };
    } catch (err) {
      // The folder was removed under us (a clean-up by hand, another host on a shared folder): make it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(this.tmpDir, { recursive: true });
      return { path, fd: openSync(path, 'wx') };
    }
  }

  createWriter(): BlobWriter {
    return new FsBlobWriter(this, true);
  }

  put(source: Buffer | Readable): Promise<BlobRef & { alreadyStored: boolean }> {
    return this.putWith(this.createWriter(), source);
  }

  private async putWith(writer: BlobWriter, source: Buffer | Readable): Promise<BlobRef & { alreadyStored: boolean }> {
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, writer);
      const { durable, ...ref } = await writer.commit();
      await durable;
      return ref;
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  openRead(key: string, range?: ReadRange): Readable {
    const record = this.journaled.get(key);
    if (record) {
      const unpin = this.pin(record.segment);
      const start = record.dataOffset + (range?.start ?? 0);
      const end = record.dataOffset + Math.min(range?.end ?? record.size - 1, record.size - 1);
      if (end < start) {
        unpin();
        return Readable.from([]);
      }
      const fromJournal = createReadStream(record.segment.path, { start, end, highWaterMark: 256 * 1024 });
      fromJournal.once('close', unpin);
      return fromJournal;
    }
    const stream = createReadStream(this.localPath(key), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 256 * 1024,
    });
    return stream;
  }

  async readHead(key: string, maxBytes: number): Promise<Buffer> {
    const record = this.journaled.get(key);
    if (record) return this.openJournal.readRecord(record, 0, maxBytes);
    let fh: FileHandle;
    try {
      fh = await open(this.localPath(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
      throw err;
    }
    try {
      const buf = Buffer.allocUnsafe(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async size(key: string): Promise<number | null> {
    const record = this.journaled.get(key);
    if (record) return record.size;
    try {
      return (await stat(this.localPath(key))).size;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    const record = this.journaled.get(key);
    if (record) {
      this.journaled.delete(key);
      this.openJournal.markDeleted(record);
      this.openJournal.tryFree(record.segment);
    }
    await unlink(this.localPath(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** @internal Makes a rename in the fan-out folder of `key` durable. */
  fsyncFolderOf(key: string): Promise<void> {
    const dir = join(this.dir, key.slice(0, 2));
    let fd = this.dirFds.get(dir);
    if (fd === undefined) {
      fd = openSync(dir, 'r');
      this.dirFds.set(dir, fd);
    }
    const dirFd = fd;
    return new Promise((resolve, reject) => fsync(dirFd, (err) => (err ? reject(err) : resolve())));
  }
}

/** Bytes gathered before they are handed to the kernel in one writev, while the object still streams in. */
const WRITE_THROUGH_BYTES = 128 * 1024;
/**
 * Objects up to this size are hashed at the end, on the main thread, while the thread pool runs the
 * fdatasync: the sender waits for each response, and the two then overlap instead of adding up (when
 * the scheduler runs the pool thread on another CPU; a guest that packs woken threads onto the waker's
 * vCPU runs them one after the other, which is why the hash must be cheap). The
 * chunks are views that stay referenced until then, so this also bounds the memory one writer holds;
 * larger objects are hashed as they stream.
 */
const HASH_AT_END_BYTES = 2 * 1024 * 1024;

/**
 * Writes chunks through as they arrive (gathered up to 128 KiB per writev), so a large object never
 * sits in memory: into a journal segment while the object is small enough for the journal, else (or
 * once it outgrows it) into a temporary file. The fdatasync starts when the stream finishes and
 * `commit()` hashes meanwhile; a journal record is then readable at once (`durable` is that
 * fdatasync), a file is renamed to its content address, waited for, and its folder's fsync is
 * `durable`.
 */
class FsBlobWriter extends Writable implements BlobWriter {
  /** Streaming hash, once the object outgrew HASH_AT_END_BYTES. */
  private hash: BlobHasher | null = null;
  /** The object's chunks while it is small enough to be hashed at the end. */
  private held: Buffer[] | null = [];
  /** The journal segment written into, while the object goes to the journal. */
  private lease: JournalLease | null = null;
  private triedJournal: boolean;
  private tmpPath = '';
  private fd: number | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  /** Bytes handed to the kernel so far (the position of the next write in a journal record). */
  private flushed = 0;
  /** Settles when the bytes are on disk (fdatasync started in `_final`). */
  private dataDurable: Promise<void> | null = null;
  private state: 'open' | 'finished' | 'committed' | 'aborted' = 'open';

  constructor(
    private readonly store: FsBlobStore,
    useJournal: boolean,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.triedJournal = !useJournal;
  }

  /** Where the bytes go: a journal record when the journal has room, else a temporary file. */
  private target(): { fd: number; position: number | undefined } {
    if (!this.triedJournal) {
      this.triedJournal = true;
      this.lease = this.store.leaseJournal();
    }
    if (this.lease) return { fd: this.lease.segment.fd, position: this.lease.dataOffset + this.flushed };
    if (this.fd === null) {
      const t = this.store.takeTempFile();
      this.fd = t.fd;
      this.tmpPath = t.path;
    }
    return { fd: this.fd, position: undefined };
  }

  get bytesWritten(): number {
    return this.written;
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    const { fd, position } = this.target();
    writeAllSync(fd, this.pending, position);
    this.flushed += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The object outgrew the journal: what it has so far goes to a temporary file, and the rest follows. */
  private leaveJournal(): void {
    this.store.openJournal.release(this.lease!);
    this.lease = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.flushed = 0;
    const { fd } = this.target();
    writeAllSync(fd, this.held!, undefined);
    this.flushed = this.written;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      if (this.held) {
        if (this.written + chunk.length <= HASH_AT_END_BYTES) {
          this.held.push(chunk);
        } else {
          if (this.lease) this.leaveJournal();
          this.hash = createBlobHasher(this.held);
          this.held = null;
        }
      }
      this.written += chunk.length;
      this.hash?.update(chunk);
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= WRITE_THROUGH_BYTES) this.flushPending();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** All bytes are with the kernel; the fdatasync runs in the thread pool while `commit()` hashes. */
  override _final(cb: (err?: Error | null) => void): void {
    let durable: () => Promise<void>;
    try {
      this.flushPending();
      const { fd } = this.target(); // an empty object is still an object
      if (this.lease) {
        const lease = this.lease;
        this.store.openJournal.sealRecord(lease, this.written);
        durable = () => this.store.openJournal.fdatasync(lease.segment);
      } else {
        durable = () =>
          this.store.fsync ? new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))) : Promise.resolve();
      }
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.dataDurable = durable();
    // Settled on every path, so an abort before commit leaves no unhandled rejection.
    this.dataDurable.catch(() => undefined);
    this.state = 'finished';
    cb();
  }

  private digest(): string {
    const hash = this.hash ?? createBlobHasher(this.held!);
    this.held = null;
    return hash.digest();
  }

  async commit(): Promise<BlobRef & { alreadyStored: boolean; durable: Promise<void> }> {
    if (this.state !== 'finished') throw new Error('blob writer: commit() before the stream finished');
    // Hashed while the thread pool runs the fdatasync started in _final.
    const key = this.digest();
    if (this.lease) {
      // In the journal, the record is the name: one fdatasync makes both durable. Readable at once
      // (the kernel has its bytes), so that the caller can index it while the fdatasync runs.
      const lease = this.lease;
      this.lease = null;
      this.state = 'committed';
      const { alreadyStored, record } = this.store.journalCommitted(lease, key, this.written);
      const durable = this.dataDurable!.catch((err: Error) => {
        this.store.journalWriteFailed(record);
        throw err;
      });
      durable.catch(() => undefined);
      return { key, size: this.written, alreadyStored, durable };
    }
    const finalPath = this.store.localPath(key);
    // Without throwing for the usual case (not stored yet): an exception captures a stack trace, which
    // showed in the per-instance profile.
    const alreadyStored = this.store.holds(key, this.written);
    // Named before its bytes are durable, so that the file's fdatasync and the folder's fsync run at
    // the same time; the caller acknowledges only once both are done. A process crash before that
    // loses nothing (the kernel has the bytes); a power loss can leave the name with incomplete bytes
    // that nothing references yet. That is also why an object already stored is replaced by this
    // complete copy rather than trusted: same bytes, and a torn earlier copy does not survive.
    renameSync(this.tmpPath, finalPath);
    let durable: Promise<void> = Promise.resolve();
    if (this.store.fsync) {
      durable = this.store.fsyncFolderOf(key);
      durable.catch(() => undefined);
    }
    try {
      await this.dataDurable;
    } catch (err) {
      if (!alreadyStored) rmSync(finalPath, { force: true });
      throw err;
    }
    closeSync(this.fd!);
    this.fd = null;
    this.state = 'committed';
    return { key, size: this.written, alreadyStored, durable };
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.pending = [];
    this.held = null;
    if (!this.destroyed) this.destroy();
    if (this.dataDurable) await this.dataDurable.catch(() => undefined);
    // Before commit only: after it, the record is the store's (deleted through the store).
    if (this.lease) {
      this.store.openJournal.release(this.lease);
      this.lease = null;
    }
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = null;
    }
    if (this.tmpPath) await unlink(this.tmpPath).catch(() => undefined);
  }
}

/** Writes all of `bufs` at `position` (undefined: at the file's offset, which then advances). */
function writeAllSync(fd: number, bufs: Buffer[], position: number | undefined): void {
  let pending = bufs;
  while (pending.length > 0) {
    // writev may write partially (or fewer buffers than IOV_MAX allows): continue with the rest.
    const bytesWritten = position === undefined ? writevSync(fd, pending) : writevSync(fd, pending, position);
    if (position !== undefined) position += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    pending = rest;
  }
}
