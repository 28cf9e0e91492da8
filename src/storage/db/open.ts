// Opens the metadata database behind one query layer (kysely): SQLite for the embedded default,
// PostgreSQL for scale-out. Migrations run at open.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationProvider } from 'kysely';
import type { Database } from './schema.ts';
import { migrations } from './migrations.ts';
import { clearinghouseImageMigrations } from './tables/clearinghouse-images.ts';
import { xdsMigrations } from './tables/xds.ts';
import { edgeSubmissionMigrations } from './tables/edge-submission.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface MetadataDb {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * The SQLite handle under `db` (SQLite only), for the few hot paths that run prepared statements
   * directly. Use it only while holding kysely's connection (`db.connection().execute(...)`), so it
   * never interleaves with a kysely transaction.
   */
  sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  readonly code = 'DATABASE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

export interface OpenDatabaseOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://...`; default sqlite in the data folder. */
  url?: string | undefined;
  dataDir: string;
  sqliteSynchronous?: 'FULL' | 'NORMAL';
}

const staticMigrations: MigrationProvider = {
  getMigrations: async () => ({ ...migrations, ...clearinghouseImageMigrations, ...xdsMigrations, ...edgeSubmissionMigrations }),
};

export async function openDatabase(opts: OpenDatabaseOptions): Promise<MetadataDb> {
  const url = opts.url ?? `sqlite:${join(opts.dataDir, 'imageshare.db')}`;
  let result: MetadataDb;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // count(*) and bigint come back as strings from pg by default; our sizes fit in a double.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    result = { db, dialect: 'postgres', close: () => db.destroy() };
  } else if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'NORMAL'}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    result = { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
  } else {
    throw new DatabaseError(`IMAGESHARE_DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0]}:...")`);
  }
  const migrator = new Migrator({ db: result.db, provider: staticMigrations });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await result.close();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new DatabaseError(`database migration ${failed ?? ''} failed: ${(error as Error).message}`, { cause: error });
  }
  return result;
}

/**
 * kysely prepares every query anew; on the ingest path (a few statements per instance) preparing cost
 * as much as running. Statements are reusable in better-sqlite3, so keep them by SQL text.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): { close(): void; prepare(sql: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        if (cache.size >= 1000) cache.clear();
        statement = sqlite.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
