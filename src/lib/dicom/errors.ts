// Typed errors of the DICOM data library. Callers branch on `code`, never on message text.

export type DicomParseErrorCode =
  /** The bytes are not DICOM at all (no recognisable element structure). */
  | 'not-dicom'
  /** The buffer ends inside a structure that must be complete (e.g. the File Meta group). */
  | 'truncated'
  /** DICOM-looking bytes whose structure is broken (bad VR, impossible length, corrupt sequence). */
  | 'malformed'
  /** Valid DICOM that this library cannot read (e.g. a VR the underlying parser mis-handles). */
  | 'unsupported';

export class DicomParseError extends Error {
  override readonly name = 'DicomParseError';
  readonly code: DicomParseErrorCode;
  /** Byte offset (in the buffer that was parsed) where the problem was found, when known. */
  readonly offset: number | undefined;
  /** For 'truncated': how many bytes from the start of the buffer are needed at least, when known. */
  readonly bytesNeeded: number | undefined;

  constructor(code: DicomParseErrorCode, message: string, details: { offset?: number; bytesNeeded?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.offset = details.offset;
    this.bytesNeeded = details.bytesNeeded;
  }
}

/** A value given to an encoder (UID, AE title, ...) does not satisfy its VR's rules. */
export class DicomValueError extends Error {
  override readonly name = 'DicomValueError';
  /** Which argument or attribute was wrong, e.g. 'mediaStorageSopInstanceUid'. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
