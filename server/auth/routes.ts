import express, { Router } from 'express';
import { z } from 'zod';
import type { Sql } from '../../db/client.js';
import { hitRateLimits } from '../../db/repositories/ratelimits.js';
import { createSession, DEFAULT_SESSION_POLICY, findLoginUser, revokeToken, type SessionPolicy } from '../../db/repositories/tokens.js';
import { HttpError, badRequest } from '../http/errors.js';
import { clientAddress } from '../http/middleware/ratelimit.js';
import { authenticate, requireActor, ROLES } from './index.js';
import { PASSWORD_MAX, verifyPassword, warmPasswordCheck } from './passwords.js';

/**
 * Sign-in for people (KPU staff, Bawaslu, admins): POST /api/auth/login → a session token that
 * expires after idle time and absolutely; POST /api/auth/logout revokes it; GET /api/auth/me says who
 * the token belongs to. Phones keep their device tokens (rekap token create).
 *
 * Guessing is throttled per (username, address) and per address in PostgreSQL (shared by every node).
 * The throttle is counted before the password is checked and answers the same for known and unknown
 * usernames, and it is a window, not a lock: an attacker can slow a user's sign-in from the attacker's
 * own address but cannot lock the account for everyone.
 */

export interface LoginThrottle { windowSeconds: number; perUserAddress: number; perAddress: number }
export const DEFAULT_LOGIN_THROTTLE: LoginThrottle = { windowSeconds: 15 * 60, perUserAddress: 10, perAddress: 100 };

const loginSchema = z.object({
  username: z.string().trim().min(1, 'username is required').max(64),
  password: z.string().min(1, 'password is required').max(PASSWORD_MAX),
});

const WRONG = () => new HttpError(401, 'invalid_credentials', 'nama pengguna atau kata sandi salah / username or password is wrong');

export function authRouter(deps: { sql: Sql; policy?: SessionPolicy; throttle?: LoginThrottle }): Router {
  const { sql } = deps;
  const policy = deps.policy ?? DEFAULT_SESSION_POLICY;
  const throttle = deps.throttle ?? DEFAULT_LOGIN_THROTTLE;
  const router = Router();
  router.use('/auth', express.json({ limit: '4kb' }));

  router.post('/auth/login', async (req, res) => {
    const parsed = loginSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(`invalid body: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`, undefined, 'invalid_body');
    const username = parsed.data.username.toLowerCase();
    const address = clientAddress(req);
    const windowMs = throttle.windowSeconds * 1000;
    const windowStart = new Date(Math.floor(Date.now() / windowMs) * windowMs);
    const counts = await hitRateLimits(sql, [`login:ua:${username}|${address}`, `login:a:${address}`], windowStart);
    const over = (counts.get(`login:ua:${username}|${address}`) ?? 0) > throttle.perUserAddress || (counts.get(`login:a:${address}`) ?? 0) > throttle.perAddress;
    if (over) {
      const retry = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - Date.now()) / 1000));
      res.set('Retry-After', String(retry));
      throw new HttpError(429, 'too_many_sign_ins', `terlalu banyak percobaan masuk; coba lagi dalam ${retry} detik / too many sign-in attempts; try again in ${retry} s`, { retryAfterSeconds: retry });
    }
    await warmPasswordCheck();
    const user = await findLoginUser(sql, username);
    // Always one argon2 verification, so timing does not say whether the username exists.
    const ok = await verifyPassword(user?.passwordHash ?? null, parsed.data.password);
    if (!user || !ok || user.revoked) throw WRONG();
    const session = await createSession(sql, user.id, policy);
    const [u] = await sql<{ name: string; role: string; scopeCode: string | null }[]>`select name, role, scope_code as "scopeCode" from users where id = ${user.id}`;
    res.set('Cache-Control', 'no-store').status(201).json({
      token: session.token, expiresAt: session.expiresAt, idleTimeoutSeconds: policy.idleSeconds,
      user: { id: user.id, name: u.name, role: u.role, scope: u.scopeCode },
    });
  });

  router.post('/auth/logout', authenticate(sql, policy), async (req, res) => {
    const actor = requireActor(req, ROLES);
    await revokeToken(sql, actor.tokenId);
    res.status(204).end();
  });

  router.get('/auth/me', authenticate(sql, policy), (req, res) => {
    const actor = requireActor(req, ROLES);
    res.set('Cache-Control', 'no-store').json({ user: { id: actor.userId, name: actor.name, role: actor.role, scope: actor.scopeCode }, tokenKind: actor.kind ?? null });
  });
  return router;
}
