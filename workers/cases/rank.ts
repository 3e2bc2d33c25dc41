/**
 * Cases from findings, in memory and ranked (the queue an investigator sees): one case per TPS and
 * contest, severity from workers/cases/severity.ts. The database path (db/repositories/cases.ts) uses
 * the same scoring; this pure version serves tests, evaluate.ts and the simulator.
 */
import type { Finding } from '../detectors/types.js';
import { bandOf, caseScore, findingScore, type Band } from './severity.js';

export interface RankedCase {
  tpsCode: string;
  contestId: string;
  areaCode: string;
  score: number;
  band: Band;
  rules: string[];
  findings: Finding[];
}

export function rankCases(findings: readonly Finding[], ctx: { cap: number; marginOf: (contestId: string) => number | null }): RankedCase[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    if (!f.tpsCode || !f.contestId) continue;
    const k = `${f.tpsCode}|${f.contestId}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  const cases: RankedCase[] = [];
  for (const [k, fs] of groups) {
    const [tpsCode, contestId] = k.split('|');
    const margin = ctx.marginOf(contestId);
    const score = caseScore(fs.map((f) => findingScore(f, { cap: ctx.cap, localMargin: margin })));
    cases.push({ tpsCode, contestId, areaCode: fs[0].areaCode, score, band: bandOf(score, fs), rules: [...new Set(fs.map((f) => f.rule))].sort(), findings: fs });
  }
  return cases.sort((a, b) => b.score - a.score || (a.tpsCode < b.tpsCode ? -1 : 1));
}
