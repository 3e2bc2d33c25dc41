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

/**
 * What the command centre chases: TPS that have not uploaded. In a desa, the TPS themselves; above
 * it, the child areas with the most TPS still missing.
 */
export function MissingTps({ units, level, names, search }: { units: Record<string, UnitTally>; level: number; names: Record<string, string>; search: string }) {
  const { t, locale } = useI18n();
  const rows = Object.values(units)
    .filter((u) => u.tpsMissing > 0)
    .sort((a, b) => b.tpsMissing - a.tpsMissing || a.code.localeCompare(b.code));
  return (
    <details className="missing" data-testid="missing-tps" open={rows.length > 0 && rows.length <= 12}>
      <summary>
        {t('missingTps')}: {formatInt(rows.reduce((s, u) => s + u.tpsMissing, 0), locale)}
      </summary>
      {rows.length === 0 ? (
        <p className="muted">{Object.keys(units).length ? t('missingNone') : t('loading')}</p>
      ) : (
        <ul className="missing-list">
          {rows.slice(0, 200).map((u) => (
            <li key={u.code}>
              {level === 4 ? (
                <Link to={`/tps/${u.code}${search}`}>TPS {u.code.slice(10)}</Link>
              ) : (
                <Link to={`/wilayah/${u.code}${search}`}>{names[u.code] ?? u.code}</Link>
              )}
              {level !== 4 && (
                <span className="num">
                  {formatInt(u.tpsMissing, locale)} / {formatInt(u.tpsExpected, locale)}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
