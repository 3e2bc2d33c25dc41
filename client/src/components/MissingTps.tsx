import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { MissingTpsResponse } from '../../../server/contract/index.js';
import { fetchMissing } from '../lib/api.js';
import { formatClock, formatDuration, formatInt } from '../lib/format.js';
import { useI18n } from '../lib/i18n.js';

type SortKey = 'since' | 'tps' | 'desa' | 'state';
const ROWS_SHOWN = 100;

/** Ticks once a minute so "time since polls closed" stays true on a screen left open all night. */
function useMinuteClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(id);
  }, []);
  return now;
}

/**
 * What the command centre chases: TPS of this area with nothing published yet in this race
 * ("belum masuk"), with the time since polls closed in the TPS's own zone (13:00 WIB/WITA/WIT, from
 * the API), oldest first, each linked to its TPS page. The list is re-read when the area's live
 * room moves to a new version (a form published or quarantined here), never on a timer.
 */
export function MissingTps({ areaCode, contestId, version, search }: { areaCode: string; contestId: string; version: number; search: string }) {
  const { t, lang, locale } = useI18n();
  const now = useMinuteClock();
  const [data, setData] = useState<MissingTpsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'since', desc: true });
  // A kab/kota can miss hundreds of TPS: draw the first ROWS_SHOWN, the rest on request.
  const [showAll, setShowAll] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      fetchMissing(areaCode, contestId)
        .then((d) => !cancelled && (setData(d), setError(null)))
        .catch((e) => !cancelled && setError((e as Error).message));
    // First load once the browser is idle (the map of a drill-down step paints first); after that,
    // deltas can arrive many times a second: wait for a quiet moment before asking again.
    const idle = (window as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number; cancelIdleCallback?: (h: number) => void });
    let handle: number | null = null;
    const timer = data ? setTimeout(load, 800) : null;
    if (!data) handle = idle.requestIdleCallback ? idle.requestIdleCallback(load, { timeout: 1500 }) : (setTimeout(load, 200) as unknown as number);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      if (handle != null) (idle.cancelIdleCallback ?? clearTimeout)(handle);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [areaCode, contestId, version]);

  const current = data && data.area.code === areaCode && data.contestId === contestId ? data : null;
  const closeMs = current?.pollsCloseAt ? Date.parse(current.pollsCloseAt) : NaN;
  const rows = useMemo(() => {
    const list = [...(current?.tps ?? [])];
    const cmp = (a: (typeof list)[number], b: (typeof list)[number]): number => {
      switch (sort.key) {
        // One close time per zone: within an area the oldest are the same age, then by code.
        case 'since':
          return a.code.localeCompare(b.code) * (sort.desc ? 1 : -1);
        case 'tps':
          return a.code.localeCompare(b.code);
        case 'desa':
          return a.desaName.localeCompare(b.desaName, 'id') || a.code.localeCompare(b.code);
        case 'state':
          return Number(a.uploaded) - Number(b.uploaded) || a.code.localeCompare(b.code);
      }
    };
    list.sort((a, b) => (sort.key === 'since' ? cmp(a, b) : sort.desc ? -cmp(a, b) : cmp(a, b)));
    return list;
  }, [current, sort]);

  const since = Number.isFinite(closeMs) ? now - closeMs : NaN;
  const sinceText = !Number.isFinite(since) ? '–' : since < 0 ? t('pollsOpen') : formatDuration(since, lang);
  const header = (key: SortKey, label: string, num = false) => (
    <th className={`${num ? 'num' : ''}${key === 'since' ? ' since-col' : ''}`} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort" data-sort={key} onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === 'since' }))}>
        {label}
        <span className="sort-mark">{sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );

  return (
    <details className="missing" data-testid="missing-tps" data-total={current?.total ?? ''} open>
      <summary>
        {t('missingTitle')}: {current ? formatInt(current.total, locale) : '…'}
      </summary>
      {error && !current && <p role="alert">{`${t('error')}: ${error}`}</p>}
      {!current ? (
        !error && <p className="muted">{t('loading')}</p>
      ) : current.total === 0 ? (
        <p className="muted">{t('missingNone')}</p>
      ) : (
        <>
          <p className="missing-summary" data-testid="missing-summary">
            {t('missingSummary', {
              n: formatInt(current.total, locale),
              t: current.pollsCloseAt ? formatClock(current.pollsCloseAt, current.timeZone, locale) : '–',
              z: current.timeZone,
            })}
            {' · '}
            <strong data-testid="missing-since">{t('missingSince', { d: sinceText })}</strong>
          </p>
          <div className="table-scroll missing-scroll">
            <table className="child-table missing-table" data-testid="missing-table">
              <thead>
                <tr>
                  {header('tps', t('tps'))}
                  {header('desa', t('desa'))}
                  {header('state', t('status'))}
                  {header('since', t('sinceClose'), true)}
                </tr>
              </thead>
              <tbody>
                {(showAll ? rows : rows.slice(0, ROWS_SHOWN)).map((r) => (
                  <tr key={r.code} data-code={r.code}>
                    <td>
                      <Link to={`/tps/${r.code}${search}`}>TPS {String(r.number).padStart(3, '0')}</Link>
                    </td>
                    <td>
                      {r.desaName}
                      <small className="muted"> · {r.kecName}</small>
                    </td>
                    <td>
                      <span className={`status-pill ${r.uploaded ? 'pending' : 'missing'}`}>{r.uploaded ? t('uploadedWaiting') : t('nothingUploaded')}</span>
                    </td>
                    <td className="num since-col">{sinceText}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {!showAll && rows.length > ROWS_SHOWN && (
            <button type="button" className="show-all" data-testid="missing-show-all" onClick={() => setShowAll(true)}>
              {t('missingShowAll', { n: formatInt(rows.length, locale) })}
            </button>
          )}
          {current.total > current.tps.length && (
            <p className="muted">{t('missingShowing', { n: formatInt(current.tps.length, locale), m: formatInt(current.total, locale) })}</p>
          )}
        </>
      )}
    </details>
  );
}
