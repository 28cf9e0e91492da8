// The blob store interface: content-addressed, immutable objects. The filesystem store implements it
// now; an S3 store will implement the same interface for scale-out.
import type { Readable, Writable } from 'node:stream';

export interface BlobRef {
  /** Content address: lowercase hex SHA-256 of the bytes. */
  key: string;
  size: number;
}

/** A writable that receives an object's bytes; `commit()` after the stream finished makes it durable. */
export interface BlobWriter extends Writable {
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
  /**
   * Makes the object visible under its content address (stored once if it already exists). The bytes
   * are durable when it resolves; `nameDurable` resolves when the name (the folder entry) is too, so a
   * caller can overlap that last fsync with its own work before it acknowledges.
   */
  commit(): Promise<BlobRef & { alreadyStored: boolean; nameDurable: Promise<void> }>;
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
  /** Local file path when the store is on this filesystem (lets servers use sendfile-like paths). */
  localPath?(key: string): string;
}

export class BlobNotFoundError extends Error {
  readonly code = 'BLOB_NOT_FOUND';
  constructor(readonly key: string) {
    super(`blob ${key} not found`);
    this.name = 'BlobNotFoundError';
  }
}

export function isBlobKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}
