import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Sql } from '../../db/client.js';
import { findActorByToken, type Actor, type Role, type SessionPolicy } from '../../db/repositories/tokens.js';
import { HttpError } from '../http/errors.js';

/**
 * Minimal bearer-token auth: `Authorization: Bearer rk_…` → the acting user (role + scope). The
 * hardening issue extends roles and the permission matrix; what is enforced now: an unknown or
 * revoked token is 401, a role outside the list is 403, a TPS outside the user's scope is 403.
 */
export type { Actor, Role };

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

/** "operator" is the CLI's name for the KPPS device role (a phone bound to one TPS). */
export const ROLE_ALIASES: Record<string, Role> = { operator: 'kpps' };
export const ROLES: Role[] = ['public', 'kpps', 'kpu_operator', 'kpu_reviewer', 'bawaslu', 'admin'];

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

/** Resolve the actor (if any) without requiring one. */
export function authenticate(sql: Sql, policy?: SessionPolicy): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return next();
    try {
      const actor = await findActorByToken(sql, token, policy);
      if (!actor) return next(new HttpError(401, 'invalid_token', 'the bearer token is unknown, revoked or expired'));
      req.actor = actor;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The actor of a request that must be authenticated with one of these roles. */
export function requireActor(req: Request, roles: Role[]): Actor {
  const actor = req.actor;
  if (!actor) throw new HttpError(401, 'auth_required', 'send Authorization: Bearer <token> (rekap token create)');
  if (!roles.includes(actor.role)) throw new HttpError(403, 'role_not_allowed', `role ${actor.role} may not do this (allowed: ${roles.join(', ')})`);
  return actor;
}

/** Scope check: the user's scope code must be a prefix of the TPS code (a TPS, desa … province, or null = all). */
export function inScope(actor: Actor, code: string): boolean {
  return actor.scopeCode === null || actor.scopeCode === '' || actor.scopeCode === '00' || code.startsWith(actor.scopeCode);
}

export function requireScope(actor: Actor, tpsCode: string): void {
  if (!inScope(actor, tpsCode)) {
    throw new HttpError(403, 'tps_out_of_scope', `TPS ${tpsCode} is outside your scope (${actor.scopeCode})`, { tps: tpsCode, scope: actor.scopeCode });
  }
}

export const actorLabel = (a: { userId: number; name: string; role: string }) => `user:${a.userId} ${a.name} (${a.role})`;
/** The person a correction or an audit entry names: id, role and the readable label. */
export const actorPerson = (a: { userId: number; name: string; role: string }) => ({ userId: a.userId, role: a.role, label: actorLabel(a) });
