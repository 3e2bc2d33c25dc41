import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import pg from 'pg';
import { createAdapter } from '@socket.io/postgres-adapter';
import postgres from 'postgres';
import type { Sql } from '../../db/client.js';
import { anomaliesAfter, changesSince, latestChangeVersion, maxAnomalyId, tallyRows, type ChangeRecord } from '../../db/repositories/feeds.js';
import type { Tx } from '../../db/repositories/audit.js';
import { roomKey, type AnomalyEvent, type ClientToServerEvents, type RoomDelta, type RoomKey, type RoomSnapshot, type ServerToClientEvents, type SubscribeAck } from '../contract/socket.js';
import type { ResultStatus, UnitTally } from '../contract/results.js';
import { resolveRoom, RoomError, roomState, unitFromTally, unitsOf } from './snapshot.js';
import { attachSocketAuth } from '../auth/sockets.js';
import { inScope } from '../auth/index.js';
import type { Actor } from '../../db/repositories/tokens.js';
import type { InvestigationEvent } from '../contract/investigation.js';
import { INVESTIGATION_CHANNEL, parseInvestigationPayload } from '../../workers/cases/events.js';

/** Investigation room of an area: findings and case changes, for Bawaslu (and admins) in scope. */
export const investigationRoom = (area: string) => `#investigation/${area}`;
const INVESTIGATION_ROLES = new Set(['bawaslu', 'admin']);
export function mayJoinInvestigation(actor: Actor | null, area: string): boolean {
  if (!actor || !INVESTIGATION_ROLES.has(actor.role)) return false;
  if (area === '00') return actor.scopeCode === null || actor.scopeCode === '' || actor.scopeCode === '00';
  return inScope(actor, area);
}

/**
 * Live results over Socket.IO. Workers never talk to sockets: they commit results and a `changes` row
 * and NOTIFY `rekap_changes`; every API node LISTENs, reads the change feed, and pushes coalesced
 * deltas (at most one per room per interval) to ITS OWN sockets (`io.local`). The Postgres adapter
 * joins the nodes for anything broadcast cluster-wide, but deltas are not sent through it: each node
 * derives them from the database, so no node depends on another being up.
 */

export interface RealtimeOptions {
  /** Handshake gate (rate limit, server/http/middleware/ratelimit.ts); refused → HTTP 403 to the client. */
  allowRequest?: (req: import('node:http').IncomingMessage, cb: (err: string | null | undefined, ok: boolean) => void) => void;
  sql: Sql;
  /** Database URL for the LISTEN connection and the adapter's pg pool. */
  url: string;
  deltaIntervalMs: number;
  log: (msg: string, err?: unknown) => void;
  /** Attach @socket.io/postgres-adapter (several nodes serve one election). Default true. */
  adapter?: boolean;
  /** A client more than this many changes behind gets a snapshot instead of a catch-up. */
  maxCatchUpChanges?: number;
  /** How often live sockets' tokens are re-checked (revocation, role change). Default 2000 ms. */
  authRecheckMs?: number;
}

export interface Realtime {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** Process pending changes now (tests); normally driven by NOTIFY + the interval timer. */
  flush(): Promise<void>;
  /** `emitLagMs`: commit of the newest change in a delta → its frame written to the sockets (last 10,000 deltas). */
  stats(): { emittedVersion: number; deltasSent: number; sockets: number; emitLagMs: number[] };
  close(): Promise<void>;
}

interface RoomChanges { contest: string; area: string; units: Set<string>; tps: Map<string, { code: string; status: ResultStatus; version: number }> }

const AREA_CODE = /^(00|\d{2}|\d{4}|\d{6}|\d{10})$/;

/** For each change: room (contest, area) for every area it touched → the child unit that changed. */
export function roomsTouched(changes: ChangeRecord[]): Map<RoomKey, RoomChanges> {
  const rooms = new Map<RoomKey, RoomChanges>();
  for (const c of changes) {
    c.areaCodes.forEach((area, i) => {
      const key = roomKey(c.contestId, area);
      let r = rooms.get(key);
      if (!r) rooms.set(key, (r = { contest: c.contestId, area, units: new Set(), tps: new Map() }));
      r.units.add(c.areaCodes[i + 1] ?? c.tpsCode);
      if (c.status) r.tps.set(c.tpsCode, { code: c.tpsCode, status: c.status as ResultStatus, version: c.resultVersion ?? 0 });
    });
  }
  return rooms;
}

const areaChain = (code: string) => ['00', ...[2, 4, 6, 10].filter((n) => code.length >= n).map((n) => code.slice(0, n))];

export async function attachRealtime(server: HttpServer, opts: RealtimeOptions): Promise<Realtime> {
  const { sql, log } = opts;
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(server, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    cors: { origin: true },
    ...(opts.allowRequest ? { allowRequest: opts.allowRequest } : {}),
  });

  // Roles on sockets: handshake token → role and scope, operator rooms, live revocation (server/auth/sockets.ts).
  const socketAuth = attachSocketAuth(io, { sql, log, recheckMs: opts.authRecheckMs });

  let pool: pg.Pool | null = null;
  if (opts.adapter !== false) {
    pool = new pg.Pool({ connectionString: opts.url, max: 2 });
    // The adapter's LISTEN client has no error handler of its own (RELIABILITY §2.2): without this a
    // database restart would crash the node with an unhandled 'error' event.
    pool.on('error', (err) => log('socket.io adapter pool error (will reconnect)', err));
    pool.on('connect', (client) => {
      client.on('error', (err) => log('socket.io adapter client error', err));
      // The adapter's LISTEN client is checked out for good; when the database restarts it dies, the
      // adapter takes a new one but never releases the dead one, and pg-pool only frees a slot on
      // release: after one restart the pool (max 2) had no slot left for pg_notify and cross-node
      // broadcasts stopped (test/faults/pg-kill-ingest.fault.ts). Release a dead client with an error.
      client.once('end', () => {
        try {
          (client as unknown as { release?: (err?: Error | boolean) => void }).release?.(new Error('connection ended'));
        } catch {
          /* already released (an ordinary query client): nothing to free */
        }
      });
    });
    io.adapter(createAdapter(pool, { errorHandler: (err: Error) => log('socket.io adapter error', err) }));
  }

  const maxCatchUp = opts.maxCatchUpChanges ?? 5000;
  let emittedVersion = await latestChangeVersion(sql);
  /**
   * Per room, the version up to which this node has announced its changes: the head of the last tick
   * that touched it. A delta's fromVersion is that, not the global head, so a client of a quiet room
   * (a kecamatan where nothing was published for a while) applies the next delta directly instead of
   * seeing a "gap" and resubscribing (2,298 needless resubscribes in the kalteng simulate run).
   * Rooms not touched since this node started fall back to its start version. Bounded by the number
   * of (contest, area) pairs that ever changed.
   */
  const startVersion = emittedVersion;
  const roomAnnounced = new Map<string, number>();
  let anomalyCursor = await maxAnomalyId(sql);
  let deltasSent = 0;
  let pending = true;
  let running: Promise<void> | null = null;
  let lastTickAt = 0;
  const emitLag: number[] = [];
  let closed = false;

  const localRoomSize = (key: string) => io.of('/').adapter.rooms.get(key)?.size ?? 0;

  /**
   * Deltas for many rooms from one snapshot with two queries in all (area tallies of every room and
   * changed child, TPS rows of desa rooms), so the cost of a tick grows with what changed, not with
   * the number of rooms.
   */
  async function buildDeltas(tx: Tx, rooms: RoomChanges[], fromVersion: (rc: RoomChanges) => number, version: number, at: Date | null): Promise<RoomDelta[]> {
    const areaPairs = new Map<string, Set<string>>();
    const tpsPairs = new Map<string, Set<string>>();
    for (const rc of rooms) {
      const a = areaPairs.get(rc.contest) ?? new Set<string>();
      areaPairs.set(rc.contest, a);
      a.add(rc.area);
      if (rc.area.length === 10) {
        const t = tpsPairs.get(rc.contest) ?? new Set<string>();
        tpsPairs.set(rc.contest, t);
        for (const u of rc.units) t.add(u);
      } else for (const u of rc.units) a.add(u);
    }
    const areaUnits = new Map<string, UnitTally>();
    for (const [contest, codes] of areaPairs) {
      const rows = await tallyRows(tx, contest, [...codes]);
      const byCode = new Map(rows.map((r) => [r.code, r]));
      for (const c of codes) areaUnits.set(`${contest}|${c}`, unitFromTally(byCode.get(c), c));
    }
    const tpsUnitsByKey = new Map<string, UnitTally>();
    for (const [contest, codes] of tpsPairs) {
      for (const u of await unitsOf(tx, contest, '0000000000', [...codes])) tpsUnitsByKey.set(`${contest}|${u.code}`, u);
    }
    const stamp = new Date(at ?? Date.now()).toISOString();
    return rooms.map((rc) => {
      const source = rc.area.length === 10 ? tpsUnitsByKey : areaUnits;
      const children = [...rc.units].map((u) => source.get(`${rc.contest}|${u}`)).filter((u): u is UnitTally => !!u);
      return {
        kind: 'delta', room: roomKey(rc.contest, rc.area), area: rc.area, contest: rc.contest, fromVersion: fromVersion(rc), version,
        tally: areaUnits.get(`${rc.contest}|${rc.area}`), children: Object.fromEntries(children.map((u) => [u.code, u])),
        tps: [...rc.tps.values()], at: stamp,
      };
    });
  }

  async function tick(): Promise<void> {
    if (closed) return;
    pending = false;
    const work = await sql.begin('isolation level repeatable read read only', async (tx) => {
      const changes = await changesSince(tx, emittedVersion, { limit: 20_000 });
      if (changes.length === 0) return null;
      socketAuth.noteChanges(changes);
      const head = Number(changes[changes.length - 1].version);
      const touched = [...roomsTouched(changes).values()];
      const rooms = touched.filter((r) => localRoomSize(roomKey(r.contest, r.area)) > 0);
      const at = changes[changes.length - 1].at;
      const from = (rc: RoomChanges) => roomAnnounced.get(roomKey(rc.contest, rc.area)) ?? startVersion;
      const deltas = rooms.length ? await buildDeltas(tx, rooms, from, head, at) : [];
      return { head, deltas, touched, more: changes.length === 20_000 };
    });
    if (work) {
      for (const d of work.deltas) {
        io.local.to(d.room).emit('delta', d);
        deltasSent++;
      }
      if (work.deltas.length) {
        // Server-side share of publish→screen latency (the bench reports it beside what clients see).
        const lag = Date.now() - Date.parse(work.deltas[0].at);
        emitLag.push(lag);
        if (emitLag.length > 10_000) emitLag.splice(0, emitLag.length - 10_000);
      }
      emittedVersion = work.head;
      for (const rc of work.touched) roomAnnounced.set(roomKey(rc.contest, rc.area), work.head);
      if (work.more) pending = true;
    }
    const anomalies = await anomaliesAfter(sql, anomalyCursor);
    for (const a of anomalies) {
      anomalyCursor = Math.max(anomalyCursor, Number(a.id));
      const event: AnomalyEvent = { id: Number(a.id), rule: a.rule, kind: a.kind, contestId: a.contestId, tpsCode: a.tpsCode, areaCode: a.areaCode, severity: Number(a.severity), detail: a.detail, at: new Date(a.createdAt).toISOString() };
      const chain = areaChain(a.tpsCode ?? a.areaCode);
      const targets = new Set<string>();
      const rooms = io.of('/').adapter.rooms;
      if (a.contestId) {
        // The rooms it concerns are known from its area chain: no scan of every room (with thousands
        // of sockets, the adapter's room map also holds one private room per socket).
        for (const area of chain) if (rooms.has(roomKey(a.contestId, area))) targets.add(roomKey(a.contestId, area));
      } else {
        for (const key of rooms.keys()) {
          const [, area] = key.split(':');
          if (area !== undefined && chain.includes(area)) targets.add(key);
        }
      }
      if (targets.size) io.local.to([...targets]).emit('anomaly', event);
    }
  }

  const runTick = () => {
    if (running) return running;
    lastTickAt = performance.now();
    running = tick()
      .catch((err) => {
        pending = true;
        log('realtime tick failed (will retry)', err);
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  // Coalescing: NOTIFY only marks work as pending; the timer turns pending work into at most one delta
  // per room per interval, whatever the form rate. A slow poll covers a lost NOTIFY (LISTEN reconnect).
  let sincePoll = 0;
  const timer = setInterval(() => {
    sincePoll += opts.deltaIntervalMs;
    if (pending || sincePoll >= 2000) {
      sincePoll = 0;
      void runTick();
    }
  }, opts.deltaIntervalMs);
  timer.unref();

  const listener = postgres(opts.url, { max: 1, onnotice: () => {} });
  // Leading edge: a change after a quiet spell goes out at once; during a burst the interval timer
  // still caps each room at one delta per interval (ticks never overlap, see runTick).
  const onChange = () => {
    pending = true;
    if (!running && performance.now() - lastTickAt >= opts.deltaIntervalMs) void runTick();
  };
  await listener.listen('rekap_changes', onChange, () => { pending = true; });
  // Findings and case changes (workers/cases/events.ts) → investigation rooms of every area above them.
  await listener.listen(INVESTIGATION_CHANNEL, (payload) => {
    for (const e of parseInvestigationPayload(payload)) {
      const code = e.tpsCode ?? (e.type === 'finding' ? e.areaCode : null);
      if (!code) continue;
      const targets = areaChain(code).map(investigationRoom).filter((r) => localRoomSize(r) > 0);
      if (targets.length) io.local.to(targets).emit('investigation', e as InvestigationEvent);
    }
  });

  // Thousands of viewers subscribe to a few dozen rooms: one snapshot read per room and version.
  const snapshots = new Map<string, { emitted: number; at: number; state: Promise<RoomSnapshot> }>();
  const validRooms = new Map<string, Promise<unknown>>();
  const checkRoom = (contest: string, area: string) => {
    const key = roomKey(contest, area);
    let p = validRooms.get(key);
    if (!p) {
      p = resolveRoom(sql, contest, area);
      validRooms.set(key, p);
      p.catch(() => validRooms.delete(key));
      if (validRooms.size > 10_000) validRooms.clear();
    }
    return p;
  };
  function snapshotOf(contest: string, area: string): Promise<RoomSnapshot> {
    const key = roomKey(contest, area);
    const hit = snapshots.get(key);
    if (hit && hit.emitted === emittedVersion && Date.now() - hit.at < 5000) return hit.state;
    const state = roomState(sql, contest, area).then((s): RoomSnapshot => ({
      kind: 'snapshot', room: key, area, contest, version: s.version, tally: s.tally,
      children: Object.fromEntries(s.children.map((c) => [c.unit.code, c.unit])), at: new Date().toISOString(),
    }));
    snapshots.set(key, { emitted: emittedVersion, at: Date.now(), state });
    state.catch(() => snapshots.delete(key));
    if (snapshots.size > 5000) snapshots.clear();
    return state;
  }

  async function catchUpOrSnapshot(contest: string, area: string, since: number | undefined): Promise<RoomSnapshot | (RoomDelta & { catchUp: true })> {
    if (since !== undefined && since >= 0) {
      const result = await sql.begin('isolation level repeatable read read only', async (tx) => {
        const changes = await changesSince(tx, since, { contestId: contest, area, limit: maxCatchUp + 1 });
        if (changes.length > maxCatchUp) return null;
        const head = await latestChangeVersion(tx);
        if (changes.length && Number(changes[0].version) <= since) return null;
        const rc = roomsTouched(changes).get(roomKey(contest, area)) ?? { contest, area, units: new Set<string>(), tps: new Map() };
        const [delta] = await buildDeltas(tx, [rc], () => since, head, changes.length ? changes[changes.length - 1].at : null);
        return { ...delta, catchUp: true as const };
      });
      if (result) return result;
    }
    return snapshotOf(contest, area);
  }

  io.on('connection', (socket: Socket<ClientToServerEvents, ServerToClientEvents>) => {
    socket.on('subscribe', async (req, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      try {
        const area = String(req?.area ?? '').replace(/\./g, '');
        const contest = String(req?.contest ?? '');
        if (!AREA_CODE.test(area)) throw new RoomError('invalid_area_code', `"${req?.area}" is not an area code`, 400);
        if (!contest) throw new RoomError('missing_contest', 'contest is required', 400);
        const since = req?.since === undefined || req?.since === null ? undefined : Number(req.since);
        if (since !== undefined && (!Number.isInteger(since) || since < 0)) throw new RoomError('invalid_since', 'since must be a non-negative integer version', 400);
        await checkRoom(contest, area);
        // Join, then read. Reading first left a gap: a delta emitted between the read and the join
        // was never seen, and a room that then went quiet never converged (found by the simulator).
        // After the join every delta reaches this socket; a read during which nothing was emitted
        // holds everything emitted before it, so read again only while deltas went out meanwhile.
        // The reply follows the last check with no await in between, so nothing slips past it.
        await socket.join(roomKey(contest, area));
        let seen = emittedVersion;
        let state = await catchUpOrSnapshot(contest, area, since);
        for (let i = 0; i < 5 && emittedVersion !== seen; i++) {
          seen = emittedVersion;
          state = await catchUpOrSnapshot(contest, area, since);
        }
        reply({ ok: true, state } satisfies SubscribeAck);
      } catch (err) {
        if (err instanceof RoomError) reply({ ok: false, error: { code: err.code, message: err.message } });
        else {
          log('subscribe failed', err);
          reply({ ok: false, error: { code: 'internal', message: 'subscribe failed; try again' } });
        }
      }
    });
    socket.on('subscribe-investigation', async (req, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const area = String(req?.area ?? '').replace(/\./g, '');
      if (!AREA_CODE.test(area)) return reply({ ok: false, error: { code: 'invalid_area_code', message: `"${req?.area}" is not an area code` } });
      const actor = (socket.data as { actor?: Actor | null }).actor ?? null;
      if (!actor) return reply({ ok: false, error: { code: 'unauthenticated', message: 'investigation rooms need a Bawaslu token (auth: { token })' } });
      if (!mayJoinInvestigation(actor, area)) return reply({ ok: false, error: { code: 'out_of_scope', message: `role ${actor.role} (scope ${actor.scopeCode ?? 'all'}) may not watch investigations of ${area}` } });
      await socket.join(investigationRoom(area));
      reply({ ok: true });
    });
    socket.on('unsubscribe-investigation', async (req, ack) => {
      await socket.leave(investigationRoom(String(req?.area ?? '')));
      if (typeof ack === 'function') ack({ ok: true });
    });
    socket.on('unsubscribe', async (req, ack) => {
      await socket.leave(roomKey(String(req?.contest ?? ''), String(req?.area ?? '')));
      if (typeof ack === 'function') ack({ ok: true });
    });
  });

  return {
    io,
    async flush() {
      if (running) await running;
      pending = true;
      await runTick();
    },
    stats: () => ({ emittedVersion, deltasSent, sockets: io.of('/').sockets.size, emitLagMs: [...emitLag] }),
    async close() {
      closed = true;
      clearInterval(timer);
      socketAuth.close();
      if (running) await running.catch(() => {});
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await listener.end({ timeout: 2 }).catch(() => {});
      await pool?.end().catch(() => {});
    },
  };
}
