// Decoding of compressed (encapsulated) pixel data to Explicit VR Little Endian with dcmjs-codecs (one
// WebAssembly module: RLE, JPEG baseline and lossless SV1, JPEG-LS, JPEG 2000, HTJ2K). Unlike
// transcode.ts this rewrites the whole dataset through dcmjs, so element encodings may be normalised
// (e.g. lengths, padding); the values a viewer needs are kept. Whole instance in memory.
import { createRequire } from 'node:module';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.ts';
import { TranscodeError } from './transcode.ts';

/** Encapsulated syntaxes dcmjs-codecs 0.0.8 decodes. */
export const DECODABLE_TRANSFER_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.50', // JPEG Baseline
  '1.2.840.10008.1.2.4.70', // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.201', // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
];

// The part of dcmjs-codecs used here.
interface CodecsTranscoder {
  transcode(newTransferSyntaxUid: string): void;
  getDicomDataset(writeOptions?: Record<string, unknown>): ArrayBuffer;
}
interface CodecsLibrary {
  NativeCodecs: { initializeAsync(): Promise<void> };
  Transcoder: new (buffer: ArrayBuffer, transferSyntaxUid: string, readOptions?: Record<string, unknown>) => CodecsTranscoder;
  log: { setLevel(level: string): void };
}

let library: Promise<CodecsLibrary> | null = null;

function loadCodecs(): Promise<CodecsLibrary> {
  library ??= (async () => {
    const codecs = createRequire(import.meta.url)('dcmjs-codecs') as CodecsLibrary;
    codecs.log.setLevel('silent');
    await codecs.NativeCodecs.initializeAsync();
    return codecs;
  })();
  return library;
}

export function canDecode(transferSyntaxUid: string): boolean {
  return DECODABLE_TRANSFER_SYNTAXES.includes(transferSyntaxUid);
}

/** Decodes a dataset with encapsulated pixel data into Explicit VR Little Endian. Throws TranscodeError. */
export async function decodeToExplicitLittleEndian(dataset: Uint8Array, transferSyntaxUid: string): Promise<Buffer> {
  if (!canDecode(transferSyntaxUid)) throw new TranscodeError('unsupported-conversion', `no decoder for ${transferSyntaxUid}`);
  const codecs = await loadCodecs();
  try {
    const copy = dataset.buffer.slice(dataset.byteOffset, dataset.byteOffset + dataset.byteLength) as ArrayBuffer;
    const transcoder = new codecs.Transcoder(copy, transferSyntaxUid, { ignoreErrors: true });
    transcoder.transcode(EXPLICIT_VR_LITTLE_ENDIAN);
    return Buffer.from(transcoder.getDicomDataset({ allowInvalidVRLength: true }));
  } catch (err) {
    throw new TranscodeError('unreadable-dataset', `cannot decode ${transferSyntaxUid}: ${(err as Error).message}`, { cause: err });
  }
}
