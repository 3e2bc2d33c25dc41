/**
 * Klimek-style extreme cell per region (INTEGRITY §5.1): E = TPS with turnout ≥ 95% and winner share
 * ≥ 95%, against μ_E from Beta fits of turnout and winner share on the bulk (TPS below the 95th
 * turnout percentile), assuming independence. Noken TPS are counted apart and never enter E or μ_E.
 * Runs on kabupaten with ≥ minTps TPS, and on the whole contest area; looked at only at checkpoints
 * with the threshold halved at every look (geometric alpha spending).
 */
import { DETECTOR_PARAMS } from './params.js';
import { betaI, histogramQuantile, poissonSf } from './stats.js';
import { FINGERPRINT_SIDE, lookIndex, type RegionAcc, type StatState } from './state.js';
import type { Finding } from './types.js';

export interface ExtremeCellResult {
  region: string;
  level: RegionAcc['level'];
  winner: string;
  n: number;
  noken: number;
  e: number;
  mu: number;
  p: number;
  look: number;
  threshold: number;
}

function betaMoments(sum: number, sumSq: number, n: number): { a: number; b: number } | null {
  if (n < 2) return null;
  const m = sum / n;
  const v = sumSq / n - m * m;
  if (!(m > 0 && m < 1) || !(v > 0)) return null;
  const k = (m * (1 - m)) / v - 1;
  if (!(k > 0)) return null;
  return { a: m * k, b: (1 - m) * k };
}

export function extremeCellTest(acc: RegionAcc, params = DETECTOR_PARAMS.extremeCell, checkpoints = DETECTOR_PARAMS.streaming.checkpoints, expected?: number): ExtremeCellResult | null {
  const n = acc.nonNoken;
  if (n < params.minTps) return null;
  let winner = '';
  let best = -1;
  for (const [c, v] of acc.votes) if (v > best) { best = v; winner = c; }
  const fp = acc.fingerprint.get(winner);
  if (!fp) return null;
  const tCut = Math.round(params.turnout * 100), sCut = Math.round(params.share * 100);
  // Turnout rows of the fingerprint give the turnout histogram of non-noken TPS in per cent.
  const rows = new Int32Array(FINGERPRINT_SIDE);
  let e = 0;
  for (let t = 0; t < FINGERPRINT_SIDE; t++)
    for (let s = 0; s < FINGERPRINT_SIDE; s++) {
      const c = fp[t * FINGERPRINT_SIDE + s];
      rows[t] += c;
      if (t >= tCut && s >= sCut) e += c;
    }
  const total = rows.reduce((a, b) => a + b, 0);
  const p95 = histogramQuantile(rows, total, 0.95);
  let tS = 0, tSS = 0, sS = 0, sSS = 0, m = 0;
  for (let t = 0; t < FINGERPRINT_SIDE; t++) {
    if (t >= p95 && t > 0) continue;
    for (let s = 0; s < FINGERPRINT_SIDE; s++) {
      const c = fp[t * FINGERPRINT_SIDE + s];
      if (!c) continue;
      const tv = Math.min(0.995, Math.max(0.005, t / 100)), sv = Math.min(0.995, Math.max(0.005, s / 100));
      tS += c * tv; tSS += c * tv * tv; sS += c * sv; sSS += c * sv * sv; m += c;
    }
  }
  const bt = betaMoments(tS, tSS, m), bs = betaMoments(sS, sSS, m);
  const pT = bt ? 1 - betaI(params.turnout - 0.005, bt.a, bt.b) : 0;
  const pS = bs ? 1 - betaI(params.share - 0.005, bs.a, bs.b) : 0;
  const mu = total * pT * pS;
  const p = poissonSf(e, mu);
  const look = Math.max(1, lookIndex(acc.n, checkpoints, expected));
  return { region: acc.code, level: acc.level, winner, n: total, noken: acc.noken, e, mu, p, look, threshold: params.p * 2 ** -(look - 1) };
}

export function extremeCellFindings(state: StatState, contestId: string, opts: { expected?: (level: string, code: string) => number | undefined } = {}, params = DETECTOR_PARAMS.extremeCell): { findings: Finding[]; results: ExtremeCellResult[] } {
  const findings: Finding[] = [];
  const results: ExtremeCellResult[] = [];
  for (const acc of state.regions.values()) {
    if (acc.contestId !== contestId || (acc.level !== 'kabupaten' && acc.level !== 'contest')) continue;
    const r = extremeCellTest(acc, params, DETECTOR_PARAMS.streaming.checkpoints, opts.expected?.(acc.level, acc.code));
    if (!r) continue;
    results.push(r);
    if (r.e < params.minCount || r.p >= r.threshold) continue;
    findings.push({
      rule: 'EXTREME_CELL',
      kind: 'STAT_REGION',
      tpsCode: null,
      contestId,
      areaCode: acc.code,
      confidence: Math.min(0.95, 1 - r.p / params.p),
      impactVotes: 0,
      message:
        `${r.e} TPS dengan partisipasi ≥ 95% dan suara pemenang ≥ 95% (diharapkan ${r.mu.toFixed(2)}, p = ${r.p.toExponential(1)}); statistik wilayah, bukan bukti. ` +
        `/ ${r.e} TPS in the extreme cell (expected ${r.mu.toFixed(2)}); a regional statistic, not proof.`,
      detail: { ...r },
      evidence: [`region:${contestId}/${acc.code}`],
    });
  }
  return { findings, results };
}
