// The image store as an ImagingInstanceSource (what RAD-69 and WADO-URI retrieve from): an instance as a
// Part 10 stream, our File Meta group followed by the stored dataset bytes, or by a conversion of them
// when the requester does not accept the stored transfer syntax.
import { PassThrough, type Readable } from 'node:stream';
import type { BlobStore } from '../../../storage/blob/blob-store.ts';
import { buildFileMetaInformation } from '../../../lib/dicom/part10.ts';
import { canTranscode, transcodeDataset, TranscodeError } from '../../../lib/dicom/transcode.ts';
import { canDecode, decodeToExplicitLittleEndian } from '../../../lib/dicom/transcode-codecs.ts';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../../lib/dicom/transfer-syntax.ts';
import type { ImagingInstanceSource, InstanceLookup } from '../imaging-source.ts';
import type { ImageIndex, StoredInstanceRow } from './image-index.ts';

export interface InstanceSourceOptions {
  index: ImageIndex;
  blobs: BlobStore;
  implementationClassUid: string;
  implementationVersionName: string;
  /** Our AE title, written as Source Application Entity Title (0002,0016). */
  sourceAet?: string;
}

export function createInstanceSource(opts: InstanceSourceOptions): ImagingInstanceSource {
  const metaFor = (row: StoredInstanceRow, transferSyntaxUid: string) =>
    buildFileMetaInformation({
      mediaStorageSopClassUid: row.sop_class_uid,
      mediaStorageSopInstanceUid: row.sop_instance_uid,
      transferSyntaxUid,
      implementationClassUid: opts.implementationClassUid,
      implementationVersionName: opts.implementationVersionName,
      ...(opts.sourceAet ? { sourceApplicationEntityTitle: opts.sourceAet } : {}),
    });

  return {
    async findInstance(ref, acceptedTransferSyntaxes): Promise<InstanceLookup> {
      const row = await opts.index.findInstance(ref.sopInstanceUid);
      if (row === undefined) return { kind: 'not-found' };
      if (ref.studyInstanceUid !== undefined && ref.studyInstanceUid !== row.study_uid) return { kind: 'not-found' };
      if (ref.seriesInstanceUid !== undefined && ref.seriesInstanceUid !== row.series_uid) return { kind: 'not-found' };
      const stored = row.transfer_syntax_uid;

      if (acceptedTransferSyntaxes.length === 0 || acceptedTransferSyntaxes.includes(stored)) {
        const meta = metaFor(row, stored);
        return {
          kind: 'found',
          instance: {
            sopInstanceUid: row.sop_instance_uid,
            sopClassUid: row.sop_class_uid,
            transferSyntaxUid: stored,
            sizeBytes: meta.length + Number(row.size_bytes),
            open: () => concatStreams(meta, () => opts.blobs.openRead(row.blob_key)),
          },
        };
      }

      // Compressed pixel data is decoded to Explicit VR Little Endian first, then re-encoded if needed.
      const decodable = canDecode(stored);
      const target = acceptedTransferSyntaxes.find((ts) => canTranscode(decodable ? EXPLICIT_VR_LITTLE_ENDIAN : stored, ts));
      if (target === undefined) return { kind: 'transfer-syntax-unavailable', storedTransferSyntaxUid: stored };
      // Conversion needs the whole dataset; done here so that a failure is an answer, not a broken stream.
      const dataset = await readAll(opts.blobs.openRead(row.blob_key));
      let converted: Buffer;
      try {
        if (decodable) {
          converted = transcodeDataset(await decodeToExplicitLittleEndian(dataset, stored), EXPLICIT_VR_LITTLE_ENDIAN, target);
        } else {
          converted = transcodeDataset(dataset, stored, target);
        }
      } catch (err) {
        if (err instanceof TranscodeError) return { kind: 'transfer-syntax-unavailable', storedTransferSyntaxUid: stored };
        throw err;
      }
      const file = Buffer.concat([metaFor(row, target), converted]);
      return {
        kind: 'found',
        instance: {
          sopInstanceUid: row.sop_instance_uid,
          sopClassUid: row.sop_class_uid,
          transferSyntaxUid: target,
          sizeBytes: null,
          open: () => {
            const out = new PassThrough();
            out.end(file);
            return out;
          },
        },
      };
    },
  };
}

/** The meta bytes, then the blob's stream (opened only when the consumer starts reading). */
function concatStreams(head: Buffer, openTail: () => Readable): Readable {
  const out = new PassThrough();
  out.write(head);
  const tail = openTail();
  tail.on('error', (err) => out.destroy(err));
  tail.pipe(out);
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
