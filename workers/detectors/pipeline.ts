/**
 * Every detector over one synthetic (or replayed) election held in memory: the hard rules of each
 * TPS (workers/rules), cross-contest X1–X3, duplicate photos and identical numbers, and the
 * statistical detectors. Used by the done-when tests and evaluate.ts; the live system runs the same
 * detector functions from the publish and import paths.
 */
import { evaluateTps, type PageValues } from '../rules/index.js';
import { crossContestFindings, duplicatePhotoFindings, hardRuleFindings, identicalVectorFindings } from './deterministic.js';
import { StatState } from './state.js';
import { runStatistical } from './statistical.js';
import type { SynthElection, Universe, UniverseContest } from './synthetic.js';
import type { Finding } from './types.js';

/** Split a TPS's values into the two pages evaluateTps expects (candidates as suara_paslon_{n}). */
export function formPages(values: Record<string, number>, contest: UniverseContest): { administrasi: PageValues; perolehan: PageValues } {
  const administrasi: PageValues = {};
  const perolehan: PageValues = {};
  for (const [k, v] of Object.entries(values)) {
    if (k.startsWith('suara_')) perolehan[k] = v;
    else if (!/^\d+$/.test(k)) administrasi[k] = v;
  }
  contest.candidates.forEach((id, i) => (perolehan[`suara_paslon_${i + 1}`] = values[id] ?? 0));
  return { administrasi, perolehan };
}

export interface DetectionRun {
  findings: Finding[];
  state: StatState;
  byDetector: Record<string, number>;
}

export function detectElection(universe: Universe, election: SynthElection, opts: { statistical?: boolean; deterministic?: boolean } = {}): DetectionRun {
  const contests = new Map(universe.contests.map((c) => [c.id, c]));
  const tpsInfo = new Map(universe.tps.map((t) => [t.code, t]));
  const state = new StatState();
  const findings: Finding[] = [];
  for (const r of election.results) state.upsert(r.record);

  if (opts.deterministic ?? true) {
    for (const r of election.results) {
      const c = contests.get(r.contestId)!;
      const t = tpsInfo.get(r.tpsCode)!;
      const pages = formPages(r.values, c);
      const verdict = evaluateTps({ ...pages, register: { ...r.master, isSpecial: false }, candidateCount: c.candidates.length, hasEmptyColumn: false, election: 'PILKADA_2024' });
      findings.push(...hardRuleFindings({ tpsCode: t.code, desaCode: t.desaCode }, c.id, verdict.results, { evidence: [`photo:${r.photoSha256}`] }));
    }
    const byTps = new Map<string, typeof election.results>();
    for (const r of election.results) byTps.set(r.tpsCode, [...(byTps.get(r.tpsCode) ?? []), r]);
    for (const [code, rs] of byTps) {
      const upper = rs.find((r) => contests.get(r.contestId)!.type === 'pkwkp');
      const t = tpsInfo.get(code)!;
      for (const lower of rs.filter((r) => contests.get(r.contestId)!.type === 'pkwkk'))
        if (upper) findings.push(...crossContestFindings({ tpsCode: code, desaCode: t.desaCode }, { contestId: upper.contestId, values: upper.values }, { contestId: lower.contestId, values: lower.values }));
    }
    findings.push(...duplicatePhotoFindings(election.results.map((r) => {
      const t = tpsInfo.get(r.tpsCode)!;
      return { tpsCode: r.tpsCode, desaCode: t.desaCode, kecCode: t.kecCode, contestId: r.contestId, photoSha256: r.photoSha256, votes: r.values.suara_sah };
    })));
    findings.push(...identicalVectorFindings(election.results.map((r) => {
      const t = tpsInfo.get(r.tpsCode)!;
      const c = contests.get(r.contestId)!;
      return { tpsCode: r.tpsCode, desaCode: t.desaCode, contestId: r.contestId, values: r.values, fields: [...c.candidates, 'suara_tidak_sah', 'pengguna_total_l', 'pengguna_total_p'] };
    })));
  }
  if (opts.statistical ?? true) findings.push(...runStatistical(state).findings);
  const byDetector: Record<string, number> = {};
  for (const f of findings) byDetector[f.rule] = (byDetector[f.rule] ?? 0) + 1;
  return { findings, state, byDetector };
}
