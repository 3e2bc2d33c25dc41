import { lazy, Suspense } from 'react';
import type { AreaTally } from '../../../server/contract/index.js';
import { formatInt, formatPct } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';
import { standings } from '../lib/tally.js';

// Recharts is the largest dependency; loading it on demand keeps it off the first map paint.
const SharesChart = lazy(() => import('./SharesChart.js'));

/**
 * Totals and shares per paslon. Rows keep nomor urut order (not rank) and the chart has a fixed
 * height per candidate, so a live delta changes numbers and bar lengths but never moves anything.
 */
export function Totals({ tally, compact = false }: { tally: AreaTally; compact?: boolean }) {
  const { t, locale } = useI18n();
  const s = standings(tally);
  const leaderId = s[0] && s[0].votes > 0 ? s[0].candidate.id : null;
  const rows = [...s].sort((a, b) => a.candidate.number - b.candidate.number);
  const data = rows.map((r) => ({
    id: r.candidate.id,
    label: r.candidate.isEmptyColumn ? t('emptyColumn') : `${r.candidate.number}`,
    pct: r.share == null ? 0 : r.share * 100,
    colour: r.candidate.colour,
  }));
  return (
    <div className="totals" data-testid="totals">
      <table className="totals-table">
        <thead>
          <tr>
            <th>{t('candidateNo', { n: '#' })}</th>
            <th className="num">{t('votes')}</th>
            <th className="num">{t('share')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.candidate.id} data-candidate={r.candidate.id} className={r.candidate.id === leaderId ? 'leader' : ''}>
              <td>
                <span className="swatch" style={{ background: r.candidate.colour }} />
                <span className="cand-no">{r.candidate.number}.</span>{' '}
                {r.candidate.isEmptyColumn ? t('emptyColumn') : (
                  <span className="cand-names">
                    {r.candidate.headName}
                    {!compact && r.candidate.deputyName ? <small> – {r.candidate.deputyName}</small> : null}
                  </span>
                )}
              </td>
              <td className="num votes" data-testid={`votes-${r.candidate.id}`}>{formatInt(r.votes, locale)}</td>
              <td className="num">{formatPct(r.share, locale)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <td>{t('validVotes')}</td>
            <td className="num" data-testid="suara-sah">{formatInt(tally.suaraSah, locale)}</td>
            <td />
          </tr>
          {!compact && (
            <tr>
              <td>{t('invalidVotes')}</td>
              <td className="num">{formatInt(tally.suaraTidakSah, locale)}</td>
              <td />
            </tr>
          )}
        </tfoot>
      </table>
      {!compact && (
        <div className="chart" style={{ height: 36 * Math.max(1, data.length) + 10 }}>
          {/* Same height with or without votes, so the first published form moves nothing. */}
          {s.some((r) => r.votes > 0) ? (
            <Suspense fallback={null}>
              <SharesChart data={data} locale={locale} />
            </Suspense>
          ) : (
            <p className="muted chart-empty">{t('noVotesYet')}</p>
          )}
        </div>
      )}
    </div>
  );
}
