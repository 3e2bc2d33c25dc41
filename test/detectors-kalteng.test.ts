// Done-when of issue 7 on the whole of Kalimantan Tengah (4,446 TPS, governor + 14 bupati/walikota
// races): the statistical detectors stay quiet on a clean election, and every planted anomaly is found
// and ranks in the top 30 of the case queue. Needs ../shared/data (the TPS universe and real priors).
import { describe, expect, it } from 'vitest';
import { loadKaltengUniverse, sharedDataAvailable } from '../workers/detectors/kalteng-universe.js';
import { generateElection } from '../workers/detectors/synthetic.js';
import { detectElection } from '../workers/detectors/pipeline.js';
import { DONE_WHEN_PLANTS, plantOutcomes } from '../workers/detectors/evaluate.js';
import { STATISTICAL_KINDS } from '../workers/detectors/types.js';

describe.skipIf(!sharedDataAvailable())('Kalimantan Tengah synthetic election', () => {
  const universe = loadKaltengUniverse();
  const SEED = 2024;

  it('has every Pilkada TPS of the province', () => {
    expect(universe.tps.length).toBe(4446);
    expect(new Set(universe.tps.map((t) => t.code)).size).toBe(4446);
    expect(universe.contests.filter((c) => c.type === 'pkwkk')).toHaveLength(14);
  });

  it('clean: the statistical detectors raise at most 5 findings in all, deterministic ones none', () => {
    const run = detectElection(universe, generateElection(universe, SEED));
    const statistical = run.findings.filter((f) => STATISTICAL_KINDS.has(f.kind));
    expect(statistical.length).toBeLessThanOrEqual(5);
    expect(run.findings.filter((f) => !STATISTICAL_KINDS.has(f.kind))).toEqual([]);
  });

  it('20 stuffed TPS, one swapped result and one reused photo: every plant found and in the top 30', () => {
    const election = generateElection(universe, SEED, DONE_WHEN_PLANTS);
    expect(election.plants.map((p) => p.kind).sort()).toEqual([...Array(20).fill('stuffing'), 'photo_reuse', 'swap'].sort());
    const run = detectElection(universe, election);
    const outcomes = plantOutcomes(universe, election, run.findings);
    for (const o of outcomes) {
      expect(o.rules.length, `${o.kind} at ${o.tpsCode} not found`).toBeGreaterThan(0);
      expect(o.rank, `${o.kind} at ${o.tpsCode} ranks ${o.rank}`).not.toBeNull();
      expect(o.rank!).toBeLessThanOrEqual(30);
    }
    // The statistical detectors alone find the swap and most stuffing (the reused photo is a deterministic finding).
    expect(outcomes.find((o) => o.kind === 'swap')!.statisticalRules).toContain('SIBLING');
    expect(outcomes.find((o) => o.kind === 'photo_reuse')!.rules).toContain('D1');
    expect(outcomes.filter((o) => o.kind === 'stuffing' && o.statisticalRules.length > 0).length).toBeGreaterThanOrEqual(16);
  });
});
