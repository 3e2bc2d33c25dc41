import type { Sql } from '../client.js';

export const NATIONAL_CODE = '00';

export interface AreaRow { code: string; level: number; parentCode: string | null; name: string; lat: number | null; lon: number | null }

/** The TPS column that holds an area of this level's code (1 prov … 4 desa). */
const tpsColumnForLevel: Record<number, string> = { 1: 'prov_code', 2: 'kab_code', 3: 'kec_code', 4: 'desa_code' };

export async function findArea(sql: Sql, code: string): Promise<AreaRow | null> {
  if (code === NATIONAL_CODE) return { code, level: 0, parentCode: null, name: 'Indonesia', lat: -2.5, lon: 118 };
  const rows = await sql<AreaRow[]>`
    select code, level, parent_code as "parentCode", name, lat, lon from areas where code = ${code}`;
  return rows[0] ?? null;
}

/** Ancestors of a code, national first (codes are prefixes of their descendants: 62 → 6201 → 620101 → 6201011013). */
export async function areaPath(sql: Sql, code: string): Promise<AreaRow[]> {
  const prefixes = [2, 4, 6].filter((n) => code.length > n).map((n) => code.slice(0, n));
  const rows = prefixes.length
    ? await sql<AreaRow[]>`select code, level, parent_code as "parentCode", name, lat, lon from areas where code in ${sql(prefixes)} order by level`
    : [];
  const national = (await findArea(sql, NATIONAL_CODE))!;
  return code === NATIONAL_CODE ? [] : [national, ...rows];
}

// ---------- precomputed TPS counts ----------

/**
 * TPS counts per area at every level, computed once from one grouped scan and kept per database
 * handle. Counting TPS on each request cost ~0.5 s per kab/kota under load; the TPS register only
 * changes when `rekap seed` runs, so a copy that is at most COUNTS_TTL_MS old is served at once and
 * refreshed in the background (a re-seed shows up within a minute without a restart).
 */
const COUNTS_TTL_MS = 60_000;
interface CountsEntry { at: number; value: Promise<Map<string, number>> }
const countsCache = new WeakMap<Sql, CountsEntry>();

async function loadTpsCounts(sql: Sql): Promise<Map<string, number>> {
  const rows = await sql<{ desa: string; n: number }[]>`select desa_code as desa, count(*)::int as n from tps group by 1`;
  const counts = new Map<string, number>();
  let total = 0;
  for (const { desa, n } of rows) {
    total += n;
    // Codes are prefixes of their descendants: desa 6201011013 → kec 620101 → kab 6201 → prov 62.
    for (const code of [desa, desa.slice(0, 6), desa.slice(0, 4), desa.slice(0, 2)]) counts.set(code, (counts.get(code) ?? 0) + n);
  }
  counts.set(NATIONAL_CODE, total);
  return counts;
}

export async function tpsCounts(sql: Sql): Promise<Map<string, number>> {
  const hit = countsCache.get(sql);
  const now = Date.now();
  if (hit && now - hit.at < COUNTS_TTL_MS) return hit.value;
  const fresh: CountsEntry = { at: now, value: loadTpsCounts(sql) };
  fresh.value.catch(() => {
    if (countsCache.get(sql) === fresh) countsCache.delete(sql);
  });
  countsCache.set(sql, fresh);
  // Stale while revalidating: an old copy answers now, the new one serves the next request.
  if (hit) return hit.value.catch(() => fresh.value);
  return fresh.value;
}

/** Forget the cached counts (after seeding TPS in this process). */
export function invalidateTpsCounts(sql: Sql): void {
  countsCache.delete(sql);
}

/** Children of an area with their TPS counts, from the precomputed counts (no scan of `tps`). */
export async function childAreasWithCounts(sql: Sql, area: AreaRow): Promise<(AreaRow & { tpsCount: number })[]> {
  if (area.level >= 4) return [];
  const [counts, rows] = await Promise.all([
    tpsCounts(sql),
    area.level === 0
      ? sql<AreaRow[]>`select code, level, parent_code as "parentCode", name, lat, lon from areas where level = 1 order by code`
      : sql<AreaRow[]>`select code, level, parent_code as "parentCode", name, lat, lon from areas where parent_code = ${area.code} order by code`,
  ]);
  return rows.map((r) => ({ ...r, tpsCount: counts.get(r.code) ?? 0 }));
}

// ---------- polls closing time ----------

/**
 * Polls close at 13:00 local time (PKPU on voting hours: 07:00–13:00 at the TPS), in the TPS's own
 * zone. The hour belongs to the election, not to the screen that shows it, so it lives here with
 * the zones and every client reads the instant from the API.
 */
export const POLLS_CLOSE_LOCAL = '13:00';

/** Indonesia's three zones by province code (Kemendagri): WIB +7, WITA +8, WIT +9. */
const WITA = new Set(['51', '52', '53', '63', '64', '65', '71', '72', '73', '74', '75', '76']);
const WIT = new Set(['81', '82', '91', '92', '93', '94', '95', '96']);

export function timeZoneOfProvince(provCode: string): { name: 'WIB' | 'WITA' | 'WIT'; offsetHours: number } {
  const p = provCode.slice(0, 2);
  if (WIT.has(p)) return { name: 'WIT', offsetHours: 9 };
  if (WITA.has(p)) return { name: 'WITA', offsetHours: 8 };
  return { name: 'WIB', offsetHours: 7 };
}

/** The instant polls closed on `pollingDate` (YYYY-MM-DD) in the zone of `areaCode`'s province. */
export function pollsCloseAt(pollingDate: string, areaCode: string, closeLocal = POLLS_CLOSE_LOCAL): string {
  const { offsetHours } = timeZoneOfProvince(areaCode);
  const [h, m] = closeLocal.split(':').map(Number);
  const [y, mo, d] = pollingDate.split('-').map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h - offsetHours, m)).toISOString();
}

/** Polling date and covering area of every contest (real and practice), cached like the counts. */
const contestDatesCache = new WeakMap<Sql, { at: number; value: Promise<Map<string, { date: string; areaCode: string; practice: boolean }>> }>();
export async function contestDates(sql: Sql, opts: { fresh?: boolean } = {}): Promise<Map<string, { date: string; areaCode: string; practice: boolean }>> {
  const hit = contestDatesCache.get(sql);
  if (hit && !opts.fresh && Date.now() - hit.at < COUNTS_TTL_MS) return hit.value;
  const value = sql<{ id: string; date: string; areaCode: string; practice: boolean }[]>`
    select c.id, e.polling_date::text as date, c.area_code as "areaCode", e.is_practice as practice
    from contests c join elections e on e.id = c.election_id`.then((rows) => new Map(rows.map((r) => [r.id, { date: r.date, areaCode: r.areaCode, practice: r.practice }])));
  value.catch(() => contestDatesCache.delete(sql));
  contestDatesCache.set(sql, { at: Date.now(), value });
  return value;
}

// ---------- TPS not yet in ----------

export interface MissingTpsRow {
  code: string;
  number: number;
  desaCode: string;
  desaName: string;
  kecName: string;
  /** A photo was received but no result is current yet (reading or review pending). */
  uploaded: boolean;
}

/**
 * TPS of an area with no published or quarantined result in a contest ("belum masuk"), the list
 * the command centre chases. Ordered by code; `limit` caps the rows, `total` counts them all.
 */
export async function missingTps(sql: Sql, area: AreaRow, contest: { id: string; areaCode: string }, limit: number): Promise<{ total: number; rows: MissingTpsRow[] }> {
  const where = area.level === 0 ? sql`true` : sql`t.${sql(tpsColumnForLevel[area.level])} = ${area.code}`;
  // A kab/kota race seen from its province covers only that kab/kota's TPS.
  const inContest = contest.areaCode === NATIONAL_CODE ? sql`true` : sql`t.code like ${contest.areaCode + '%'}`;
  const contestId = contest.id;
  const rows = await sql<(MissingTpsRow & { total: number })[]>`
    select t.code, t.number, t.desa_code as "desaCode", d.name as "desaName", k.name as "kecName",
           exists (select 1 from submissions s where s.tps_code = t.code and s.contest_id = ${contestId}) as uploaded,
           count(*) over ()::int as total
    from tps t
    join areas d on d.code = t.desa_code
    join areas k on k.code = t.kec_code
    where ${where} and ${inContest}
      and not exists (select 1 from tps_results r where r.tps_code = t.code and r.contest_id = ${contestId} and r.is_current
                      and r.status in ('published', 'quarantined'))
    order by t.code
    limit ${limit}`;
  return { total: rows[0]?.total ?? 0, rows: rows.map(({ total: _t, ...r }) => r) };
}

/**
 * The same shape as talliesForArea (db/repositories/tallies.ts) for the practice election only
 * ("mode latihan"): its mirrored contests, never mixed with the real ones in one answer.
 */
export async function practiceTalliesForArea(sql: Sql, areaCode: string, expected: number) {
  const prefixes = [2, 4].filter((n) => areaCode.length >= n).map((n) => areaCode.slice(0, n));
  const contests = areaCode === NATIONAL_CODE
    ? await sql<{ id: string; name: string; type: 'pkwkp' | 'pkwkk' | 'ppwp' }[]>`
        select c.id, c.name, c.type from contests c join elections e on e.id = c.election_id where e.is_practice and c.type = 'pkwkp' order by c.id`
    : await sql<{ id: string; name: string; type: 'pkwkp' | 'pkwkk' | 'ppwp' }[]>`
        select c.id, c.name, c.type from contests c join elections e on e.id = c.election_id
        where e.is_practice and c.area_code in ${sql(prefixes)} order by length(c.area_code), c.id`;
  if (contests.length === 0) return { tallies: [], candidates: [] };
  const ids = contests.map((c) => c.id);
  const [rows, candidates] = await Promise.all([
    sql`select * from area_tallies where area_code = ${areaCode} and contest_id in ${sql(ids)}`,
    sql<{ id: string; contestId: string; number: number; headName: string; deputyName: string; colour: string; isEmptyColumn: boolean }[]>`
      select id, contest_id as "contestId", number, head_name as "headName", deputy_name as "deputyName", colour, is_empty_column as "isEmptyColumn"
      from candidates where contest_id in ${sql(ids)} order by contest_id, number`,
  ]);
  const byContest = new Map(rows.map((r) => [r.contest_id as string, r]));
  const tallies = contests.map((c) => {
    const r = byContest.get(c.id);
    return {
      contestId: c.id, contestName: c.name, contestType: c.type,
      votes: (r?.votes as Record<string, number>) ?? {},
      suaraSah: Number(r?.suara_sah ?? 0), suaraTidakSah: Number(r?.suara_tidak_sah ?? 0),
      tpsExpected: r ? Number(r.tps_expected) : expected,
      tpsPublished: Number(r?.tps_published ?? 0), tpsQuarantined: Number(r?.tps_quarantined ?? 0),
      quarantinedVotes: Number(r?.quarantined_votes ?? 0),
      votersRegistered: Number(r?.voters_registered ?? 0), votersUsed: Number(r?.voters_used ?? 0),
      version: Number(r?.version ?? 0), updatedAt: (r?.updated_at as Date | string | null) ?? null,
    };
  });
  return { tallies, candidates };
}
