// Transfer Syntax UIDs (PS3.5 Section 10 and Annex A; PS3.6 Table A-1) with the facts a parser, a
// transcoder and a negotiator need.

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** The dataset uses explicit VR (every transfer syntax but Implicit VR Little Endian and Papyrus 3). */
  readonly explicitVr: boolean;
  readonly byteOrder: 'little' | 'big';
  /** Pixel Data is encapsulated (fragments in an undefined-length item sequence). */
  readonly encapsulated: boolean;
  /** The whole dataset after the File Meta group is raw-deflated (RFC 1951). */
  readonly deflated: boolean;
  /** The compression may lose information (true also for the "lossy allowed" ones such as .91 and .203). */
  readonly lossy: boolean;
  /** Pixel data is not in the dataset but referenced (JPIP). */
  readonly pixelDataReferenced: boolean;
  readonly retired: boolean;
  readonly family: TransferSyntaxFamily;
}

export type TransferSyntaxFamily =
  | 'native' | 'deflate' | 'jpeg' | 'jpeg-ls' | 'jpeg-2000' | 'htj2k' | 'jpip' | 'rle' | 'mpeg2' | 'h264' | 'hevc'
  | 'jpeg-xl' | 'smpte-st-2110' | 'deflated-frame' | 'other';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.98';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

type Flags = Partial<Omit<TransferSyntax, 'uid' | 'name' | 'family'>>;

function ts(uid: string, name: string, family: TransferSyntaxFamily, flags: Flags = {}): TransferSyntax {
  return {
    uid,
    name,
    family,
    explicitVr: flags.explicitVr ?? true,
    byteOrder: flags.byteOrder ?? 'little',
    encapsulated: flags.encapsulated ?? false,
    deflated: flags.deflated ?? false,
    lossy: flags.lossy ?? false,
    pixelDataReferenced: flags.pixelDataReferenced ?? false,
    retired: flags.retired ?? false,
  };
}

const ENC = { encapsulated: true } as const;
const ENC_LOSSY = { encapsulated: true, lossy: true } as const;
const ENC_LOSSY_RETIRED = { encapsulated: true, lossy: true, retired: true } as const;
const ENC_RETIRED = { encapsulated: true, retired: true } as const;
const JPEG = '1.2.840.10008.1.2.4';

const ALL: readonly TransferSyntax[] = [
  ts(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', 'native', { explicitVr: false }),
  ts(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', 'native'),
  ts(ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN, 'Encapsulated Uncompressed Explicit VR Little Endian', 'native', ENC),
  ts(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', 'deflate', { deflated: true }),
  ts(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', 'native', { byteOrder: 'big', retired: true }),
  ts(`${JPEG}.50`, 'JPEG Baseline (Process 1)', 'jpeg', ENC_LOSSY),
  ts(`${JPEG}.51`, 'JPEG Extended (Process 2 and 4)', 'jpeg', ENC_LOSSY),
  ts(`${JPEG}.52`, 'JPEG Extended (Process 3 and 5)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.53`, 'JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.54`, 'JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.55`, 'JPEG Full Progression, Non-Hierarchical (Process 10 and 12)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.56`, 'JPEG Full Progression, Non-Hierarchical (Process 11 and 13)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.57`, 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg', ENC),
  ts(`${JPEG}.58`, 'JPEG Lossless, Non-Hierarchical (Process 15)', 'jpeg', ENC_RETIRED),
  ts(`${JPEG}.59`, 'JPEG Extended, Hierarchical (Process 16 and 18)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.60`, 'JPEG Extended, Hierarchical (Process 17 and 19)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.61`, 'JPEG Spectral Selection, Hierarchical (Process 20 and 22)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.62`, 'JPEG Spectral Selection, Hierarchical (Process 21 and 23)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.63`, 'JPEG Full Progression, Hierarchical (Process 24 and 26)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.64`, 'JPEG Full Progression, Hierarchical (Process 25 and 27)', 'jpeg', ENC_LOSSY_RETIRED),
  ts(`${JPEG}.65`, 'JPEG Lossless, Hierarchical (Process 28)', 'jpeg', ENC_RETIRED),
  ts(`${JPEG}.66`, 'JPEG Lossless, Hierarchical (Process 29)', 'jpeg', ENC_RETIRED),
  ts(`${JPEG}.70`, 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', 'jpeg', ENC),
  ts(`${JPEG}.80`, 'JPEG-LS Lossless Image Compression', 'jpeg-ls', ENC),
  ts(`${JPEG}.81`, 'JPEG-LS Lossy (Near-Lossless) Image Compression', 'jpeg-ls', ENC_LOSSY),
  ts(`${JPEG}.90`, 'JPEG 2000 Image Compression (Lossless Only)', 'jpeg-2000', ENC),
  ts(`${JPEG}.91`, 'JPEG 2000 Image Compression', 'jpeg-2000', ENC_LOSSY),
  ts(`${JPEG}.92`, 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', 'jpeg-2000', ENC),
  ts(`${JPEG}.93`, 'JPEG 2000 Part 2 Multi-component Image Compression', 'jpeg-2000', ENC_LOSSY),
  ts(`${JPEG}.94`, 'JPIP Referenced', 'jpip', { pixelDataReferenced: true }),
  ts(`${JPEG}.95`, 'JPIP Referenced Deflate', 'jpip', { pixelDataReferenced: true, deflated: true }),
  ts(`${JPEG}.100`, 'MPEG2 Main Profile / Main Level', 'mpeg2', ENC_LOSSY),
  ts(`${JPEG}.100.1`, 'Fragmentable MPEG2 Main Profile / Main Level', 'mpeg2', ENC_LOSSY),
  ts(`${JPEG}.101`, 'MPEG2 Main Profile / High Level', 'mpeg2', ENC_LOSSY),
  ts(`${JPEG}.101.1`, 'Fragmentable MPEG2 Main Profile / High Level', 'mpeg2', ENC_LOSSY),
  ts(`${JPEG}.102`, 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'h264', ENC_LOSSY),
  ts(`${JPEG}.102.1`, 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1', 'h264', ENC_LOSSY),
  ts(`${JPEG}.103`, 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'h264', ENC_LOSSY),
  ts(`${JPEG}.103.1`, 'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'h264', ENC_LOSSY),
  ts(`${JPEG}.104`, 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'h264', ENC_LOSSY),
  ts(`${JPEG}.104.1`, 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'h264', ENC_LOSSY),
  ts(`${JPEG}.105`, 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'h264', ENC_LOSSY),
  ts(`${JPEG}.105.1`, 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'h264', ENC_LOSSY),
  ts(`${JPEG}.106`, 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'h264', ENC_LOSSY),
  ts(`${JPEG}.106.1`, 'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'h264', ENC_LOSSY),
  ts(`${JPEG}.107`, 'HEVC/H.265 Main Profile / Level 5.1', 'hevc', ENC_LOSSY),
  ts(`${JPEG}.108`, 'HEVC/H.265 Main 10 Profile / Level 5.1', 'hevc', ENC_LOSSY),
  ts(`${JPEG}.110`, 'JPEG XL Lossless', 'jpeg-xl', ENC),
  // Bit-exact recompression of a JPEG bit stream, which was itself lossy.
  ts(`${JPEG}.111`, 'JPEG XL JPEG Recompression', 'jpeg-xl', ENC_LOSSY),
  ts(`${JPEG}.112`, 'JPEG XL', 'jpeg-xl', ENC_LOSSY),
  ts(`${JPEG}.201`, 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'htj2k', ENC),
  ts(`${JPEG}.202`, 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', 'htj2k', ENC),
  ts(`${JPEG}.203`, 'High-Throughput JPEG 2000 Image Compression', 'htj2k', ENC_LOSSY),
  ts(`${JPEG}.204`, 'JPIP HTJ2K Referenced', 'jpip', { pixelDataReferenced: true }),
  ts(`${JPEG}.205`, 'JPIP HTJ2K Referenced Deflate', 'jpip', { pixelDataReferenced: true, deflated: true }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle', ENC),
  ts('1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation', 'other', { retired: true }),
  ts('1.2.840.10008.1.2.6.2', 'XML Encoding', 'other', { retired: true }),
  // DICOM-RTV (PS3.22): not used for stored instances, listed so that they are recognised.
  ts('1.2.840.10008.1.2.7.1', 'SMPTE ST 2110-20 Uncompressed Progressive Active Video', 'smpte-st-2110'),
  ts('1.2.840.10008.1.2.7.2', 'SMPTE ST 2110-20 Uncompressed Interlaced Active Video', 'smpte-st-2110'),
  ts('1.2.840.10008.1.2.7.3', 'SMPTE ST 2110-30 PCM Digital Audio', 'smpte-st-2110'),
  ts('1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression', 'deflated-frame', ENC),
  ts('1.2.840.10008.1.20', 'Papyrus 3 Implicit VR Little Endian', 'native', { explicitVr: false, retired: true }),
];

const BY_UID: ReadonlyMap<string, TransferSyntax> = new Map(ALL.map((t) => [t.uid, t]));

export const TRANSFER_SYNTAXES: readonly TransferSyntax[] = ALL;

export function getTransferSyntax(uid: string): TransferSyntax | undefined {
  return BY_UID.get(uid);
}

export function isKnownTransferSyntax(uid: string): boolean {
  return BY_UID.has(uid);
}

/** How to read the dataset bytes of a transfer syntax. */
export interface DatasetEncoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  readonly deflated: boolean;
  /** False when the UID is not in the table and Explicit VR Little Endian was assumed. */
  readonly known: boolean;
}

/**
 * The dataset encoding for a transfer syntax UID. Unknown UIDs are assumed to be Explicit VR Little
 * Endian, the encoding every non-default transfer syntax defined since 1993 uses (PS3.5 A.4).
 */
export function datasetEncodingOf(uid: string): DatasetEncoding {
  const t = BY_UID.get(uid);
  if (t === undefined) return { explicitVr: true, littleEndian: true, deflated: false, known: false };
  return { explicitVr: t.explicitVr, littleEndian: t.byteOrder === 'little', deflated: t.deflated, known: true };
}
