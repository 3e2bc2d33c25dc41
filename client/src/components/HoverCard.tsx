import type { AreaTally } from '../../../server/contract/index.js';
import { formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { standings, summarise } from '../lib/tally.js';

/** The card for the area under the pointer (or tapped). Fixed size and position: no reflow. */
export function HoverCard({ name, tally, anomalies, hint }: { name: string | null; tally?: AreaTally; anomalies?: number; hint?: string }) {
  const { t, locale } = useI18n();
  if (!name) return <div className="hover-card empty">{hint ?? t('hoverHint')}</div>;
  const s = summarise(tally);
  const top = tally ? standings(tally).slice(0, 3) : [];
  return (
    <div className="hover-card" data-testid="hover-card">
      <strong>{name}</strong>
      {tally ? (
        <>
          <div className="muted">
            {t('progress', { x: formatInt(tally.tpsPublished, locale), y: formatInt(tally.tpsExpected, locale), z: formatPct(s.progress, locale, 1) })}
          </div>
          {top.map((r) => (
            <div key={r.candidate.id} className="card-row">
              <span className="swatch" style={{ background: r.candidate.colour }} />
              {r.candidate.number}. {r.candidate.isEmptyColumn ? t('emptyColumn') : r.candidate.headName}
              <span className="num">
                {formatInt(r.votes, locale)} ({formatPct(r.share, locale, 1)})
              </span>
            </div>
          ))}
          <div className="muted">
            {t('turnout')}: {formatPct(s.turnout, locale, 1)}
            {anomalies ? ` · ${t('navAnomalies')}: ${formatInt(anomalies, locale)}` : ''}
          </div>
        </>
      ) : (
        <div className="muted">{t('noData')}</div>
      )}
    </div>
  );
}
