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

export async function childAreasWithTpsCounts(sql: Sql, area: AreaRow) {
  const childLevel = area.level + 1;
  if (childLevel > 4) return [];
  const column = tpsColumnForLevel[childLevel];
  const parentFilter = area.level === 0 ? sql`a.level = 1` : sql`a.parent_code = ${area.code}`;
  return sql<(AreaRow & { tpsCount: number })[]>`
    select a.code, a.level, a.parent_code as "parentCode", a.name, a.lat, a.lon, coalesce(t.n, 0)::int as "tpsCount"
    from areas a
    left join (select ${sql(column)} as code, count(*) as n from tps
               ${area.level === 0 ? sql`` : sql`where ${sql(tpsColumnForLevel[area.level])} = ${area.code}`}
               group by 1) t on t.code = a.code
    where ${parentFilter}
    order by a.code`;
}

export async function tpsCountIn(sql: Sql, area: AreaRow): Promise<number> {
  if (area.level === 0) return Number((await sql`select count(*)::int as n from tps`)[0].n);
  const rows = await sql`select count(*)::int as n from tps where ${sql(tpsColumnForLevel[area.level])} = ${area.code}`;
  return Number(rows[0].n);
}
