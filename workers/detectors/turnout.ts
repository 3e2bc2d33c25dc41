/**
 * Turnout robust z (Iglewicz–Hoaglin modified z) of one TPS against the TPS of its kecamatan
 * (kabupaten when the kecamatan has too few TPS). DPT turnout U_dpt / R_dpt in per mille, median and
 * MAD read exactly from the region histogram. |M| > mFlag is a finding; |M| > mContext is context only.
 */
import { DETECTOR_PARAMS } from './params.js';
import { histogramMedianMad, normalSf } from './stats.js';
import { type StatState, turnoutPermille } from './state.js';
import type { Finding, TpsRecord } from './types.js';

export interface TurnoutScore {
  tpsCode: string;
  contestId: string;
  m: number;
  turnoutPermille: number;
  medianPermille: number;
  madPermille: number;
  group: 'kecamatan' | 'kabupaten';
  groupCode: string;
  groupN: number;
}

export function scoreTurnout(state: StatState, r: TpsRecord, params = DETECTOR_PARAMS.turnout): TurnoutScore | null {
  const x = turnoutPermille(r);
  if (x === null) return null;
  let group: TurnoutScore['group'] = 'kecamatan';
  let acc = state.region(r.contestId, 'kecamatan', r.kecCode);
  if (!acc || acc.n < params.minGroup) {
    group = 'kabupaten';
    acc = state.region(r.contestId, 'kabupaten', r.kabCode);
  }
  if (!acc || acc.n < params.minGroup) return null;
  const n = acc.turnout.reduce((s, v) => s + v, 0);
  const { median, mad } = histogramMedianMad(acc.turnout, n);
  const m = (0.6745 * (x - median)) / Math.max(mad, params.madFloorPermille);
  return { tpsCode: r.tpsCode, contestId: r.contestId, m, turnoutPermille: x, medianPermille: median, madPermille: mad, group, groupCode: acc.code, groupN: n };
}

export function turnoutFindings(state: StatState, contestId: string, params = DETECTOR_PARAMS.turnout): { findings: Finding[]; context: TurnoutScore[] } {
  const findings: Finding[] = [];
  const context: TurnoutScore[] = [];
  for (const r of state.recordsOf(contestId)) {
    const s = scoreTurnout(state, r, params);
    if (!s || Math.abs(s.m) <= params.mContext) continue;
    if (Math.abs(s.m) <= params.mFlag) {
      context.push(s);
      continue;
    }
    const expectedVoters = Math.round((s.medianPermille / 1000) * r.registered);
    const excess = r.votersDpt - expectedVoters;
    const dir = s.m > 0 ? 'tinggi / high' : 'rendah / low';
    findings.push({
      rule: 'TURNOUT_Z',
      kind: 'STAT_TPS',
      tpsCode: r.tpsCode,
      contestId,
      areaCode: r.desaCode,
      // A modified z is not a calibrated normal z: confidence stays below a failed identity's 1.
      confidence: Math.min(0.9, 1 - 2 * normalSf(Math.abs(s.m) / 1.5)),
      impactVotes: Math.abs(excess),
      message:
        `Partisipasi ${(s.turnoutPermille / 10).toFixed(1)}% menyimpang dari ${s.group} ${s.groupCode} (median ${(s.medianPermille / 10).toFixed(1)}%, M = ${s.m.toFixed(1)}), ${dir}; statistik, bukan bukti. ` +
        `/ Turnout deviates from its ${s.group} (M = ${s.m.toFixed(1)}); a statistic, not proof.`,
      detail: { ...s, registered: r.registered, votersDpt: r.votersDpt, expectedVoters, excessVoters: excess, threshold: params.mFlag },
      evidence: [`result:${r.tpsCode}/${contestId}`],
    });
  }
  return { findings, context };
}
