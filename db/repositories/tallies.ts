import type { Sql } from '../client.js';

export interface TallyRow {
  contestId: string; contestName: string; contestType: 'pkwkp' | 'pkwkk' | 'ppwp';
  votes: Record<string, number>; suaraSah: number; suaraTidakSah: number;
  tpsExpected: number; tpsPublished: number; tpsQuarantined: number; quarantinedVotes: number;
  votersRegistered: number; votersUsed: number; version: number; updatedAt: Date | null;
}

export interface CandidateRow { id: string; contestId: string; number: number; headName: string; deputyName: string; colour: string; isEmptyColumn: boolean }

/**
 * Tallies of every contest that covers this area: the governor race of its province and the
 * bupati/walikota race of its kab/kota. Contests without a tally row yet show zeros with the
 * expected TPS count of the area.
 */
export async function talliesForArea(sql: Sql, areaCode: string, expectedByContest: (contestId: string) => number): Promise<{ tallies: TallyRow[]; candidates: CandidateRow[] }> {
  const prefixes = [2, 4].filter((n) => areaCode.length >= n).map((n) => areaCode.slice(0, n));
  const contests = areaCode === '00'
    ? await sql`select c.id, c.name, c.type from contests c join elections e on e.id = c.election_id where not e.is_practice and c.type = 'pkwkp' order by c.id`
    : prefixes.length
      ? await sql`select c.id, c.name, c.type from contests c join elections e on e.id = c.election_id where not e.is_practice and c.area_code in ${sql(prefixes)} order by length(c.area_code), c.id`
      : [];
  if (contests.length === 0) return { tallies: [], candidates: [] };
  const ids = contests.map((c) => c.id as string);
  const rows = await sql`select * from area_tallies where area_code = ${areaCode} and contest_id in ${sql(ids)}`;
  const byContest = new Map(rows.map((r) => [r.contest_id as string, r]));
  const candidates = await sql<CandidateRow[]>`
    select id, contest_id as "contestId", number, head_name as "headName", deputy_name as "deputyName", colour, is_empty_column as "isEmptyColumn"
    from candidates where contest_id in ${sql(ids)} order by contest_id, number`;
  const tallies = contests.map((c): TallyRow => {
    const r = byContest.get(c.id);
    return {
      contestId: c.id, contestName: c.name, contestType: c.type,
      votes: (r?.votes as Record<string, number>) ?? {},
      suaraSah: Number(r?.suara_sah ?? 0), suaraTidakSah: Number(r?.suara_tidak_sah ?? 0),
      tpsExpected: r ? Number(r.tps_expected) : expectedByContest(c.id),
      tpsPublished: Number(r?.tps_published ?? 0), tpsQuarantined: Number(r?.tps_quarantined ?? 0),
      quarantinedVotes: Number(r?.quarantined_votes ?? 0),
      votersRegistered: Number(r?.voters_registered ?? 0), votersUsed: Number(r?.voters_used ?? 0),
      version: Number(r?.version ?? 0), updatedAt: r?.updated_at ?? null,
    };
  });
  return { tallies, candidates };
}
