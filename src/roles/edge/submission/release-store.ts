// Database access of the release jobs: releases, their append-only status history, the instances the
// clearinghouse confirmed, and the access code each site patient was given.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../storage/db/schema.ts';
import type { EdgeReleaseTable } from '../../../storage/db/tables/edge-submission.ts';

export type ReleaseStatus = 'queued' | 'sending-images' | 'images-sent' | 'manifest-registered' | 'failed' | 'given-up';
export type Release = Selectable<EdgeReleaseTable>;

export interface StatusRow {
  status: ReleaseStatus;
  seq: number;
  attempts: number;
  error: string | null;
  detail: string | null;
  at: string;
}

/** States after which the job does nothing more. */
export function isFinal(status: ReleaseStatus): boolean {
  return status === 'manifest-registered' || status === 'given-up';
}

export class ReleaseStore {
  constructor(private readonly db: Kysely<Database>) {}

  async findByStudy(studyUid: string): Promise<Release | undefined> {
    return this.db.selectFrom('edge_release').selectAll().where('study_uid', '=', studyUid).executeTakeFirst();
  }

  async get(releaseId: string): Promise<Release | undefined> {
    return this.db.selectFrom('edge_release').selectAll().where('release_id', '=', releaseId).executeTakeFirst();
  }

  /** Inserts the release with its first status row; returns the existing one when the study was released already. */
  async create(release: Release): Promise<{ release: Release; created: boolean }> {
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx.selectFrom('edge_release').selectAll().where('study_uid', '=', release.study_uid).executeTakeFirst();
      if (existing) return { release: existing, created: false };
      await tx.insertInto('edge_release').values(release).execute();
      await tx.insertInto('edge_release_status').values({ release_id: release.release_id, seq: 1, status: 'queued', attempts: 0, error: null, detail: null, at: release.created_at }).execute();
      return { release, created: true };
    });
  }

  async latestStatus(releaseId: string): Promise<StatusRow | undefined> {
    const row = await this.db.selectFrom('edge_release_status').selectAll().where('release_id', '=', releaseId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row ? { status: row.status as ReleaseStatus, seq: row.seq, attempts: row.attempts, error: row.error, detail: row.detail, at: row.at } : undefined;
  }

  async history(releaseId: string): Promise<StatusRow[]> {
    const rows = await this.db.selectFrom('edge_release_status').selectAll().where('release_id', '=', releaseId).orderBy('seq').execute();
    return rows.map((row) => ({ status: row.status as ReleaseStatus, seq: row.seq, attempts: row.attempts, error: row.error, detail: row.detail, at: row.at }));
  }

  /** Appends a status row (never updates one). */
  async appendStatus(releaseId: string, status: ReleaseStatus, attempts: number, error: string | null = null, detail: string | null = null): Promise<StatusRow> {
    return this.db.transaction().execute(async (tx) => {
      const last = await tx.selectFrom('edge_release_status').select('seq').where('release_id', '=', releaseId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const row = { release_id: releaseId, seq: (last?.seq ?? 0) + 1, status, attempts, error, detail, at: new Date().toISOString() };
      await tx.insertInto('edge_release_status').values(row).execute();
      return { status, seq: row.seq, attempts, error, detail, at: row.at };
    });
  }

  /** Releases whose job is not finished (resumed at start). */
  async unfinished(): Promise<Release[]> {
    const releases = await this.db.selectFrom('edge_release').selectAll().orderBy('created_at').execute();
    const out: Release[] = [];
    for (const r of releases) {
      const s = await this.latestStatus(r.release_id);
      if (!s || !isFinal(s.status)) out.push(r);
    }
    return out;
  }

  /** Which of `sopInstanceUids` the destination already confirmed. */
  async confirmedInstances(destination: string, sopInstanceUids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    // Chunked IN lists: SQLite limits bound parameters.
    for (let i = 0; i < sopInstanceUids.length; i += 500) {
      const chunk = sopInstanceUids.slice(i, i + 500);
      const rows = await this.db.selectFrom('edge_submitted_instance').select('sop_instance_uid').where('destination', '=', destination).where('sop_instance_uid', 'in', chunk).execute();
      for (const r of rows) out.add(r.sop_instance_uid);
    }
    return out;
  }

  async recordConfirmed(destination: string, releaseId: string, sopInstanceUids: readonly string[]): Promise<void> {
    if (sopInstanceUids.length === 0) return;
    const at = new Date().toISOString();
    await this.db
      .insertInto('edge_submitted_instance')
      .values(sopInstanceUids.map((uid) => ({ destination, sop_instance_uid: uid, release_id: releaseId, confirmed_at: at })))
      .onConflict((oc) => oc.columns(['destination', 'sop_instance_uid']).doNothing())
      .execute();
  }

  /** The patient's code when they were given one before, else `fresh` (stored for next time). */
  async accessCodeFor(sitePatientKey: string, fresh: string): Promise<string> {
    await this.db
      .insertInto('edge_patient_code')
      .values({ site_patient_key: sitePatientKey, access_code: fresh, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('site_patient_key').doNothing())
      .execute();
    const row = await this.db.selectFrom('edge_patient_code').select('access_code').where('site_patient_key', '=', sitePatientKey).executeTakeFirstOrThrow();
    return row.access_code;
  }
}
