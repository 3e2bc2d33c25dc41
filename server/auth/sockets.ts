import type { Server, Socket } from 'socket.io';
import type { Sql } from '../../db/client.js';
import type { ChangeRecord } from '../../db/repositories/feeds.js';
import { findActorByToken, liveTokens, type Actor, type Role, type SessionPolicy } from '../../db/repositories/tokens.js';
import type { ClientToServerEvents, OpsEvent, ServerToClientEvents } from '../contract/socket.js';
import { inScope } from './index.js';

/**
 * Roles on sockets. A socket's role and area come from its handshake token (`auth: { token }` or an
 * Authorization header); without one it is public. Public result rooms (`<contest>:<area>`) stay open
 * to all; operator rooms (`#ops/<area>`: quarantine detail for review) need a staff role whose scope
 * covers the area, or a KPPS device for its own TPS.
 *
 * Every few seconds each node re-checks the tokens of its own live sockets against PostgreSQL (one
 * query for all of them), so revoking a token, a session or a user disconnects their sockets, and a
 * changed role or scope drops rooms no longer allowed, on every node, within `recheckMs` (ASVS 8.3.2).
 */

export const OPS_ROOM_PREFIX = '#ops/';
export const opsRoom = (area: string) => `${OPS_ROOM_PREFIX}${area}`;
const OPS_AREA = /^(00|\d{2}|\d{4}|\d{6}|\d{10}|\d{13})$/;
const STAFF: Role[] = ['kpu_operator', 'kpu_reviewer', 'bawaslu', 'admin'];

/** May this actor (null = public) join the operator room of this area? */
export function mayJoinOps(actor: Actor | null, area: string): boolean {
  if (!actor) return false;
  if (STAFF.includes(actor.role)) {
    // A scoped officer may watch inside the scope only; the whole-country room needs a national scope.
    if (area === '00') return actor.scopeCode === null || actor.scopeCode === '' || actor.scopeCode === '00';
    return inScope(actor, area);
  }
  // A KPPS phone follows its own TPS only.
  return actor.role === 'kpps' && actor.scopeCode === area;
}


type AnySocket = Socket<ClientToServerEvents, ServerToClientEvents> & { data: { actor?: Actor | null } };

export interface SocketAuth {
  /** Forward published changes to operator rooms (quarantines and their releases). */
  noteChanges(changes: ChangeRecord[]): void;
  /** Re-check every live socket's token now (tests); normally on a timer. */
  recheck(): Promise<void>;
  close(): void;
}

function handshakeToken(socket: AnySocket): string | null {
  const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof fromAuth === 'string' && fromAuth) return fromAuth;
  const header = socket.handshake.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : null;
}

export function attachSocketAuth(io: Server<ClientToServerEvents, ServerToClientEvents>, opts: { sql: Sql; log: (msg: string, err?: unknown) => void; recheckMs?: number; policy?: SessionPolicy }): SocketAuth {
  const { sql, log } = opts;

  io.use((socket, next) => {
    const token = handshakeToken(socket);
    if (!token) {
      socket.data.actor = null;
      return next();
    }
    findActorByToken(sql, token, opts.policy).then(
      (actor) => {
        if (!actor) {
          const err = new Error('invalid_token') as Error & { data?: unknown };
          err.data = { code: 'invalid_token', message: 'the token is unknown, revoked or expired' };
          return next(err);
        }
        socket.data.actor = actor;
        next();
      },
      (err) => {
        log('socket handshake: token check failed', err);
        const e = new Error('unavailable') as Error & { data?: unknown };
        e.data = { code: 'unavailable', message: 'cannot check the token now; retry' };
        next(e);
      },
    );
  });

  io.on('connection', (raw) => {
    const socket = raw as AnySocket;
    socket.on('subscribe-ops', async (req, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const area = String(req?.area ?? '').replace(/\./g, '');
      if (!OPS_AREA.test(area)) return reply({ ok: false, error: { code: 'invalid_area_code', message: `"${req?.area}" is not an area code` } });
      const actor = socket.data.actor ?? null;
      if (!actor) return reply({ ok: false, error: { code: 'auth_required', message: 'operator rooms need a signed-in officer (handshake auth.token)' } });
      if (!mayJoinOps(actor, area)) return reply({ ok: false, error: { code: 'out_of_scope', message: `role ${actor.role} (scope ${actor.scopeCode ?? 'all'}) may not watch ${area}` } });
      await socket.join(opsRoom(area));
      reply({ ok: true });
    });
    socket.on('unsubscribe-ops', async (req, ack) => {
      await socket.leave(opsRoom(String(req?.area ?? '')));
      if (typeof ack === 'function') ack({ ok: true });
    });
  });

  let checking: Promise<void> | null = null;
  async function recheck(): Promise<void> {
    const authed = [...io.of('/').sockets.values()].filter((s) => (s as AnySocket).data.actor) as AnySocket[];
    if (authed.length === 0) return;
    const live = await liveTokens(sql, [...new Set(authed.map((s) => s.data.actor!.tokenId))], opts.policy);
    for (const s of authed) {
      const actor = s.data.actor!;
      const now = live.get(actor.tokenId);
      if (!now) {
        // Told first, then cut: the client knows to sign in again instead of reconnecting in a loop.
        s.emit('auth_revoked', { code: 'token_revoked', message: 'token atau sesi dicabut / token or session revoked' });
        s.data.actor = null;
        s.disconnect(true);
        continue;
      }
      if (now.role !== actor.role || now.scopeCode !== actor.scopeCode) {
        const updated: Actor = { ...actor, role: now.role, scopeCode: now.scopeCode };
        s.data.actor = updated;
        const dropped: string[] = [];
        for (const room of s.rooms) {
          if (room.startsWith(OPS_ROOM_PREFIX) && !mayJoinOps(updated, room.slice(OPS_ROOM_PREFIX.length))) {
            dropped.push(room.slice(OPS_ROOM_PREFIX.length));
            void s.leave(room);
          }
        }
        s.emit('auth_changed', { role: now.role, scope: now.scopeCode, leftRooms: dropped });
      }
    }
  }
  const runRecheck = () => {
    checking ??= recheck()
      .catch((err) => log('socket token re-check failed (will retry)', err))
      .finally(() => {
        checking = null;
      });
    return checking;
  };
  const timer = setInterval(runRecheck, opts.recheckMs ?? 2000);
  timer.unref();

  return {
    noteChanges(changes) {
      for (const c of changes) {
        if (c.status !== 'quarantined') continue;
        const event: OpsEvent = { tpsCode: c.tpsCode, contestId: c.contestId, status: c.status, resultVersion: c.resultVersion, version: Number(c.version), at: new Date(c.at).toISOString() };
        const rooms = [...new Set(['00', ...c.areaCodes, c.tpsCode])].map(opsRoom).filter((r) => (io.of('/').adapter.rooms.get(r)?.size ?? 0) > 0);
        if (rooms.length) io.local.to(rooms).emit('review', event);
      }
    },
    recheck: runRecheck,
    close() {
      clearInterval(timer);
    },
  };
}
