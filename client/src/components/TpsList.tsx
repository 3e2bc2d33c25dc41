import { Link } from 'react-router-dom';
import type { AreaTally, UnitTally } from '../../../server/contract/index.js';
import { formatInt, formatPct } from '../lib/format.js';
import { useI18n, type TextKey } from '../lib/i18n.js';
import { summarise } from '../lib/tally.js';

const STATUS_LABEL: Record<string, TextKey> = { published: 'published', quarantined: 'statusQuarantined', incomplete: 'pending' };

/** TPS of a desa with their live status and leader; each links to its TPS page (photo, reading, audit). */
export function TpsList({ units, tallies, contestId }: { units: Record<string, UnitTally>; tallies: Record<string, AreaTally | undefined>; contestId: string | null }) {
  const { t, locale } = useI18n();
  const codes = Object.keys(units).sort();
  if (!codes.length) return <p className="muted">{t('loading')}</p>;
  return (
    <>
      <h2>{t('tpsList')}</h2>
      <table className="child-table" data-testid="tps-list">
        <thead>
          <tr>
            <th>{t('tps')}</th>
            <th>{t('status')}</th>
            <th>{t('leader')}</th>
            <th className="num">{t('validVotes')}</th>
            <th className="num">{t('turnout')}</th>
          </tr>
        </thead>
        <tbody>
          {codes.map((code) => {
            const u = units[code];
            const s = summarise(tallies[code]);
            const label = u.status ? STATUS_LABEL[u.status] : 'notUploaded';
            return (
              <tr key={code} data-code={code} className={`tps-${u.status ?? 'missing'}`}>
                <td>
                  <Link to={`/tps/${code}${contestId ? `?kontes=${contestId}` : ''}`}>TPS {code.slice(10)}</Link>
                </td>
                <td>
                  <span className={`status-pill ${u.status ?? 'missing'}`}>{t(label)}</span>
                </td>
                <td>
                  {s.leader ? (
                    <>
                      <span className="swatch" style={{ background: s.leader.candidate.colour }} />
                      {s.leader.candidate.number}
                    </>
                  ) : (
                    '–'
                  )}
                </td>
                <td className="num">{u.status === 'published' ? formatInt(u.suaraSah, locale) : '–'}</td>
                <td className="num">{formatPct(u.turnout, locale, 1)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
