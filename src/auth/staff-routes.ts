// Staff sign-in routes and the authentication used by every staff/admin API route: a session cookie,
// HTTP Basic for scripts, or the local CLI token (Bearer) for the `imageshare` command on this machine.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { AuthError, roleAtLeast, secretsEqual, type StaffAccounts, type StaffPrincipal, type StaffRole } from './staff-accounts.ts';

export const staffCookieName = 'imageshare_staff';

declare module 'fastify' {
  interface FastifyRequest {
    staff: StaffPrincipal | null;
  }
}

export interface StaffAuthOptions {
  accounts: StaffAccounts;
  cliToken: string;
  /** Called for every sign-in attempt (audit). */
  onSignIn?: (event: { username: string; success: boolean; reason?: string; ip: string; via: 'session' | 'basic' }) => void;
}

const loginBody = z.object({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) });

async function authenticate(request: FastifyRequest, opts: StaffAuthOptions): Promise<StaffPrincipal | null> {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    if (sep <= 0) return null;
    const username = decoded.slice(0, sep);
    try {
      const principal = await opts.accounts.verifyBasic(username, decoded.slice(sep + 1));
      return principal;
    } catch (err) {
      opts.onSignIn?.({ username, success: false, reason: (err as AuthError).code, ip: request.ip, via: 'basic' });
      return null;
    }
  }
  if (header?.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    if (opts.cliToken && secretsEqual(token, opts.cliToken)) return { id: 'cli', username: 'cli', role: 'admin', via: 'cli-token' };
    return null;
  }
  const cookie = request.cookies?.[staffCookieName];
  if (cookie) return opts.accounts.resolveSession(cookie);
  return null;
}

/** preHandler that requires a signed-in staff member with at least `role`. */
export function requireStaff(role: StaffRole = 'user'): preHandlerAsyncHookHandler {
  return async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    if (!request.staff) {
      reply.header('WWW-Authenticate', 'Basic realm="ImageShare staff", charset="UTF-8"');
      return reply.code(401).send({ error: 'authentication required' });
    }
    if (!roleAtLeast(request.staff.role, role)) return reply.code(403).send({ error: `requires the ${role} role` });
  };
}

export async function registerStaffAuth(app: FastifyInstance, opts: StaffAuthOptions): Promise<void> {
  app.decorateRequest('staff', null);
  // Any route may be protected (staff API, FHIR AuditEvent, ...): authenticate whenever credentials are sent.
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization || request.cookies?.[staffCookieName]) request.staff = await authenticate(request, opts);
  });

  app.post(
    '/api/staff/login',
    { config: { rateLimit: { max: 20, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const parsed = loginBody.safeParse(request.body);
      if (!parsed.success) return reply.code(400).send({ error: 'username and password are required' });
      const { username, password } = parsed.data;
      try {
        const principal = await opts.accounts.verifyLogin(username, password);
        const session = await opts.accounts.createSession(principal);
        opts.onSignIn?.({ username, success: true, ip: request.ip, via: 'session' });
        reply.setCookie(staffCookieName, session.token, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          expires: session.expiresAt,
        });
        return { username: principal.username, role: principal.role, expiresAt: session.expiresAt.toISOString() };
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        opts.onSignIn?.({ username, success: false, reason: err.code, ip: request.ip, via: 'session' });
        // Same answer for unknown user, wrong password and locked account (no account enumeration).
        return reply.code(401).send({ error: 'sign-in failed: check the username and password, or try again later' });
      }
    },
  );

  app.post('/api/staff/logout', async (request, reply) => {
    const cookie = request.cookies?.[staffCookieName];
    if (cookie) await opts.accounts.endSession(cookie);
    reply.clearCookie(staffCookieName, { path: '/' });
    return { ok: true };
  });

  app.get('/api/staff/me', { preHandler: requireStaff() }, async (request) => {
    const s = request.staff!;
    return { username: s.username, role: s.role };
  });
}
