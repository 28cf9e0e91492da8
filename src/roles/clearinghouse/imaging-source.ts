// What the XDS-I.b Imaging Document Source (RAD-69) and WADO need from the image store: an instance
// as a Part 10 stream in one of the transfer syntaxes the requester accepts.
import type { Readable } from 'node:stream';

export interface RetrievableInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  /** Transfer syntax of the bytes `open()` streams. */
  transferSyntaxUid: string;
  /** Size of the Part 10 stream when known without reading (no transcoding). */
  sizeBytes: number | null;
  /** Part 10: preamble, DICM, File Meta group, then the dataset. */
  open(): Readable;
}

export type InstanceLookup =
  | { kind: 'found'; instance: RetrievableInstance }
  | { kind: 'not-found' }
  /** Stored in a syntax none of the accepted ones can be made from here. */
  | { kind: 'transfer-syntax-unavailable'; storedTransferSyntaxUid: string };

export interface ImagingInstanceSource {
  /**
   * Finds an instance (study and series UIDs are checked when given) and prepares it in the first
   * transfer syntax of `acceptedTransferSyntaxes` that can be served: the stored one as is, or a
   * conversion. An empty list means "the stored syntax".
   */
  findInstance(ref: { studyInstanceUid?: string; seriesInstanceUid?: string; sopInstanceUid: string }, acceptedTransferSyntaxes: readonly string[]): Promise<InstanceLookup>;
}
