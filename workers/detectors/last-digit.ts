/**
 * Last-digit test on regions only (kecamatan and kabupaten; never one TPS): χ² with 9 df against
 * uniform last digits, for candidate fields whose regional mean is ≥ minFieldMean, using all counts
 * (truncating inside the bulk of the distribution manufactures false positives, INTEGRITY §5.1).
 * BH over every eligible (region, field) of a contest; at the k-th look at a region the level is
 * q·2^−(k−1) so that repeated looks spend at most 2q in all.
 */
import { DETECTOR_PARAMS } from './params.js';
import { bhAdjust, chi2Sf } from './stats.js';
import { lookIndex, type StatState } from './state.js';
import type { Finding } from './types.js';

export interface DigitTest { region: string; level: string; candidate: string; n: number; mean: number; chi2: number; p: number; q: number; look: number; counts: number[] }

export function lastDigitTests(state: StatState, contestId: string, params = DETECTOR_PARAMS.lastDigit): DigitTest[] {
  const tests: DigitTest[] = [];
  for (const acc of state.regions.values()) {
    if (acc.contestId !== contestId || (acc.level !== 'kecamatan' && acc.level !== 'kabupaten')) continue;
    if (acc.n < params.minN) continue;
    for (const [c, counts] of acc.lastDigit) {
      const n = counts.reduce((a, b) => a + b, 0);
      const mean = (acc.votes.get(c) ?? 0) / Math.max(1, acc.n);
      if (n < params.minN || mean < params.minFieldMean) continue;
      const e = n / 10;
      let chi2 = 0;
      for (const o of counts) chi2 += ((o - e) * (o - e)) / e;
      tests.push({ region: acc.code, level: acc.level, candidate: c, n, mean, chi2, p: chi2Sf(chi2, 9), q: 1, look: Math.max(1, lookIndex(acc.n, DETECTOR_PARAMS.streaming.checkpoints)), counts: [...counts] });
    }
  }
  tests.sort((a, b) => (a.region + a.candidate < b.region + b.candidate ? -1 : 1));
  const q = bhAdjust(tests.map((t) => t.p));
  tests.forEach((t, i) => (t.q = q[i]));
  return tests;
}

export function lastDigitFindings(state: StatState, contestId: string, params = DETECTOR_PARAMS.lastDigit): { findings: Finding[]; tests: DigitTest[] } {
  const tests = lastDigitTests(state, contestId, params);
  const findings: Finding[] = tests
    .filter((t) => t.q < params.bhQ * 2 ** -(t.look - 1))
    .map((t) => ({
      rule: 'LAST_DIGIT',
      kind: 'STAT_REGION' as const,
      tpsCode: null,
      contestId,
      areaCode: t.region,
      confidence: Math.min(0.8, 1 - t.q),
      impactVotes: 0,
      key: t.candidate,
      message:
        `Angka terakhir suara paslon ${t.candidate} di ${t.level} ${t.region} tidak merata (χ² = ${t.chi2.toFixed(1)}, n = ${t.n}); statistik wilayah, bukan bukti. ` +
        `/ Last digits of candidate ${t.candidate} are not uniform in this region; a regional statistic, not proof.`,
      detail: { ...t },
      evidence: [`region:${contestId}/${t.region}`],
    }));
  return { findings, tests };
}
