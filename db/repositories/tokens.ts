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
}

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

/** The actor behind a bearer token, or null when unknown, revoked or expired. */
export async function findActorByToken(sql: Sql, token: string): Promise<Actor | null> {
  const [row] = await sql<Actor[]>`
    select u.id as "userId", u.name, u.role, u.scope_code as "scopeCode", t.id as "tokenId"
    from tokens t join users u on u.id = t.user_id
    where t.token_hash = ${hashToken(token)} and t.revoked_at is null and u.revoked_at is null
      and (t.expires_at is null or t.expires_at > now())`;
  return row ? { ...row, userId: Number(row.userId), tokenId: Number(row.tokenId) } : null;
}

export async function findUser(sql: Sql, id: number): Promise<{ id: number; name: string; role: Role; scopeCode: string | null } | null> {
  const [u] = await sql<{ id: number; name: string; role: Role; scopeCode: string | null }[]>`
    select id, name, role, scope_code as "scopeCode" from users where id = ${id}`;
  return u ?? null;
}
