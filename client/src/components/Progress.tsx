import type { AreaTally } from '../../../server/contract/index.js';
import { formatDateTime, formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';

/** "x dari y TPS (z%)" with a bar; quarantined TPS are counted apart and never in x. */
export function Progress({ tally }: { tally: AreaTally }) {
  const { t, locale } = useI18n();
  const z = tally.tpsExpected > 0 ? tally.tpsPublished / tally.tpsExpected : 0;
  const q = tally.tpsExpected > 0 ? tally.tpsQuarantined / tally.tpsExpected : 0;
  return (
    <div className="progress-block" data-testid="progress">
      <div className="progress-label">
        {t('progress', { x: formatInt(tally.tpsPublished, locale), y: formatInt(tally.tpsExpected, locale), z: formatPct(z, locale) })}
      </div>
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={tally.tpsExpected} aria-valuenow={tally.tpsPublished}>
        <div className="bar-fill" style={{ width: `${Math.min(100, z * 100)}%` }} />
        <div className="bar-quarantine" style={{ left: `${Math.min(100, z * 100)}%`, width: `${Math.min(100 - z * 100, q * 100)}%` }} />
      </div>
      <div className={`quarantine-note${tally.tpsQuarantined > 0 ? ' has' : ''}`} data-testid="quarantine">
        {tally.tpsQuarantined > 0
          ? t('quarantined', { n: formatInt(tally.tpsQuarantined, locale), v: formatInt(tally.quarantinedVotes, locale) })
          : t('noQuarantine')}
      </div>
      <div className="updated" data-testid="updated">
        {tally.updatedAt && tally.version > 0 ? t('lastUpdate', { t: formatDateTime(tally.updatedAt, locale) }) : t('noUpdateYet')}
      </div>
    </div>
  );
}
