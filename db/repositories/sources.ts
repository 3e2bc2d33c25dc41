import type postgres from 'postgres';

export type Tx = postgres.ISql;

export interface SourceResultInput {
  source: string;
  tpsCode: string;
  contestId: string;
  values: Record<string, number>;
  sourceTs: string | null;
  importedFrom: string | null;
}

/**
 * Store another source's numbers for a TPS (e.g. KPU's Sirekap JSON as "kpu"). Keyed by
 * (source, TPS, contest); a row whose values and timestamp are unchanged is left untouched, so
 * importing the same file twice changes nothing. Returns how many rows were inserted / updated.
 */
export async function upsertSourceResults(tx: Tx, rows: readonly SourceResultInput[]): Promise<{ inserted: number; updated: number; unchanged: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const byKey = new Map(rows.map((r) => [`${r.source}|${r.tpsCode}|${r.contestId}`, r]));
  const list = [...byKey.values()];
  const res = await tx<{ inserted: boolean }[]>`
    insert into source_results as s (source, tps_code, contest_id, values, source_ts, imported_from)
    select * from unnest(${list.map((r) => r.source)}::text[], ${list.map((r) => r.tpsCode)}::text[], ${list.map((r) => r.contestId)}::text[],
      ${list.map((r) => JSON.stringify(r.values))}::jsonb[], ${list.map((r) => r.sourceTs)}::text[], ${list.map((r) => r.importedFrom)}::text[])
    on conflict (source, tps_code, contest_id) do update set
      values = excluded.values, source_ts = excluded.source_ts, imported_from = excluded.imported_from, imported_at = now()
    where s.values is distinct from excluded.values or s.source_ts is distinct from excluded.source_ts
    returning (xmax = 0) as inserted`;
  const inserted = res.filter((r) => r.inserted).length;
  return { inserted, updated: res.length - inserted, unchanged: list.length - res.length };
}

export interface SourceResultRow { source: string; tpsCode: string; contestId: string; values: Record<string, number>; sourceTs: string | null; importedFrom: string | null; importedAt: Date }

export async function sourceResultsOfTps(sql: Tx, tpsCode: string, contestId: string): Promise<SourceResultRow[]> {
  return sql<SourceResultRow[]>`
    select source, tps_code as "tpsCode", contest_id as "contestId", values, source_ts as "sourceTs",
           imported_from as "importedFrom", imported_at as "importedAt"
    from source_results where tps_code = ${tpsCode} and contest_id = ${contestId} order by source`;
}

/** Current photo-read values (rekap's own tps_results) for these TPS of a contest, for M1. */
export async function currentReadValues(sql: Tx, contestId: string, tpsCodes: string[]): Promise<Map<string, { values: Record<string, number>; version: number; desaCode: string | null }>> {
  if (tpsCodes.length === 0) return new Map();
  const rows = await sql<{ tpsCode: string; values: Record<string, number>; version: number; desaCode: string | null }[]>`
    select r.tps_code as "tpsCode", r.values, r.version, t.desa_code as "desaCode"
    from tps_results r left join tps t on t.code = r.tps_code
    where r.contest_id = ${contestId} and r.is_current and r.tps_code in ${sql(tpsCodes)}`;
  return new Map(rows.map((r) => [r.tpsCode, r]));
}

/**
 * The Pemilu 2024 presidential race that imported Sirekap PPWP records belong to, created if missing
 * (election `pemilu-2024`, contest `ppwp`, the three pairs). The contest hangs on the province of the
 * first imported TPS because contests reference a real area row and the national level has none.
 */
export async function ensurePpwpContest(tx: Tx, opts: { provCode: string; candidates: readonly { id: string; number: number; headName: string; deputyName: string; colour: string }[] }): Promise<{ contestId: string; created: boolean }> {
  const [existing] = await tx<{ id: string }[]>`select id from contests where id = 'ppwp'`;
  let created = false;
  if (!existing) {
    const [area] = await tx<{ code: string }[]>`select code from areas where code = ${opts.provCode}`;
    if (!area) throw new Error(`area ${opts.provCode} is not in the database: seed areas first (rekap seed)`);
    await tx`insert into elections (id, name, kind, polling_date) values ('pemilu-2024', 'Pemilu 2024', 'pemilu', '2024-02-14') on conflict (id) do nothing`;
    await tx`insert into contests (id, election_id, type, area_code, name, tps_expected)
             values ('ppwp', 'pemilu-2024', 'ppwp', ${opts.provCode}, 'Pemilu 2024 Presiden dan Wakil Presiden (PPWP)', 0) on conflict (id) do nothing`;
    created = true;
  }
  for (const c of opts.candidates)
    await tx`insert into candidates (id, contest_id, number, head_name, deputy_name, colour, is_empty_column)
             values (${c.id}, 'ppwp', ${c.number}, ${c.headName}, ${c.deputyName}, ${c.colour}, false) on conflict do nothing`;
  return { contestId: 'ppwp', created };
}
