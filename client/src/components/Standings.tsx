import type { AreaTally } from '../../../server/contract/index.js';
import { Progress } from './Progress.js';
import { Totals } from './Totals.js';

/**
 * The candidate standings of one area in one race: "x dari y TPS" with its bar and quarantine note,
 * then votes and shares per paslon. One component for the area page and the scoreboard embed, so
 * both show the same published figures the same way; `compact` drops the chart and deputy names.
 */
export function Standings({ tally, compact = false }: { tally: AreaTally; compact?: boolean }) {
  return (
    <div className="standings" data-testid="standings" data-contest={tally.contestId}>
      <Progress tally={tally} />
      <Totals tally={tally} compact={compact} />
    </div>
  );
}
