import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { openDatabase } from '../storage/db/open.ts';
import { StaffAccounts } from './staff-accounts.ts';
import { registerStaffAuth, requireStaff, staffCookieName } from './staff-routes.ts';

async function setup(settings: Partial<ConstructorParameters<typeof StaffAccounts>[1]> = {}) {
  const db = await openDatabase({ dataDir: '/tmp', url: 'sqlite::memory:' });
  const accounts = new StaffAccounts(db.db, { sessionHours: 1, basicAuthCacheSeconds: 60, maxFailedLogins: 3, lockoutMinutes: 15, ...settings });
  await accounts.createUser('alice', 'correct horse battery', 'user');
  const app = Fastify();
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  const signIns: Array<{ username: string; success: boolean }> = [];
  await registerStaffAuth(app, { accounts, cliToken: 'cli-secret-token', onSignIn: (e) => signIns.push(e) });
  app.get('/api/admin-only', { preHandler: requireStaff('admin') }, async () => ({ ok: true }));
  return { app, accounts, signIns, close: async () => { await app.close(); await db.close(); } };
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

test('staff sign in with a session cookie, then sign out', async () => {
  const { app, close } = await setup();
  try {
    const login = await app.inject({ method: 'POST', url: '/api/staff/login', payload: { username: 'alice', password: 'correct horse battery' } });
    assert.equal(login.statusCode, 200);
    const cookieValue = login.cookies.find((c) => c.name === staffCookieName);
    assert.ok(cookieValue?.httpOnly);
    const me = await app.inject({ url: '/api/staff/me', cookies: { [staffCookieName]: cookieValue!.value } });
    assert.deepEqual(me.json(), { username: 'alice', role: 'user' });
    await app.inject({ method: 'POST', url: '/api/staff/logout', cookies: { [staffCookieName]: cookieValue!.value } });
    const after = await app.inject({ url: '/api/staff/me', cookies: { [staffCookieName]: cookieValue!.value } });
    assert.equal(after.statusCode, 401);
  } finally {
    await close();
  }
});

test('HTTP Basic works for scripts, and roles are enforced', async () => {
  const { app, close } = await setup();
  try {
    assert.equal((await app.inject({ url: '/api/staff/me', headers: { authorization: basic('alice', 'correct horse battery') } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/admin-only', headers: { authorization: basic('alice', 'correct horse battery') } })).statusCode, 403);
    assert.equal((await app.inject({ url: '/api/staff/me', headers: { authorization: basic('alice', 'wrong password!') } })).statusCode, 401);
    assert.equal((await app.inject({ url: '/api/admin-only', headers: { authorization: 'Bearer cli-secret-token' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/admin-only', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
  } finally {
    await close();
  }
});

test('cached Basic credentials answer fast and do not count against the lockout', async () => {
  const { app, close } = await setup();
  try {
    const auth = { authorization: basic('alice', 'correct horse battery') };
    await app.inject({ url: '/api/staff/me', headers: auth });
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) assert.equal((await app.inject({ url: '/api/staff/me', headers: auth })).statusCode, 200);
    const perRequest = (performance.now() - t0) / 50;
    assert.ok(perRequest < 20, `cached Basic auth took ${perRequest.toFixed(1)} ms per request`);
  } finally {
    await close();
  }
});

test('repeated failures lock the account, with the same answer as a wrong password', async () => {
  const { app, signIns, close } = await setup();
  try {
    const attempt = (password: string) => app.inject({ method: 'POST', url: '/api/staff/login', payload: { username: 'alice', password } });
    for (let i = 0; i < 3; i++) assert.equal((await attempt('bad password ' + i)).statusCode, 401);
    const locked = await attempt('correct horse battery');
    assert.equal(locked.statusCode, 401);
    const unknown = await app.inject({ method: 'POST', url: '/api/staff/login', payload: { username: 'nobody', password: 'whatever123' } });
    assert.equal(unknown.json().error, locked.json().error);
    assert.equal(signIns.filter((s) => !s.success).length, 5);
  } finally {
    await close();
  }
});

test('a malformed sign-in body gets a 400', async () => {
  const { app, close } = await setup();
  try {
    const r = await app.inject({ method: 'POST', url: '/api/staff/login', payload: { username: 'alice' } });
    assert.equal(r.statusCode, 400);
  } finally {
    await close();
  }
});
