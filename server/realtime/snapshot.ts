import type { Sql } from '../../db/client.js';
import type { Tx } from '../../db/repositories/audit.js';
import { childUnits, contestById, latestChangeVersion, tallyRows, tpsUnits, type TallyRecord, type TpsUnitRecord } from '../../db/repositories/feeds.js';
import { findArea } from '../../db/repositories/areas.js';
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

/** Validate a room and return its contest. */
export async function resolveRoom(sql: Tx, contestId: string, areaCode: string) {
  const contest = await contestById(sql, contestId);
  if (!contest) throw new RoomError('contest_not_found', `contest ${contestId} not found`);
  const area = await findArea(sql as unknown as Sql, areaCode);
  if (!area) throw new RoomError('area_not_found', `area ${areaCode} not found`);
  const inside = areaCode === '00' || areaCode.startsWith(contest.areaCode) || contest.areaCode.startsWith(areaCode);
  if (!inside) throw new RoomError('area_outside_contest', `area ${areaCode} is outside contest ${contestId} (${contest.areaCode})`, 400);
  return { contest, area };
}

async function readRoom(tx: Tx, contestId: string, areaCode: string, contestArea: string): Promise<RoomState> {
  const version = await latestChangeVersion(tx);
  const kids = await childUnits(tx, areaCode, contestArea);
  const [own] = await tallyRows(tx, contestId, [areaCode]);
  const tally = unitFromTally(own, areaCode);
  let children: RoomState['children'];
  if (areaCode.length === 10) {
    const tpsRows = await tpsUnits(tx, contestId, kids.map((k) => k.code));
    const byCode = new Map(tpsRows.map((t) => [t.code, t]));
    children = kids.map((k) => ({ unit: unitFromTps(byCode.get(k.code)!), name: k.name, level: k.level }));
  } else {
    const rows = await tallyRows(tx, contestId, kids.map((k) => k.code));
    const byCode = new Map(rows.map((r) => [r.code, r]));
    children = kids.map((k) => ({ unit: unitFromTally(byCode.get(k.code), k.code), name: k.name, level: k.level }));
  }
  return { version, tally, children };
}

/** Consistent state of one room at the change feed's current head. */
export async function roomState(sql: Sql, contestId: string, areaCode: string): Promise<RoomState & { contest: NonNullable<Awaited<ReturnType<typeof contestById>>>; area: NonNullable<Awaited<ReturnType<typeof findArea>>> }> {
  const { contest, area } = await resolveRoom(sql, contestId, areaCode);
  const state = await sql.begin('isolation level repeatable read read only', (tx) => readRoom(tx, contestId, areaCode, contest.areaCode));
  return { ...(state as RoomState), contest, area };
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
