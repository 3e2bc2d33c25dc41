/**
 * Sibling vote-share test (INTEGRITY §5.1): each TPS against the pooled shares of the other TPS of
 * its desa (kecamatan when the desa has fewer than minSiblings others), with overdispersion ρ
 * estimated by method of moments per (contest, kabupaten), a multi-candidate X² with C − 1 degrees
 * of freedom, Benjamini–Hochberg within (contest, kabupaten), and a minimum vote difference so that a
 * "significant" but tiny deviation in a huge TPS is never a finding.
 */
import { DETECTOR_PARAMS } from './params.js';
import { bhAdjust, logGamma, normalSf } from './stats.js';
import type { RegionAcc, StatState } from './state.js';
import type { Finding, TpsRecord } from './types.js';

export interface SiblingScore {
  tpsCode: string;
  x2: number;
  df: number;
  p: number;
  q: number;
  rho: number;
  scope: 'desa' | 'kecamatan' | 'kabupaten';
  expected: Record<string, number>;
  maxAbsDiff: number;
  maxDiffCandidate: string;
}

interface Prepared {
  r: TpsRecord;
  scope: SiblingScore['scope'];
  pHat: Map<string, number>;
  nS: number; // Σ SAH of the siblings
  mS: number; // number of siblings
}

function siblingGroup(state: StatState, r: TpsRecord, minSiblings: number): { acc: RegionAcc; scope: SiblingScore['scope'] } | null {
  for (const [level, code, scope] of [['desa', r.desaCode, 'desa'], ['kecamatan', r.kecCode, 'kecamatan'], ['kabupaten', r.kabCode, 'kabupaten']] as const) {
    const acc = state.region(r.contestId, level, code);
    if (acc && acc.n - 1 >= minSiblings) return { acc, scope };
  }
  return null;
}

function prepare(state: StatState, r: TpsRecord, minSiblings: number): Prepared | null {
  if (!(r.suaraSah > 0)) return null;
  const g = siblingGroup(state, r, minSiblings);
  if (!g) return null;
  const nS = g.acc.sah - r.suaraSah;
  if (!(nS > 0)) return null;
  const pHat = new Map<string, number>();
  for (const [c, total] of g.acc.votes) pHat.set(c, (total - (r.votes[c] ?? 0)) / nS);
  return { r, scope: g.scope, pHat, nS, mS: g.acc.n - 1 };
}

/** log P(X = k) for X ~ BetaBinomial(n, a, b), all k at once, normalised. */
function betaBinomialPmf(n: number, a: number, b: number): Float64Array {
  const out = new Float64Array(n + 1);
  let lp = logGamma(n + b) + logGamma(a + b) - logGamma(n + a + b) - logGamma(b); // log P(0)
  let max = -Infinity;
  for (let k = 0; k <= n; k++) {
    out[k] = lp;
    if (lp > max) max = lp;
    lp += Math.log((n - k) / (k + 1)) + Math.log((k + a) / (n - k - 1 + b));
  }
  let sum = 0;
  for (let k = 0; k <= n; k++) sum += (out[k] = Math.exp(out[k] - max));
  for (let k = 0; k <= n; k++) out[k] /= sum;
  return out;
}

/** Two-sided beta-binomial tail of observing v: 2·min(P(X ≤ v), P(X ≥ v)), capped at 1. */
function twoSidedTail(pmf: Float64Array, v: number): number {
  let lo = 0, hi = 0;
  for (let k = 0; k <= v; k++) lo += pmf[k];
  for (let k = v; k < pmf.length; k++) hi += pmf[k];
  return Math.min(1, 2 * Math.min(lo, hi));
}

/**
 * Score of one TPS given ρ: per candidate a beta-binomial tail (skewed small shares are not forced
 * into a normal approximation), whose variance also carries the uncertainty of the siblings' pooled
 * share; combined over candidates by Bonferroni. Also the X² summary for display.
 */
function scoreOf(p: Prepared, rho: number) {
  const n = p.r.suaraSah;
  const nBar = p.nS / p.mS;
  let x2 = 0, df = -1, maxAbs = 0, maxC = '', minP = 1;
  const expected: Record<string, number> = {};
  for (const [c, ph] of p.pHat) {
    if (!(ph > 0 && ph < 1)) continue;
    df++;
    const e = n * ph;
    expected[c] = e;
    const v = p.r.votes[c] ?? 0;
    const d = v - e;
    const varTotal = n * ph * (1 - ph) * (1 + (n - 1) * rho) + (n * n * ph * (1 - ph) * (1 + (nBar - 1) * rho)) / p.nS;
    x2 += (d * d) / (varTotal / (1 - ph));
    if (Math.abs(d) > maxAbs) { maxAbs = Math.abs(d); maxC = c; }
    // Normal screen first: a beta-binomial tail only matters when the deviation is already large.
    if (Math.abs(d) / Math.sqrt(varTotal) < 2.5) {
      minP = Math.min(minP, 2 * normalSf(Math.abs(d) / Math.sqrt(varTotal)));
      continue;
    }
    // Beta-binomial with the same mean and total variance: ρ_eff from Var = n p(1−p)(1 + (n − 1)ρ_eff).
    const rhoEff = n > 1 ? Math.max(1e-6, (varTotal / (n * ph * (1 - ph)) - 1) / (n - 1)) : 1e-6;
    const conc = 1 / rhoEff - 1;
    minP = Math.min(minP, twoSidedTail(betaBinomialPmf(n, ph * conc, (1 - ph) * conc), v));
  }
  const pValue = Math.min(1, minP * Math.max(1, df));
  return { x2, df, expected, maxAbs, maxC, pValue };
}

/**
 * Method-of-moments ρ from the same leave-one-out residuals the test uses: E[Pearson residual sum]
 * is linear in ρ, so ρ solves one linear equation (clamped at 0).
 */
export function estimateRho(items: Prepared[]): number {
  let sumR = 0, sumA = 0, sumB = 0;
  for (const p of items) {
    const n = p.r.suaraSah;
    const nBar = p.nS / p.mS;
    let raw = 0, df = -1;
    for (const [c, ph] of p.pHat) {
      if (!(ph > 0)) continue;
      df++;
      const d = (p.r.votes[c] ?? 0) - n * ph;
      raw += (d * d) / (n * ph);
    }
    if (df < 1) continue;
    sumR += raw;
    sumA += df * (1 + n / p.nS);
    sumB += df * (n - 1 + (n * (nBar - 1)) / p.nS);
  }
  if (sumB <= 0) return 0;
  return Math.max(0, (sumR - sumA) / sumB);
}

export function siblingFindings(state: StatState, contestId: string, params = DETECTOR_PARAMS.sibling): { findings: Finding[]; scores: SiblingScore[] } {
  const byKab = new Map<string, Prepared[]>();
  for (const r of state.recordsOf(contestId)) {
    const p = prepare(state, r, params.minSiblings);
    if (!p) continue;
    const list = byKab.get(r.kabCode) ?? [];
    list.push(p);
    byKab.set(r.kabCode, list);
  }
  const findings: Finding[] = [];
  const scores: SiblingScore[] = [];
  for (const [kab, items] of [...byKab.entries()].sort()) {
    if (items.length < params.minKabTps) continue;
    // Desa siblings and kecamatan siblings differ in heterogeneity (the kecamatan mixes desa effects): one ρ each.
    const rhoByScope = new Map<string, number>();
    // Moments are not robust: one stuffed TPS can double ρ in a small group and hide itself. Estimate,
    // drop the TPS that are extreme under that estimate (raw p < trimP), estimate again.
    for (const scope of ['desa', 'kecamatan', 'kabupaten'] as const) {
      const sub = items.filter((p) => p.scope === scope);
      if (!sub.length) continue;
      const base = sub.length >= params.minKabTps ? sub : items;
      const rho0 = estimateRho(base);
      const kept = base.filter((p) => scoreOf(p, rho0).pValue >= params.trimP);
      rhoByScope.set(scope, estimateRho(kept.length >= params.minKabTps / 2 ? kept : base));
    }
    const rows = items.map((p) => {
      const rho = rhoByScope.get(p.scope)!;
      return { p, rho, ...scoreOf(p, rho) };
    });
    const pv = rows.map((row) => (row.df >= 1 ? row.pValue : 1));
    const qv = bhAdjust(pv);
    rows.forEach((row, i) => {
      const s: SiblingScore = {
        tpsCode: row.p.r.tpsCode, x2: row.x2, df: row.df, p: pv[i], q: qv[i], rho: row.rho, scope: row.p.scope,
        expected: Object.fromEntries(Object.entries(row.expected).map(([c, e]) => [c, Math.round(e * 10) / 10])),
        maxAbsDiff: Math.round(row.maxAbs), maxDiffCandidate: row.maxC,
      };
      scores.push(s);
      const n = row.p.r.suaraSah;
      if (qv[i] >= params.bhQ || row.maxAbs < Math.max(params.minAbsDiff, params.minRelDiff * n)) return;
      findings.push({
        rule: 'SIBLING',
        kind: 'STAT_TPS',
        tpsCode: row.p.r.tpsCode,
        contestId,
        areaCode: row.p.r.desaCode,
        confidence: Math.min(0.95, 1 - qv[i]),
        impactVotes: Math.round(row.maxAbs),
        message:
          `Perolehan suara berbeda dari TPS tetangga (${s.scope}, selisih ${s.maxAbsDiff} suara, q = ${qv[i].toExponential(1)}); statistik, bukan bukti. ` +
          `/ Vote shares differ from sibling TPS (${s.scope}, ${s.maxAbsDiff} votes, BH q = ${qv[i].toExponential(1)}); a statistic, not proof.`,
        detail: { ...s, kabCode: kab, votes: row.p.r.votes, suaraSah: n, bhQ: params.bhQ },
        evidence: [`result:${row.p.r.tpsCode}/${contestId}`],
      });
    });
  }
  return { findings, scores };
}
