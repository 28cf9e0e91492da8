// Filesystem blob store: each object is written to a temporary file, renamed to its content address
// (BLAKE3, see createBlobHasher) once all its bytes are written, and fsync'ed with its folder before
// commit resolves, so a crash never leaves a half-written object under a real key and identical
// bytes are stored once.
//
// Speed (measured on the C-STORE benchmark): the sender waits for each instance's response, so the
// latency per object counts. Small metadata calls (open, stat, rename, close) and page-cache writes are
// made synchronously: a thread-pool round trip costs more than the call itself. Only fsync, which
// waits for the disk, goes to the thread pool, and the work left once the last byte is in runs beside
// it: the file's fdatasync, the hash (on this thread) and the folder's fsync all overlap. Chunks are
// written through as they arrive, gathered up to 128 KiB per writev, and the 256 fan-out folders are
// created once, with their descriptors kept for fsync.
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
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  createBlobHasher,
  isBlobKey,
  type BlobHasher,
  type BlobRef,
  type BlobStore,
  type BlobWriter,
  type ReadRange,
} from './blob-store.ts';

export interface FsBlobStoreOptions {
  dir: string;
  /** fsync file and folder before commit resolves (default true). */
  fsync?: boolean;
}

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
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FsBlobStore implements BlobStore {
  readonly dir: string;
  /** This process's folder for temporary files. */
  readonly tmpDir: string;
  readonly fsync: boolean;
  private readonly dirFds = new Map<string, number>();

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
  }

  localPath(key: string): string {
    if (!isBlobKey(key)) throw new BlobNotFoundError(key);
    return join(this.dir, key.slice(0, 2), key);
  }

  /** Releases the folder descriptors kept for fsync and removes this process's temporary folder. */
  async close(): Promise<void> {
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
    return new FsBlobWriter(this);
  }

  async put(source: Buffer | Readable): Promise<BlobRef & { alreadyStored: boolean }> {
    const writer = this.createWriter();
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, writer);
      const { nameDurable, ...ref } = await writer.commit();
      await nameDurable;
      return ref;
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  openRead(key: string, range?: ReadRange): Readable {
    const stream = createReadStream(this.localPath(key), {
      start: range?.start,
      end: range?.end,
      highWaterMark: 256 * 1024,
    });
    return stream;
  }

  async readHead(key: string, maxBytes: number): Promise<Buffer> {
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
    try {
      return (await stat(this.localPath(key))).size;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
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
 * Writes chunks through to a temporary file as they arrive (gathered up to 128 KiB per writev), so a
 * large object never sits in memory; `commit()` hashes, renames to the content address, starts the
 * folder's fsync and waits for the file's fdatasync started when the stream finished.
 */
class FsBlobWriter extends Writable implements BlobWriter {
  /** Streaming hash, once the object outgrew HASH_AT_END_BYTES. */
  private hash: BlobHasher | null = null;
  /** The object's chunks while it is small enough to be hashed at the end. */
  private held: Buffer[] | null = [];
  private tmpPath = '';
  private fd: number | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  /** Settles when the bytes are on disk (fdatasync started in `_final`). */
  private dataDurable: Promise<void> | null = null;
  private state: 'open' | 'finished' | 'committed' | 'aborted' = 'open';

  constructor(private readonly store: FsBlobStore) {
    super({ highWaterMark: 1024 * 1024 });
  }

  private ensureFile(): number {
    if (this.fd === null) {
      const t = this.store.takeTempFile();
      this.fd = t.fd;
      this.tmpPath = t.path;
    }
    return this.fd;
  }

  get bytesWritten(): number {
    return this.written;
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    writeAllSync(this.ensureFile(), this.pending);
    this.pending = [];
    this.pendingBytes = 0;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      this.written += chunk.length;
      if (this.held) {
        if (this.written <= HASH_AT_END_BYTES) {
          this.held.push(chunk);
        } else {
          this.hash = createBlobHasher(this.held);
          this.held = null;
        }
      }
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
    let fd: number;
    try {
      this.flushPending();
      fd = this.ensureFile(); // an empty object is still an object
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.dataDurable = this.store.fsync
      ? new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))
      : Promise.resolve();
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

  async commit(): Promise<BlobRef & { alreadyStored: boolean; nameDurable: Promise<void> }> {
    if (this.state !== 'finished') throw new Error('blob writer: commit() before the stream finished');
    const key = this.digest();
    const finalPath = this.store.localPath(key);
    // Without throwing for the usual case (not stored yet): an exception captures a stack trace, which
    // showed in the per-instance profile.
    const alreadyStored = statSync(finalPath, { throwIfNoEntry: false })?.size === this.written;
    // Named before its bytes are durable, so that the file's fdatasync and the folder's fsync run at
    // the same time; the caller acknowledges only once both are done. A process crash before that
    // loses nothing (the kernel has the bytes); a power loss can leave the name with incomplete bytes
    // that nothing references yet. That is also why an object already stored is replaced by this
    // complete copy rather than trusted: same bytes, and a torn earlier copy does not survive.
    renameSync(this.tmpPath, finalPath);
    let nameDurable: Promise<void> = Promise.resolve();
    if (this.store.fsync) {
      nameDurable = this.store.fsyncFolderOf(key);
      nameDurable.catch(() => undefined);
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
    return { key, size: this.written, alreadyStored, nameDurable };
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.pending = [];
    this.held = null;
    if (!this.destroyed) this.destroy();
    if (this.dataDurable) await this.dataDurable.catch(() => undefined);
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

function writeAllSync(fd: number, bufs: Buffer[]): void {
  let pending = bufs;
  while (pending.length > 0) {
    // writev may write partially (or fewer buffers than IOV_MAX allows): continue with the rest.
    const bytesWritten = writevSync(fd, pending);
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
