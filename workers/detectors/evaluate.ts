/**
 * Detector calibration report: false-positive rates on clean synthetic Kalimantan Tengah elections
 * (all 4,446 TPS, both races) and hit rates on planted anomalies, over several seeds. Prints one JSON
 * document on stdout.
 *
 *   nice -n 10 npx tsx workers/detectors/evaluate.ts [--seeds 5] [--first-seed 1]
 *
 * Reads ../shared/data (scripts may; the product never does).
 */
import { parseArgs } from 'node:util';
import { rankCases } from '../cases/rank.js';
import { marginOf } from '../cases/severity.js';
import { loadKaltengUniverse } from './kalteng-universe.js';
import { detectElection } from './pipeline.js';
import { generateElection, type PlantOptions, type SynthElection, type Universe } from './synthetic.js';
import { STATISTICAL_KINDS, type Finding } from './types.js';

export const DONE_WHEN_PLANTS: PlantOptions = { stuffing: 20, swaps: 1, photoReuse: 1 };

export function marginsOf(universe: Universe, election: SynthElection): (contestId: string) => number | null {
  const totals = new Map<string, Record<string, number>>();
  const contests = new Map(universe.contests.map((c) => [c.id, c]));
  for (const r of election.results) {
    const t = totals.get(r.contestId) ?? {};
    for (const c of contests.get(r.contestId)!.candidates) t[c] = (t[c] ?? 0) + (r.values[c] ?? 0);
    totals.set(r.contestId, t);
  }
  return (id) => marginOf(totals.get(id) ?? {});
}

export interface PlantOutcome { kind: string; tpsCode: string; contestId: string; rules: string[]; statisticalRules: string[]; rank: number | null }

/** Which detectors flagged each plant, and where its case ranks in the queue. */
export function plantOutcomes(universe: Universe, election: SynthElection, findings: Finding[]): PlantOutcome[] {
  const cases = rankCases(findings, { cap: 600, marginOf: marginsOf(universe, election) });
  const rankOf = new Map(cases.map((c, i) => [`${c.tpsCode}|${c.contestId}`, i + 1]));
  return election.plants.map((p) => {
    const fs = findings.filter((f) => f.tpsCode === p.tpsCode && f.contestId === p.contestId);
    return {
      kind: p.kind, tpsCode: p.tpsCode, contestId: p.contestId,
      rules: [...new Set(fs.map((f) => f.rule))].sort(),
      statisticalRules: [...new Set(fs.filter((f) => STATISTICAL_KINDS.has(f.kind)).map((f) => f.rule))].sort(),
      rank: rankOf.get(`${p.tpsCode}|${p.contestId}`) ?? null,
    };
  });
}

async function main() {
  const { values } = parseArgs({ options: { seeds: { type: 'string', default: '5' }, 'first-seed': { type: 'string', default: '1' } } });
  const seeds = Number(values.seeds), first = Number(values['first-seed']);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds must be a positive integer');
  const universe = loadKaltengUniverse();
  const records = universe.tps.length * 0 + 0;
  void records;
  const cleanCounts: Record<string, number[]> = {};
  const statTotals: number[] = [];
  let tpsContestPairs = 0;
  const hit: Record<string, Record<string, number>> = {};
  const plantsByKind: Record<string, number> = {};
  const top30: number[] = [];
  const worstRank: number[] = [];
  const modes: Record<string, { plants: number; anyHit: number; statHit: number }> = {};
  const started = Date.now();
  for (let s = first; s < first + seeds; s++) {
    const clean = generateElection(universe, s);
    tpsContestPairs = clean.results.length;
    const cr = detectElection(universe, clean);
    const stat = cr.findings.filter((f) => STATISTICAL_KINDS.has(f.kind));
    statTotals.push(stat.length);
    const rules = new Set([...Object.keys(cleanCounts), ...Object.keys(cr.byDetector)]);
    for (const r of rules) (cleanCounts[r] ??= []).push(cr.byDetector[r] ?? 0);
    for (const r of Object.keys(cleanCounts)) if (cleanCounts[r].length < s - first + 1) cleanCounts[r].unshift(...Array(s - first + 1 - cleanCounts[r].length).fill(0));

    const planted = generateElection(universe, s, DONE_WHEN_PLANTS);
    const pr = detectElection(universe, planted);
    const outcomes = plantOutcomes(universe, planted, pr.findings);
    for (const o of outcomes) {
      plantsByKind[o.kind] = (plantsByKind[o.kind] ?? 0) + 1;
      const h = (hit[o.kind] ??= {});
      for (const r of o.rules) h[r] = (h[r] ?? 0) + 1;
      if (o.rules.length) h.any = (h.any ?? 0) + 1;
      if (o.statisticalRules.length) h.anyStatistical = (h.anyStatistical ?? 0) + 1;
    }
    top30.push(outcomes.filter((o) => o.rank !== null && o.rank <= 30).length / outcomes.length);
    worstRank.push(Math.max(...outcomes.map((o) => o.rank ?? Infinity)));

    for (const mode of ['extreme', 'incremental', 'turnout'] as const) {
      const el = generateElection(universe, s, { stuffing: 20, stuffingMode: mode });
      const run = detectElection(universe, el);
      const oc = plantOutcomes(universe, el, run.findings);
      const m = (modes[mode] ??= { plants: 0, anyHit: 0, statHit: 0 });
      m.plants += oc.length;
      m.anyHit += oc.filter((o) => o.rules.length).length;
      m.statHit += oc.filter((o) => o.statisticalRules.length).length;
    }
    process.stderr.write(`seed ${s}: clean statistical findings ${stat.length}, plants in top 30 ${(top30.at(-1)! * 100).toFixed(0)}%, worst rank ${worstRank.at(-1)}\n`);
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const report = {
    universe: { tps: universe.tps.length, contests: universe.contests.length, tpsContestPairs },
    seeds: { first, count: seeds },
    clean: {
      statisticalFindingsPerRun: { mean: mean(statTotals), max: Math.max(...statTotals), runs: statTotals },
      byDetector: Object.fromEntries(Object.entries(cleanCounts).sort().map(([r, c]) => [r, { meanPerRun: mean(c), max: Math.max(...c), ratePerTpsContest: mean(c) / tpsContestPairs }])),
    },
    planted: {
      plants: DONE_WHEN_PLANTS,
      hitRate: Object.fromEntries(Object.entries(hit).map(([k, h]) => [k, Object.fromEntries(Object.entries(h).sort().map(([r, n]) => [r, n / plantsByKind[k]]))])),
      plantsInTop30: { mean: mean(top30), min: Math.min(...top30) },
      worstPlantRank: { max: Math.max(...worstRank), runs: worstRank },
    },
    stuffingModes: Object.fromEntries(Object.entries(modes).map(([m, v]) => [m, { anyDetector: v.anyHit / v.plants, statisticalOnly: v.statHit / v.plants }])),
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  console.log(JSON.stringify(report));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(`evaluate: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
