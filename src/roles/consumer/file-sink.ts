// An attachment sink that streams each received document into a file of a folder (never whole in
// memory), hashing it on the way; the caller renames the file once it knows what the document is.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentSink } from '../../lib/soap/index.ts';

export interface ReceivedFile {
  readonly path: string;
  readonly size: number;
  readonly sha1: string;
  readonly contentType: string;
}

export function fileAttachmentSink(dir: string, maxBytes = 4 * 1024 * 1024 * 1024): AttachmentSink<ReceivedFile> {
  return async (attachment) => {
    const path = join(dir, `.part-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha1');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new Error(`document larger than ${maxBytes} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(attachment.stream, meter, createWriteStream(path, { mode: 0o600 }));
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { path, size, sha1: hash.digest('hex'), contentType: attachment.contentType };
  };
}
