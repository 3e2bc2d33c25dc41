import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../client.js';

export type Role = 'public' | 'kpps' | 'kpu_operator' | 'kpu_reviewer' | 'bawaslu' | 'admin';

export interface Actor {
  userId: number;
  name: string;
  role: Role;
  /** Area code (any level) or 13-digit TPS code bounding what the user may touch; null = everywhere. */
  scopeCode: string | null;
  tokenId: number;
  /** device (phone), session (browser sign-in) or cli. */
  kind?: 'device' | 'session' | 'cli';
}

/** Session lifetimes: a browser session ends after this much inactivity, or this long after sign-in, whichever comes first. */
export interface SessionPolicy { idleSeconds: number; absoluteSeconds: number }
export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleSeconds: 2 * 3600, absoluteSeconds: 16 * 3600 };

/** Only the SHA-256 of a token is stored: a database dump does not hand out working tokens. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Create a user and a bearer token for it; returns the token once (it cannot be recovered later). */
export async function createUserWithToken(sql: Sql, opts: { name: string; role: Role; scopeCode: string | null; kind?: 'device' | 'session' | 'cli'; expiresAt?: Date | null }): Promise<{ userId: number; tokenId: number; token: string }> {
  const token = `rk_${randomBytes(32).toString('base64url')}`;
  return sql.begin(async (tx) => {
    const [user] = await tx<{ id: number }[]>`
      insert into users (name, role, scope_code) values (${opts.name}, ${opts.role}, ${opts.scopeCode}) returning id`;
    const [tok] = await tx<{ id: number }[]>`
      insert into tokens (user_id, token_hash, kind, expires_at)
      values (${user.id}, ${hashToken(token)}, ${opts.kind ?? 'device'}, ${opts.expiresAt ? opts.expiresAt.toISOString() : null}) returning id`;
    return { userId: Number(user.id), tokenId: Number(tok.id), token };
  });
}

/**
 * The actor behind a bearer token, or null when unknown, revoked, expired, or (sessions) idle too long.
 * A session's last_seen_at is refreshed at most every 30 s, so a busy page costs no write per request.
 */
export async function findActorByToken(sql: Sql, token: string, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<Actor | null> {
  const [row] = await sql<Actor[]>`
    with hit as (
      select u.id as "userId", u.name, u.role, u.scope_code as "scopeCode", t.id as "tokenId", t.kind,
             t.last_seen_at is null or t.last_seen_at < now() - interval '30 seconds' as stale
      from tokens t join users u on u.id = t.user_id
      where t.token_hash = ${hashToken(token)} and t.revoked_at is null and u.revoked_at is null
        and (t.expires_at is null or t.expires_at > now())
        and (t.kind <> 'session' or coalesce(t.last_seen_at, t.created_at) > now() - make_interval(secs => ${policy.idleSeconds})))
    , touch as (update tokens set last_seen_at = now() where id = (select "tokenId" from hit where stale and kind = 'session'))
    select "userId", name, role, "scopeCode", "tokenId", kind from hit`;
  return row ? { ...row, userId: Number(row.userId), tokenId: Number(row.tokenId) } : null;
}

/**
 * The still-valid tokens among these ids, with their user's current role and scope: live sockets are
 * re-checked with this every few seconds, so revoking a token or a user, or changing a role, reaches
 * sockets opened before the change (ASVS 8.3.2).
 */
export async function liveTokens(sql: Sql, ids: number[], policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<Map<number, { role: Role; scopeCode: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ id: number; role: Role; scopeCode: string | null }[]>`
    select t.id, u.role, u.scope_code as "scopeCode" from tokens t join users u on u.id = t.user_id
    where t.id = any(${ids}::bigint[]) and t.revoked_at is null and u.revoked_at is null
      and (t.expires_at is null or t.expires_at > now())
      and (t.kind <> 'session' or coalesce(t.last_seen_at, t.created_at) > now() - make_interval(secs => ${policy.idleSeconds}))`;
  return new Map(rows.map((r) => [Number(r.id), { role: r.role, scopeCode: r.scopeCode }]));
}

/** A person who signs in with a password. The username is stored lower-case; the hash is argon2id (server/auth/passwords.ts). */
export async function createPasswordUser(sql: Sql, opts: { username: string; name: string; role: Role; scopeCode: string | null; passwordHash: string }): Promise<{ userId: number } | null> {
  const rows = await sql<{ id: number }[]>`
    insert into users (name, username, role, scope_code, password_hash)
    values (${opts.name}, ${opts.username.toLowerCase()}, ${opts.role}, ${opts.scopeCode}, ${opts.passwordHash})
    on conflict (username) do nothing returning id`;
  return rows.length ? { userId: Number(rows[0].id) } : null;
}

/** What sign-in needs to know about a username (null when there is no such user). */
export async function findLoginUser(sql: Sql, username: string): Promise<{ id: number; passwordHash: string | null; revoked: boolean } | null> {
  const [u] = await sql<{ id: number; passwordHash: string | null; revoked: boolean }[]>`
    select id, password_hash as "passwordHash", revoked_at is not null as revoked from users where username = ${username.toLowerCase()}`;
  return u ? { ...u, id: Number(u.id) } : null;
}

/** A browser session for a signed-in user; the token is returned once and only its hash is stored. */
export async function createSession(sql: Sql, userId: number, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Promise<{ tokenId: number; token: string; expiresAt: string }> {
  const token = `rk_${randomBytes(32).toString('base64url')}`;
  const [t] = await sql<{ id: number; expiresAt: string }[]>`
    insert into tokens (user_id, token_hash, kind, expires_at, last_seen_at)
    values (${userId}, ${hashToken(token)}, 'session', now() + make_interval(secs => ${policy.absoluteSeconds}), now())
    returning id, expires_at as "expiresAt"`;
  return { tokenId: Number(t.id), token, expiresAt: new Date(t.expiresAt).toISOString() };
}

/** Revoke one token (logout, lost phone). Returns false when it was already revoked or unknown. */
export async function revokeToken(sql: Sql, tokenId: number): Promise<boolean> {
  const rows = await sql`update tokens set revoked_at = now() where id = ${tokenId} and revoked_at is null returning id`;
  return rows.length > 0;
}

/** Revoke a user: every token of theirs stops working at once. */
export async function revokeUser(sql: Sql, userId: number): Promise<boolean> {
  const rows = await sql`update users set revoked_at = now() where id = ${userId} and revoked_at is null returning id`;
  return rows.length > 0;
}

/** Change a user's role and scope; their tokens carry the new rights on the next request or socket check. */
export async function setUserRole(sql: Sql, userId: number, role: Role, scopeCode: string | null): Promise<boolean> {
  const rows = await sql`update users set role = ${role}, scope_code = ${scopeCode} where id = ${userId} returning id`;
  return rows.length > 0;
}

export async function findUserByUsername(sql: Sql, username: string): Promise<{ id: number; name: string; role: Role; scopeCode: string | null; revoked: boolean } | null> {
  const [u] = await sql<{ id: number; name: string; role: Role; scopeCode: string | null; revoked: boolean }[]>`
    select id, name, role, scope_code as "scopeCode", revoked_at is not null as revoked from users where username = ${username.toLowerCase()}`;
  return u ? { ...u, id: Number(u.id) } : null;
}

export async function findUser(sql: Sql, id: number): Promise<{ id: number; name: string; role: Role; scopeCode: string | null } | null> {
  const [u] = await sql<{ id: number; name: string; role: Role; scopeCode: string | null }[]>`
    select id, name, role, scope_code as "scopeCode" from users where id = ${id}`;
  return u ?? null;
}
