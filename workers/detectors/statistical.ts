/**
 * The statistical detectors over one StatState: turnout robust z and the sibling test per TPS,
 * the extreme cell and last digits per region, 2BL only when enabled. The result depends only on
 * the state (region looks are derived from region sizes), so a streamed night and a batch rebuild
 * raise the same findings; callers evaluate at checkpoints (e.g. every N publishes per region).
 */
import { benford2Findings } from './benford2.js';
import { extremeCellFindings, type ExtremeCellResult } from './extreme-cell.js';
import { lastDigitFindings } from './last-digit.js';
import { DETECTOR_PARAMS, type DetectorParams } from './params.js';
import { siblingFindings } from './sibling.js';
import type { StatState } from './state.js';
import { turnoutFindings, type TurnoutScore } from './turnout.js';
import type { Finding } from './types.js';

export interface StatisticalRun {
  findings: Finding[];
  /** |M| between the context and the flag threshold: shown beside other evidence, never a finding. */
  turnoutContext: TurnoutScore[];
  extremeCell: ExtremeCellResult[];
}

const rank = (contestId: string) => (/^(ppwp|pkwkp)/.test(contestId) ? 0 : 1);

export function runStatistical(
  state: StatState,
  opts: { params?: DetectorParams; expected?: (level: string, code: string) => number | undefined; only?: string[] } = {},
): StatisticalRun {
  const p = opts.params ?? DETECTOR_PARAMS;
  const findings: Finding[] = [];
  const turnoutContext: TurnoutScore[] = [];
  const extremeCell: ExtremeCellResult[] = [];
  const want = (d: string) => !opts.only || opts.only.includes(d);
  // The widest race first (governor / president): turnout is a property of the TPS's voters, shared
  // by every race, so an identical turnout outlier is reported once, on the widest race.
  const contests = state.contests().sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  const turnoutSeen = new Set<string>();
  for (const contestId of contests) {
    if (want('TURNOUT_Z')) {
      const t = turnoutFindings(state, contestId, p.turnout);
      for (const f of t.findings) {
        const k = `${f.tpsCode}|${(f.detail as { turnoutPermille: number }).turnoutPermille}`;
        if (turnoutSeen.has(k)) continue;
        turnoutSeen.add(k);
        findings.push(f);
      }
      turnoutContext.push(...t.context);
    }
    if (want('SIBLING')) findings.push(...siblingFindings(state, contestId, p.sibling).findings);
    if (want('EXTREME_CELL')) {
      const e = extremeCellFindings(state, contestId, { expected: opts.expected }, p.extremeCell);
      findings.push(...e.findings);
      extremeCell.push(...e.results);
    }
    if (want('LAST_DIGIT')) findings.push(...lastDigitFindings(state, contestId, p.lastDigit).findings);
    if (want('2BL')) findings.push(...benford2Findings(state, contestId, p.twoBL));
  }
  return { findings, turnoutContext, extremeCell };
}
