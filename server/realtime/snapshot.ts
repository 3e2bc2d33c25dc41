import type { Sql } from '../../db/client.js';
import type { Tx } from '../../db/repositories/audit.js';
import { contestById, roomRows, tallyRows, tpsUnits, type TallyRecord, type TpsUnitRecord } from '../../db/repositories/feeds.js';
import { findArea, tpsCounts } from '../../db/repositories/areas.js';
import type { UnitTally } from '../contract/index.js';

/**
 * Turning stored tallies into the contract's UnitTally, and consistent snapshots of one room
 * (area + contest). A snapshot is read in one REPEATABLE READ transaction together with the change
 * feed's head, so "state at version v" is exact: every change ≤ v is in it and none after.
 */

export function unitFromTally(r: TallyRecord | undefined, code: string, expectedFallback = 0): UnitTally {
  const registered = Number(r?.votersRegistered ?? 0);
  const used = Number(r?.votersUsed ?? 0);
  const expected = Number(r?.tpsExpected ?? expectedFallback);
  const published = Number(r?.tpsPublished ?? 0);
  const quarantined = Number(r?.tpsQuarantined ?? 0);
  return {
    code,
    votes: Object.fromEntries(Object.entries(r?.votes ?? {}).map(([k, v]) => [k, Number(v)])),
    suaraSah: Number(r?.suaraSah ?? 0),
    suaraTidakSah: Number(r?.suaraTidakSah ?? 0),
    tpsExpected: expected,
    tpsPublished: published,
    tpsQuarantined: quarantined,
    tpsMissing: Math.max(0, expected - published - quarantined),
    quarantinedVotes: Number(r?.quarantinedVotes ?? 0),
    votersRegistered: registered,
    votersUsed: used,
    turnout: registered > 0 ? used / registered : null,
    version: Number(r?.version ?? 0),
    updatedAt: r?.updatedAt ? new Date(r.updatedAt).toISOString() : null,
  };
}

/** A TPS as a unit of its desa: its own numbers count only when published, like the aggregates. */
export function unitFromTps(t: TpsUnitRecord): UnitTally {
  const published = t.status === 'published';
  const quarantined = t.status === 'quarantined';
  const total = typeof t.values.suara_total === 'number' ? t.values.suara_total : (t.suaraSah ?? 0) + (t.suaraTidakSah ?? 0);
  const registered = published ? t.votersL + t.votersP : 0;
  const used = published ? (typeof t.values.pengguna_total_j === 'number' ? t.values.pengguna_total_j : total) : 0;
  return {
    code: t.code,
    votes: published ? Object.fromEntries(Object.entries(t.votes).map(([k, v]) => [k, Number(v)])) : {},
    suaraSah: published ? (t.suaraSah ?? 0) : 0,
    suaraTidakSah: published ? (t.suaraTidakSah ?? 0) : 0,
    tpsExpected: 1,
    tpsPublished: published ? 1 : 0,
    tpsQuarantined: quarantined ? 1 : 0,
    tpsMissing: published || quarantined ? 0 : 1,
    quarantinedVotes: quarantined ? total : 0,
    votersRegistered: registered,
    votersUsed: used,
    turnout: registered > 0 ? used / registered : null,
    version: Number(t.changeVersion ?? 0),
    updatedAt: t.updatedAt ? new Date(t.updatedAt).toISOString() : null,
    ...(t.status ? { status: t.status, resultVersion: t.resultVersion ?? undefined, stage: (t.stage ?? undefined) as UnitTally['stage'] } : {}),
  };
}

export interface RoomState {
  version: number;
  tally: UnitTally;
  children: { unit: UnitTally; name: string; level: number }[];
}

export class RoomError extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 404) {
    super(message);
  }
}

/**
 * Rooms are validated on every subscribe and every public read; contests and areas do not change during
 * a night, so a validated room is remembered (per database handle) instead of costing two queries each time.
 */
type ResolvedRoom = { contest: NonNullable<Awaited<ReturnType<typeof contestById>>>; area: NonNullable<Awaited<ReturnType<typeof findArea>>> };
const RESOLVED_TTL_MS = 10 * 60_000;
const MAX_CACHED_ROOMS = 20_000;
const resolvedCache = new WeakMap<object, Map<string, { at: number; room: ResolvedRoom }>>();

function cacheOf<V>(store: WeakMap<object, Map<string, V>>, sql: object): Map<string, V> {
  let m = store.get(sql);
  if (!m) store.set(sql, (m = new Map()));
  return m;
}

/** Insert with a bound: the oldest entries go first (Map keeps insertion order; a hit re-inserts). */
function remember<V>(m: Map<string, V>, key: string, value: V) {
  m.delete(key);
  m.set(key, value);
  while (m.size > MAX_CACHED_ROOMS) m.delete(m.keys().next().value as string);
}

/** Validate a room and return its contest. */
export async function resolveRoom(sql: Tx, contestId: string, areaCode: string): Promise<ResolvedRoom> {
  const cache = cacheOf(resolvedCache, sql);
  const key = `${contestId}|${areaCode}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < RESOLVED_TTL_MS) return hit.room;
  const contest = await contestById(sql, contestId);
  if (!contest) throw new RoomError('contest_not_found', `contest ${contestId} not found`);
  const area = await findArea(sql as unknown as Sql, areaCode);
  if (!area) throw new RoomError('area_not_found', `area ${areaCode} not found`);
  const inside = areaCode === '00' || areaCode.startsWith(contest.areaCode) || contest.areaCode.startsWith(areaCode);
  if (!inside) throw new RoomError('area_outside_contest', `area ${areaCode} is outside contest ${contestId} (${contest.areaCode})`, 400);
  remember(cache, key, { at: Date.now(), room: { contest, area } });
  return { contest, area };
}

/** One room, read in one statement (`roomRows`): consistent at the head it reports. */
async function readRoom(sql: Tx, contestId: string, areaCode: string, contestArea: string): Promise<RoomState & { tag: string }> {
  const rows = await roomRows(sql, contestId, areaCode, contestArea);
  // An area gets its tally row with its first publish; until then "x dari y TPS" still needs y, from
  // the register's TPS count (cached per process). Above the contest's area, only its TPS count.
  const noRow = !rows.own || rows.kids.some((k) => !k.tps && !k.tally);
  const counts = noRow ? await tpsCounts(sql as unknown as Sql) : null;
  const expected = (code: string) => counts?.get(contestArea.startsWith(code) ? contestArea : code) ?? 0;
  const tally = unitFromTally(rows.own ?? undefined, areaCode, expected(areaCode));
  const children = rows.kids.map((k) => ({
    unit: k.tps ? unitFromTps(k.tps) : unitFromTally(k.tally ?? undefined, k.code, expected(k.code)),
    name: k.name,
    level: k.level,
  }));
  return { version: rows.head, tally, children, tag: rows.tag };
}

/**
 * The room's cache validator and the feed head, in one statement (one snapshot, one round trip by primary
 * key). Every publish rewrites the tally row of each of the five areas a TPS belongs to (new `version` =
 * the change's feed version, new `xmin`), so an unchanged validator means nothing under this room changed:
 * its children included, and the TPS of a desa, whose every change goes through its desa's tally row.
 */
async function roomHead(sql: Tx, contestId: string, areaCode: string): Promise<{ head: number; tag: string }> {
  const [r] = await sql<{ head: string | null; tag: string | null }[]>`
    select (select max(version) from changes)::text as head,
           (select version::text || '.' || xmin::text from area_tallies where contest_id = ${contestId} and area_code = ${areaCode}) as tag`;
  return { head: Number(r?.head ?? 0), tag: r?.tag ?? 'none' };
}

/**
 * Snapshots kept per (contest, area) with the validator they were read at: a read whose validator still
 * matches costs one primary-key lookup and no aggregation; the serialised public JSON is kept beside it.
 */
interface CachedRoom { tag: string; at: number; state: RoomState; json?: string }
const roomCache = new WeakMap<object, Map<string, CachedRoom>>();
/** Belt and braces for writes that bypass the publish path (`recount --write` fixing drift in place). */
const ROOM_MAX_AGE_MS = 60_000;
export const snapshotCacheStats = { hits: 0, misses: 0 };

/** Forget every cached snapshot (after tallies were rewritten outside the publish path). */
export function clearSnapshotCache(sql: object) {
  roomCache.get(sql)?.clear();
}

async function cachedRoom(sql: Sql, contestId: string, areaCode: string, contestArea: string): Promise<{ entry: CachedRoom; head: number }> {
  const cache = cacheOf(roomCache, sql);
  const key = `${contestId}|${areaCode}`;
  const { head, tag } = await roomHead(sql, contestId, areaCode);
  const hit = cache.get(key);
  if (hit && hit.tag === tag && Date.now() - hit.at < ROOM_MAX_AGE_MS) {
    snapshotCacheStats.hits++;
    return { entry: hit, head };
  }
  snapshotCacheStats.misses++;
  const state = await readRoom(sql, contestId, areaCode, contestArea);
  const { tag: readTag, ...rest } = state as RoomState & { tag: string };
  const entry: CachedRoom = { tag: readTag, at: Date.now(), state: rest };
  remember(cache, key, entry);
  return { entry, head: Math.max(head, rest.version) };
}

/**
 * Consistent state of one room at the change feed's current head. Served from the per-room cache when
 * its validator is unchanged: the state at the cached read's version is then also the state at the head
 * (no change since touched the room), so the head is reported as the version.
 */
export async function roomState(sql: Sql, contestId: string, areaCode: string): Promise<RoomState & ResolvedRoom> {
  const { contest, area } = await resolveRoom(sql, contestId, areaCode);
  const { entry, head } = await cachedRoom(sql, contestId, areaCode, contest.areaCode);
  return { ...entry.state, version: Math.max(head, entry.state.version), contest, area };
}

/**
 * The public results document of a room, serialised once per room version. `etag` changes exactly when
 * the room's numbers change (not with every unrelated publish), so a CDN or browser revalidates cheaply;
 * the body's `version` is the feed head at the read (what to pass as `since`), spliced in without
 * re-serialising. `build` turns the state into the document (the route adds candidates and names).
 */
export async function roomJson(sql: Sql, contestId: string, areaCode: string, build: (state: RoomState & ResolvedRoom) => Promise<object>): Promise<{ etag: string; json: string; version: number }> {
  const { contest, area } = await resolveRoom(sql, contestId, areaCode);
  const { entry, head } = await cachedRoom(sql, contestId, areaCode, contest.areaCode);
  if (entry.json === undefined) {
    const { version: _drop, ...doc } = (await build({ ...entry.state, contest, area })) as { version?: number };
    entry.json = JSON.stringify(doc);
  }
  const version = Math.max(head, entry.state.version);
  const json = entry.json === '{}' ? `{"version":${version}}` : `{"version":${version},${entry.json.slice(1)}`;
  return { etag: `${contestId}-${areaCode}-${entry.tag}`, json, version };
}

/** New full values of the given units of one room (for deltas), read in one snapshot. */
export async function unitsOf(tx: Tx, contestId: string, areaCode: string, codes: string[]): Promise<UnitTally[]> {
  if (codes.length === 0) return [];
  if (areaCode.length === 10) {
    const tpsCodes = codes.filter((c) => c.length === 13);
    return (await tpsUnits(tx, contestId, tpsCodes)).map(unitFromTps);
  }
  const rows = await tallyRows(tx, contestId, codes);
  const byCode = new Map(rows.map((r) => [r.code, r]));
  return codes.map((c) => unitFromTally(byCode.get(c), c));
}
