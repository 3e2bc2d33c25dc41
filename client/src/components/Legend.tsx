import type { CandidateInfo } from '../../../server/contract/index.js';
import { formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { NO_DATA_FILL, rampBins, type ColourMode } from '../lib/tally.js';

export function Legend({ mode, candidates }: { mode: ColourMode; candidates: CandidateInfo[] }) {
  const { t, locale } = useI18n();
  const items: { colour: string; label: string }[] =
    mode === 'leader'
      ? candidates.map((c) => ({ colour: c.colour, label: `${c.number}. ${c.isEmptyColumn ? t('emptyColumn') : c.headName}` }))
      : rampBins(mode).map((b) => ({ colour: b.colour, label: mode === 'anomalies' ? `≥ ${formatInt(b.from, locale)}` : `≥ ${formatPct(b.from, locale, 0)}` }));
  if (mode === 'leader' && items.length === 0) items.push({ colour: 'linear-gradient(90deg,#c0504d,#4f81bd,#9bbb59)', label: t('leaderEach') });
  return (
    <div className="legend" aria-label={t('legend')}>
      {items.map((i) => (
        <span key={i.label} className="legend-item">
          <span className="swatch" style={{ background: i.colour }} />
          {i.label}
        </span>
      ))}
      <span className="legend-item">
        <span className="swatch" style={{ background: NO_DATA_FILL }} />
        {t('noData')}
      </span>
    </div>
  );
}
