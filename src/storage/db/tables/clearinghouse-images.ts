// Tables of the clearinghouse image store (owned by src/roles/clearinghouse/images).
import type { Migration } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClearinghouseImageTables {}

/** Migration names start with 0100_ so they sort after the core ones. */
export const clearinghouseImageMigrations: Record<string, Migration> = {};
