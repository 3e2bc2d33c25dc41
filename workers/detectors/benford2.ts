/**
 * Second-digit Benford (2BL). OFF by default (DETECTOR_PARAMS.twoBL.enabled): against the textbook
 * Benford reference it rejects most clean TPS-scale regions (INTEGRITY §5.2), so when enabled it only
 * produces CONTEXT findings for kabupaten with ≥ minN counts ≥ 10, never a TPS finding.
 */
import { DETECTOR_PARAMS } from './params.js';
import { chi2Sf } from './stats.js';
import type { StatState } from './state.js';
import type { Finding } from './types.js';

export const BENFORD_SECOND = [0.1197, 0.1139, 0.1088, 0.1043, 0.1003, 0.0967, 0.0934, 0.0904, 0.0876, 0.085];

export function benford2Findings(state: StatState, contestId: string, params: { enabled: boolean; minN: number } = DETECTOR_PARAMS.twoBL): Finding[] {
  if (!params.enabled) return [];
  const out: Finding[] = [];
  for (const acc of state.regions.values()) {
    if (acc.contestId !== contestId || acc.level !== 'kabupaten') continue;
    for (const [c, counts] of acc.secondDigit) {
      const n = counts.reduce((a, b) => a + b, 0);
      if (n < params.minN) continue;
      let chi2 = 0;
      counts.forEach((o, d) => { const e = n * BENFORD_SECOND[d]; chi2 += ((o - e) * (o - e)) / e; });
      const p = chi2Sf(chi2, 9);
      if (p >= 0.001) continue;
      out.push({
        rule: '2BL', kind: 'CONTEXT', tpsCode: null, contestId, areaCode: acc.code, confidence: 0.1, impactVotes: 0, key: c,
        message: `Digit kedua paslon ${c} menyimpang dari Benford (hanya informasi) / second digits deviate from Benford (information only)`,
        detail: { n, chi2, p, counts: [...counts] }, evidence: [`region:${contestId}/${acc.code}`],
      });
    }
  }
  return out;
}
