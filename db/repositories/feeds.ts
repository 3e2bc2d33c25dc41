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
