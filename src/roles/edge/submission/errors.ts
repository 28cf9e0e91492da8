// Typed errors of the release/submission feature. `httpStatus` is what the staff API answers.

export type ReleaseErrorCode =
  | 'STUDY_NOT_FOUND'
  | 'NO_BIRTH_DATE'
  | 'INVALID_BIRTH_DATE'
  | 'BIRTH_DATE_CONFLICT'
  | 'NO_PATIENT_ID'
  | 'STUDY_HAS_NO_INSTANCES'
  | 'SUBMISSION_FAILED'
  | 'SHUTTING_DOWN';

export class ReleaseError extends Error {
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'ReleaseError';
  }
}

/** A step of the submission failed; `permanent` errors are not retried (the data must change first). */
export class SubmissionStepError extends Error {
  constructor(
    readonly step: 'stow' | 'manifest' | 'register',
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SubmissionStepError';
  }
}
