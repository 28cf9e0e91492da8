// The blob store interface: content-addressed, immutable objects. The filesystem store implements it
// now; an S3 store will implement the same interface for scale-out.
import type { Readable, Writable } from 'node:stream';
import { Blake3Hasher } from '@napi-rs/blake-hash';

export interface BlobRef {
  /** Content address: lowercase hex BLAKE3 (256 bits) of the bytes, see `createBlobHasher`. */
  key: string;
  size: number;
}

/** A writable that receives an object's bytes; `commit()` after the stream finished makes it durable. */
export interface BlobWriter extends Writable {
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
  /**
   * Makes the object visible under its content address (stored once if it already exists): when it
   * resolves, the object can be read and survives a crash of the process. `durable` resolves once it
   * also survives a power loss (its bytes and its name), so a caller can overlap that last flush with
   * its own work (indexing it, say); it acknowledges the object only after `durable`. When `durable`
   * rejects, the object may be gone after a power loss: answer a failure.
   */
  commit(): Promise<BlobRef & { alreadyStored: boolean; durable: Promise<void> }>;
  /** Drops the partial object. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface ReadRange {
  start: number;
  /** Inclusive end offset. */
  end?: number;
}

export interface BlobStore {
  createWriter(): BlobWriter;
  /** Stores a whole buffer or stream (convenience over createWriter). */
  put(source: Buffer | Readable): Promise<BlobRef & { alreadyStored: boolean }>;
  openRead(key: string, range?: ReadRange): Readable;
  readHead(key: string, maxBytes: number): Promise<Buffer>;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
}

export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_NOT_FOUND';
  constructor(readonly key: string) {
    super(`blob ${key} not found`);
    this.name = 'BlobNotFoundError';
  }
}

/** Incremental content address of an object's bytes. */
export interface BlobHasher {
  update(chunk: Uint8Array): void;
  /** The key (lowercase hex); the hasher is spent afterwards. */
  digest(): string;
}

/**
 * A hasher that has already taken `initial` (chunks in order). Content addresses are BLAKE3-256, a
 * cryptographic hash (collision resistance is what makes storing identical bytes once safe). Chosen over SHA-256 by measurement: the key of each received instance is
 * computed before it is acknowledged, and a 525 KB CT slice hashes in 0.09-0.11 ms here against
 * 0.31 ms for SHA-256 (OpenSSL with the SHA extensions), on the path every C-STORE waits for.
 * Keys written by earlier versions (SHA-256, same form) stay valid references.
 */
export function createBlobHasher(initial: readonly Uint8Array[] = []): BlobHasher {
  const hasher = new Blake3Hasher();
  const blobHasher: BlobHasher = {
    update(chunk) {
      // The binding's typings take a Buffer; a view of the same memory, no copy.
      hasher.update(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    },
    digest: () => hasher.digest('hex'),
  };
  for (const chunk of initial) blobHasher.update(chunk);
  return blobHasher;
}

/** The content address of bytes held in memory (one buffer or its chunks in order). */
export function blobKeyOf(bytes: Uint8Array | readonly Uint8Array[]): string {
  return createBlobHasher(bytes instanceof Uint8Array ? [bytes] : bytes).digest();
}

export function isBlobKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}
