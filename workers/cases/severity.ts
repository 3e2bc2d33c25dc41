/**
 * Case severity (INTEGRITY §6.3): each finding scores
 *   100 · w_kind · confidence · (0.5 · min(1, impact / cap) + 0.5 · min(1, impact / max(1, localMargin)))
 * and a case combines its findings as independent evidence, 100 · (1 − Π(1 − s_i / 100)), so that
 * a second finding raises a case but never past 100. Bands: CRITICAL ≥ 60 (always for an H13 or H15
 * failure), HIGH ≥ 30, MEDIUM ≥ 10, LOW below.
 */
import { DETECTOR_PARAMS } from '../detectors/params.js';
import type { FindingKind } from '../detectors/types.js';

export type Band = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

/** The publish step writes 'hard_rule' / 'soft_rule'; detectors write FindingKind. */
export function normaliseKind(kind: string): FindingKind {
  switch (kind) {
    case 'hard_rule': return 'HARD';
    case 'soft_rule': return 'FORM_INCONSISTENT';
    case 'duplicate': return 'DUPLICATE';
    case 'source': return 'SOURCE_MISMATCH';
    case 'temporal': return 'TEMPORAL';
    case 'statistical': return 'STAT_TPS';
    case 'page': return 'HARD';
    default: return (DETECTOR_PARAMS.severity.weights as Record<string, number>)[kind] !== undefined ? (kind as FindingKind) : 'CONTEXT';
  }
}

export interface ScoredInput { kind: string; rule: string; confidence: number; impactVotes: number }

export function findingScore(f: ScoredInput, ctx: { cap: number; localMargin: number | null }, params = DETECTOR_PARAMS.severity): number {
  const w = params.weights[normaliseKind(f.kind)];
  const impact = Math.max(0, f.impactVotes);
  const norm = Math.min(1, impact / Math.max(1, ctx.cap));
  // Without a known margin (no tallies yet) the outcome term falls back to the size term.
  const outcome = ctx.localMargin === null ? norm : Math.min(1, impact / Math.max(1, ctx.localMargin));
  return 100 * w * Math.max(0, Math.min(1, f.confidence)) * (0.5 * norm + 0.5 * outcome);
}

export function caseScore(scores: readonly number[]): number {
  let keep = 1;
  for (const s of scores) keep *= 1 - Math.max(0, Math.min(100, s)) / 100;
  return Math.round((100 * (1 - keep)) * 1000) / 1000;
}

export function bandOf(score: number, findings: readonly { rule: string; kind: string }[] = [], params = DETECTOR_PARAMS.severity): Band {
  if (findings.some((f) => (f.rule === 'H13' || f.rule === 'H15') && normaliseKind(f.kind) === 'HARD')) return 'CRITICAL';
  if (score >= params.bands.CRITICAL) return 'CRITICAL';
  if (score >= params.bands.HIGH) return 'HIGH';
  if (score >= params.bands.MEDIUM) return 'MEDIUM';
  return 'LOW';
}

export function slaDueAt(band: Band, from: Date, params = DETECTOR_PARAMS.severity): Date {
  return new Date(from.getTime() + params.slaHours[band] * 3600_000);
}

/** Queue order: score plus an aging boost per SLA period already breached. */
export function queueScore(score: number, band: Band, createdAt: Date, now: Date, params = DETECTOR_PARAMS.severity): number {
  const overdue = now.getTime() - slaDueAt(band, createdAt, params).getTime();
  const breaches = overdue > 0 ? 1 + Math.floor(overdue / (params.slaHours[band] * 3600_000)) : 0;
  return score + breaches * params.agingBoostPerBreach;
}

/** Local margin of a race: leader minus runner-up over the votes counted so far. */
export function marginOf(votes: Record<string, number>): number | null {
  const v = Object.values(votes).sort((a, b) => b - a);
  if (v.length === 0 || v[0] === 0) return null;
  return v[0] - (v[1] ?? 0);
}
