import type { Sql } from '../client.js';
import type { Tx } from './audit.js';
import { NATIONAL_CODE } from './areas.js';

/** Read side of results: tallies of an area and its children, TPS rows of a desa, the change feed. */

export interface TallyRecord {
  code: string; votes: Record<string, number>; suaraSah: number; suaraTidakSah: number; tpsExpected: number;
  tpsPublished: number; tpsQuarantined: number; quarantinedVotes: number; votersRegistered: number; votersUsed: number;
  version: number; updatedAt: Date | null;
}

export interface TpsUnitRecord {
  code: string; status: 'published' | 'quarantined' | 'incomplete' | null; resultVersion: number | null; stage: string | null;
  votes: Record<string, number>; suaraSah: number | null; suaraTidakSah: number | null; values: Record<string, number>;
  votersL: number; votersP: number; changeVersion: number; updatedAt: Date | null;
}

const tallyColumns = (sql: Tx) => sql`
  area_code as code, votes, suara_sah as "suaraSah", suara_tidak_sah as "suaraTidakSah", tps_expected as "tpsExpected",
  tps_published as "tpsPublished", tps_quarantined as "tpsQuarantined", quarantined_votes as "quarantinedVotes",
  voters_registered as "votersRegistered", voters_used as "votersUsed", version, updated_at as "updatedAt"`;

export async function tallyRows(sql: Tx, contestId: string, codes: string[]): Promise<TallyRecord[]> {
  if (codes.length === 0) return [];
  return sql<TallyRecord[]>`select ${tallyColumns(sql)} from area_tallies where contest_id = ${contestId} and area_code in ${sql(codes)}`;
}

/** Child area codes (or TPS codes for a desa) of an area within a contest's territory, with names. */
export async function childUnits(sql: Tx, areaCode: string, contestAreaCode: string): Promise<{ code: string; name: string; level: number }[]> {
  if (areaCode.length === 10) {
    return sql<{ code: string; name: string; level: number }[]>`
      select code, 'TPS ' || lpad(number::text, 3, '0') as name, 5 as level from tps where desa_code = ${areaCode} order by code`;
  }
  if (areaCode === NATIONAL_CODE) {
    return sql<{ code: string; name: string; level: number }[]>`
      select code, name, level from areas where level = 1 and ${contestAreaCode} like code || '%' order by code`;
  }
  return sql<{ code: string; name: string; level: number }[]>`
    select code, name, level from areas where parent_code = ${areaCode}
      and (code like ${contestAreaCode + '%'} or ${contestAreaCode} like code || '%') order by code`;
}

export async function tpsUnits(sql: Tx, contestId: string, codes: string[]): Promise<TpsUnitRecord[]> {
  if (codes.length === 0) return [];
  return sql<TpsUnitRecord[]>`
    select t.code, r.status, r.version as "resultVersion", r.stage, coalesce(r.votes, '{}'::jsonb) as votes,
           r.suara_sah as "suaraSah", r.suara_tidak_sah as "suaraTidakSah", coalesce(r.values, '{}'::jsonb) as values,
           t.voters_l as "votersL", t.voters_p as "votersP",
           coalesce((select max(version) from changes c where c.tps_code = t.code and c.contest_id = ${contestId}), 0) as "changeVersion",
           r.created_at as "updatedAt"
    from tps t left join tps_results r on r.tps_code = t.code and r.contest_id = ${contestId} and r.is_current
    where t.code in ${sql(codes)} order by t.code`;
}

export async function latestChangeVersion(sql: Tx): Promise<number> {
  const [r] = await sql<{ v: number | null }[]>`select max(version) as v from changes`;
  return Number(r?.v ?? 0);
}

export interface ChangeRecord { version: number; contestId: string; tpsCode: string; areaCodes: string[]; kind: string; status: string | null; resultVersion: number | null; at: Date }

export async function changesSince(sql: Tx, since: number, opts: { contestId?: string; area?: string; limit?: number } = {}): Promise<ChangeRecord[]> {
  const limit = Math.min(opts.limit ?? 1000, 10_000);
  return sql<ChangeRecord[]>`
    select version, contest_id as "contestId", tps_code as "tpsCode", area_codes as "areaCodes", kind, status,
           result_version as "resultVersion", at
    from changes
    where version > ${since}
      ${opts.contestId ? sql`and contest_id = ${opts.contestId}` : sql``}
      ${opts.area && opts.area !== NATIONAL_CODE ? sql`and ${opts.area} = any(area_codes)` : sql``}
    order by version limit ${limit}`;
}

export async function contestById(sql: Tx, id: string) {
  const [c] = await sql<{ id: string; name: string; type: 'pkwkp' | 'pkwkk' | 'ppwp'; areaCode: string; electionId: string }[]>`
    select id, name, type, area_code as "areaCode", election_id as "electionId" from contests where id = ${id}`;
  return c ?? null;
}

export async function candidatesOf(sql: Tx, contestId: string) {
  return sql<{ id: string; number: number; headName: string; deputyName: string; colour: string; isEmptyColumn: boolean }[]>`
    select id, number, head_name as "headName", deputy_name as "deputyName", colour, is_empty_column as "isEmptyColumn"
    from candidates where contest_id = ${contestId} order by number`;
}

/** Anomalies newer than an id (live events), oldest first. */
export async function anomaliesAfter(sql: Sql, afterId: number, limit = 500) {
  return sql<{ id: number; rule: string; kind: string; contestId: string | null; tpsCode: string | null; areaCode: string; severity: number; detail: unknown; createdAt: Date; updatedAt: Date }[]>`
    select id, rule, kind, contest_id as "contestId", tps_code as "tpsCode", area_code as "areaCode", severity, detail,
           created_at as "createdAt", updated_at as "updatedAt"
    from anomalies where id > ${afterId} order by id limit ${limit}`;
}

export async function maxAnomalyId(sql: Sql): Promise<number> {
  const [r] = await sql<{ v: number | null }[]>`select max(id) as v from anomalies`;
  return Number(r?.v ?? 0);
}

export interface RoomRows {
  head: number;
  /** The room's cache validator: its tally row's version and xmin ('none' before the row exists). */
  tag: string;
  own: TallyRecord | null;
  kids: { code: string; name: string; level: number; tally: TallyRecord | null; tps: TpsUnitRecord | null }[];
}

const tallyJson = (t: string) => `json_build_object('code', ${t}.area_code, 'votes', ${t}.votes, 'suaraSah', ${t}.suara_sah, 'suaraTidakSah', ${t}.suara_tidak_sah,
  'tpsExpected', ${t}.tps_expected, 'tpsPublished', ${t}.tps_published, 'tpsQuarantined', ${t}.tps_quarantined, 'quarantinedVotes', ${t}.quarantined_votes,
  'votersRegistered', ${t}.voters_registered, 'votersUsed', ${t}.voters_used, 'version', ${t}.version, 'updatedAt', ${t}.updated_at)`;

/**
 * Everything a room snapshot needs in ONE statement (one round trip, one MVCC snapshot, so the feed
 * head, the room's own tally and its children are consistent without an explicit transaction): the
 * area's tally row and its children's rows by primary key, or for a desa its TPS (tps_desa_idx) with
 * their current results (tps_results_current_uq) and latest change (changes_tps_idx). No aggregation.
 */
export async function roomRows(sql: Tx, contestId: string, areaCode: string, contestAreaCode: string): Promise<RoomRows> {
  const kids = areaCode.length === 10
    ? sql`
      select coalesce(json_agg(json_build_object('code', t.code, 'name', 'TPS ' || lpad(t.number::text, 3, '0'), 'level', 5, 'tally', null,
        'tps', json_build_object('code', t.code, 'status', r.status, 'resultVersion', r.version, 'stage', r.stage, 'votes', coalesce(r.votes, '{}'::jsonb),
          'suaraSah', r.suara_sah, 'suaraTidakSah', r.suara_tidak_sah, 'values', coalesce(r.values, '{}'::jsonb), 'votersL', t.voters_l, 'votersP', t.voters_p,
          'changeVersion', coalesce((select max(c.version) from changes c where c.tps_code = t.code and c.contest_id = ${contestId}), 0), 'updatedAt', r.created_at))
        order by t.code), '[]'::json)
      from tps t left join tps_results r on r.tps_code = t.code and r.contest_id = ${contestId} and r.is_current
      where t.desa_code = ${areaCode}`
    : sql`
      select coalesce(json_agg(json_build_object('code', a.code, 'name', a.name, 'level', a.level, 'tps', null,
        'tally', case when k.area_code is null then null else ${sql.unsafe(tallyJson('k'))} end) order by a.code), '[]'::json)
      from areas a left join area_tallies k on k.contest_id = ${contestId} and k.area_code = a.code
      where ${areaCode === NATIONAL_CODE
        ? sql`a.level = 1 and ${contestAreaCode} like a.code || '%'`
        : sql`a.parent_code = ${areaCode} and (a.code like ${contestAreaCode + '%'} or ${contestAreaCode} like a.code || '%')`}`;
  const [row] = await sql<{ head: string | null; tag: string | null; own: TallyRecord | null; kids: RoomRows['kids'] }[]>`
    select (select max(version) from changes)::text as head,
           (select o.version::text || '.' || o.xmin::text from area_tallies o where o.contest_id = ${contestId} and o.area_code = ${areaCode}) as tag,
           (select ${sql.unsafe(tallyJson('o'))} from area_tallies o where o.contest_id = ${contestId} and o.area_code = ${areaCode}) as own,
           (${kids}) as kids`;
  return { head: Number(row?.head ?? 0), tag: row?.tag ?? 'none', own: row?.own ?? null, kids: row?.kids ?? [] };
}
