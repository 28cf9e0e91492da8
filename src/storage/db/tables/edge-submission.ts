// Tables of the edge's release and submission jobs (owned by src/roles/edge/submission).
import type { Migration } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EdgeSubmissionTables {}

/** Migration names start with 0300_. */
export const edgeSubmissionMigrations: Record<string, Migration> = {};
