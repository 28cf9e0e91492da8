// Staff accounts: argon2id password hashes, lockout after repeated failures, server-side sessions
// (only a hash of the session token is stored), and a short cache for HTTP Basic so scripts are not
// slowed by the password hash on every request.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import type { Database, StaffUser } from '../storage/db/schema.ts';

export type StaffRole = 'user' | 'supervisor' | 'admin';
const roleRank: Record<StaffRole, number> = { user: 1, supervisor: 2, admin: 3 };

export function roleAtLeast(role: StaffRole, required: StaffRole): boolean {
  return roleRank[role] >= roleRank[required];
}

export interface StaffPrincipal {
  id: string;
  username: string;
  role: StaffRole;
  /** How the request was authenticated. */
  via: 'session' | 'basic' | 'cli-token';
}

export class AuthError extends Error {
  readonly code: 'INVALID_CREDENTIALS' | 'LOCKED' | 'WEAK_PASSWORD' | 'USER_EXISTS';
  constructor(code: AuthError['code'], message: string) {
    super(message);
    this.code = code;
    this.name = 'AuthError';
  }
}

export interface StaffAccountSettings {
  sessionHours: number;
  basicAuthCacheSeconds: number;
  maxFailedLogins: number;
  lockoutMinutes: number;
}

// OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): about 60 ms per hash here.
// (algorithm 2 is Argon2id; the library's enum is a const enum that isolated modules cannot import.)
const argonOptions = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function generatePassword(): string {
  // 20 characters of base64url: about 120 bits.
  return randomBytes(15).toString('base64url');
}

export class StaffAccounts {
  private readonly basicCache = new Map<string, { principal: StaffPrincipal; expires: number }>();
  // A fixed hash verified when the user does not exist, so timing does not reveal which accounts exist.
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly settings: StaffAccountSettings,
  ) {}

  async createUser(username: string, password: string, role: StaffRole): Promise<StaffUser> {
    if (password.length < 12) throw new AuthError('WEAK_PASSWORD', 'a staff password needs at least 12 characters');
    const existing = await this.db.selectFrom('staff_user').select('id').where('username', '=', username).executeTakeFirst();
    if (existing) throw new AuthError('USER_EXISTS', `user ${username} exists`);
    const user = {
      id: randomUUID(),
      username,
      password_hash: await argon2Hash(password, argonOptions),
      role,
      created_at: new Date().toISOString(),
      locked_until: null,
    };
    await this.db.insertInto('staff_user').values(user).execute();
    return { ...user, failed_logins: 0, disabled: 0 };
  }

  /** Creates `admin` at first start; returns the generated password when none was configured. */
  async ensureAdmin(initialPassword?: string): Promise<{ created: boolean; generatedPassword?: string }> {
    const existing = await this.db.selectFrom('staff_user').select('id').where('username', '=', 'admin').executeTakeFirst();
    if (existing) return { created: false };
    const password = initialPassword ?? generatePassword();
    await this.createUser('admin', password, 'admin');
    return initialPassword ? { created: true } : { created: true, generatedPassword: password };
  }

  /** Interactive sign-in: counts failures and locks the account after too many. */
  async verifyLogin(username: string, password: string): Promise<StaffPrincipal> {
    const user = await this.db.selectFrom('staff_user').selectAll().where('username', '=', username).executeTakeFirst();
    const now = Date.now();
    if (!user || user.disabled) {
      await this.burnTime(password);
      throw new AuthError('INVALID_CREDENTIALS', 'invalid username or password');
    }
    if (user.locked_until && Date.parse(user.locked_until) > now) {
      throw new AuthError('LOCKED', 'too many failed sign-ins; try again later');
    }
    const ok = await argon2Verify(user.password_hash, password).catch(() => false);
    if (!ok) {
      const failures = user.failed_logins + 1;
      const lock = failures >= this.settings.maxFailedLogins;
      await this.db
        .updateTable('staff_user')
        .set({
          failed_logins: lock ? 0 : failures,
          locked_until: lock ? new Date(now + this.settings.lockoutMinutes * 60_000).toISOString() : user.locked_until,
        })
        .where('id', '=', user.id)
        .execute();
      throw new AuthError('INVALID_CREDENTIALS', 'invalid username or password');
    }
    if (user.failed_logins > 0 || user.locked_until) {
      await this.db.updateTable('staff_user').set({ failed_logins: 0, locked_until: null }).where('id', '=', user.id).execute();
    }
    return { id: user.id, username: user.username, role: user.role, via: 'session' };
  }

  /**
   * HTTP Basic for scripts: a verified username/password pair is remembered briefly (keyed by a hash
   * of both), so repeated requests skip argon2; a success never counts against sign-in limits.
   */
  async verifyBasic(username: string, password: string): Promise<StaffPrincipal> {
    const cacheKey = sha256(`${username}\u0000${password}`);
    const hit = this.basicCache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.principal;
    const principal = { ...(await this.verifyLogin(username, password)), via: 'basic' as const };
    if (this.settings.basicAuthCacheSeconds > 0) {
      if (this.basicCache.size > 10_000) this.basicCache.clear();
      this.basicCache.set(cacheKey, { principal, expires: Date.now() + this.settings.basicAuthCacheSeconds * 1000 });
    }
    return principal;
  }

  async createSession(principal: StaffPrincipal): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.settings.sessionHours * 3600_000);
    await this.db
      .insertInto('staff_session')
      .values({ token_hash: sha256(token), user_id: principal.id, created_at: new Date().toISOString(), expires_at: expiresAt.toISOString() })
      .execute();
    return { token, expiresAt };
  }

  async resolveSession(token: string): Promise<StaffPrincipal | null> {
    const row = await this.db
      .selectFrom('staff_session')
      .innerJoin('staff_user', 'staff_user.id', 'staff_session.user_id')
      .select(['staff_user.id', 'staff_user.username', 'staff_user.role', 'staff_user.disabled', 'staff_session.expires_at'])
      .where('staff_session.token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.disabled || Date.parse(row.expires_at) <= Date.now()) return null;
    return { id: row.id, username: row.username, role: row.role, via: 'session' };
  }

  async endSession(token: string): Promise<void> {
    await this.db.deleteFrom('staff_session').where('token_hash', '=', sha256(token)).execute();
  }

  async purgeExpiredSessions(): Promise<void> {
    await this.db.deleteFrom('staff_session').where('expires_at', '<', new Date().toISOString()).execute();
  }

  private async burnTime(password: string): Promise<void> {
    this.dummyHash ??= argon2Hash(randomBytes(16).toString('hex'), argonOptions);
    await argon2Verify(await this.dummyHash, password).catch(() => false);
  }
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
