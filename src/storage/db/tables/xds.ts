// Tables of the XDS.b registry and repository (owned by src/roles/clearinghouse/xds).
import type { Migration } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface XdsTables {}

/** Migration names start with 0200_ so they sort after the image store's. */
export const xdsMigrations: Record<string, Migration> = {};
