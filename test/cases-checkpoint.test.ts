// A statistical checkpoint over the real database: published results of a synthetic election on the
// seeded Kalimantan Tengah TPS → findings → cases; idempotent; a corrected TPS's statistic retires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { runStatisticalCheckpoint } from '../workers/cases/checkpoint.js';
import { generateElection, type Universe } from '../workers/detectors/synthetic.js';


describe('statistical checkpoint on PostgreSQL', () => {
  let db: TestDatabase;
  let universe: Universe;
  let contestIds: string[];
  let swapped: { tpsCode: string; contestId: string; original: Record<string, number> };

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    const tps = await db.sql<{ code: string; desaCode: string; kecCode: string; kabCode: string; provCode: string; registered: number }[]>`
      select code, desa_code as "desaCode", kec_code as "kecCode", kab_code as "kabCode", prov_code as "provCode", voters_l + voters_p as registered
      from tps where prov_code = '62' order by code`;
    const contests = await db.sql<{ id: string; type: 'pkwkp' | 'pkwkk'; areaCode: string; candidates: string[] }[]>`
      select c.id, c.type, c.area_code as "areaCode", array_agg(k.id order by k.number) as candidates
      from contests c join candidates k on k.contest_id = c.id join elections e on e.id = c.election_id
      where not e.is_practice and c.area_code like '62%' group by c.id, c.type, c.area_code order by c.id`;
    universe = { tps: tps.map((t) => ({ ...t, registered: Number(t.registered) })), contests: contests.map((c) => ({ ...c })) };
    contestIds = contests.map((c) => c.id);
    const election = generateElection(universe, 77);
    const byContest = new Map(universe.contests.map((c) => [c.id, c]));
    // Swap the most and least voted pairs at a TPS where that moves at least 40% of the valid votes
    // (a swap between two similar results is invisible to any share test).
    const target = election.results.find((r) => {
      const v = byContest.get(r.contestId)!.candidates.map((c) => r.values[c]);
      return r.contestId === 'pkwkp-62' && r.values.suara_sah >= 150 && Math.max(...v) - Math.min(...v) >= 0.4 * r.values.suara_sah;
    })!;
    swapped = { tpsCode: target.tpsCode, contestId: target.contestId, original: { ...target.values } };
    const cands = [...byContest.get(target.contestId)!.candidates].sort((a, b) => target.values[b] - target.values[a]);
    [target.values[cands[0]], target.values[cands.at(-1)!]] = [target.values[cands.at(-1)!], target.values[cands[0]]];
    const rows = election.results.map((r) => {
      const votes = Object.fromEntries(byContest.get(r.contestId)!.candidates.map((c) => [c, r.values[c]]));
      return { tps: r.tpsCode, contest: r.contestId, values: JSON.stringify(r.values), votes: JSON.stringify(votes), sah: String(r.values.suara_sah), ts: String(r.values.suara_tidak_sah) };
    });
    for (let i = 0; i < rows.length; i += 2000) {
      const b = rows.slice(i, i + 2000);
      await db.sql`insert into tps_results (tps_code, contest_id, version, stage, status, is_current, values, votes, suara_sah, suara_tidak_sah, rules)
        select t, c, 1, 'machine', 'published', true, v::jsonb, vo::jsonb, s::int, x::int, '[]'::jsonb
        from unnest(${b.map((r) => r.tps)}::text[], ${b.map((r) => r.contest)}::text[], ${b.map((r) => r.values)}::text[],
                    ${b.map((r) => r.votes)}::text[], ${b.map((r) => r.sah)}::text[], ${b.map((r) => r.ts)}::text[]) as u(t, c, v, vo, s, x)`;
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  it('finds the swapped TPS, opens its case, and stays quiet elsewhere', async () => {
    expect(universe.tps.length).toBe(4446);
    const out = await runStatisticalCheckpoint(db.sql, contestIds);
    expect(out.records).toBe(universe.tps.length * 2);
    expect(out.findings).toBeLessThanOrEqual(6); // the plant plus at most 5 false alarms
    const [f] = await db.sql`select rule, status from anomalies where tps_code = ${swapped.tpsCode} and contest_id = ${swapped.contestId} and rule = 'SIBLING'`;
    expect(f).toMatchObject({ rule: 'SIBLING', status: 'active' });
    const [c] = await db.sql`select state, finding_count from cases where tps_code = ${swapped.tpsCode} and contest_id = ${swapped.contestId}`;
    expect(c).toMatchObject({ state: 'OPEN' });
  });

  it('is idempotent, and retires the finding once the TPS is corrected', async () => {
    const again = await runStatisticalCheckpoint(db.sql, contestIds);
    expect(again.fresh).toBe(0);
    expect(again.retired).toBe(0);
    const votes = Object.fromEntries(Object.entries(swapped.original).filter(([k]) => /^\d+$/.test(k)));
    await db.sql`update tps_results set values = ${JSON.stringify(swapped.original)}::jsonb, votes = ${JSON.stringify(votes)}::jsonb
                 where tps_code = ${swapped.tpsCode} and contest_id = ${swapped.contestId}`;
    const fixed = await runStatisticalCheckpoint(db.sql, contestIds);
    expect(fixed.retired).toBeGreaterThanOrEqual(1);
    const [f] = await db.sql`select status from anomalies where tps_code = ${swapped.tpsCode} and contest_id = ${swapped.contestId} and rule = 'SIBLING'`;
    expect(f.status).toBe('resolved');
  });
});
