import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { AreaResponse } from '../../../server/contract/index.js';
import { fetchAnomalies, fromEvent, type AnomalyRow } from '../lib/anomalies.js';
import { ApiError, fetchArea } from '../lib/api.js';
import { isAreaCode } from '../lib/areaCode.js';
import { formatDateTime, formatInt } from '../lib/format.js';
import { useI18n, type TextKey } from '../lib/i18n.js';
import { useAnomalyEvents, useRooms } from '../lib/live.js';

/** INTEGRITY §6.3 bands. */
export function band(severity: number): 'critical' | 'high' | 'medium' | 'low' {
  return severity >= 60 ? 'critical' : severity >= 30 ? 'high' : severity >= 10 ? 'medium' : 'low';
}
const BAND_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

function summary(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['status', 'delta', 'fields', 'message', 'reason', 'z', 'p']) if (d[k] !== undefined) parts.push(`${k}: ${Array.isArray(d[k]) ? (d[k] as unknown[]).join(', ') : String(d[k])}`);
  return parts.join(' · ') || JSON.stringify(d).slice(0, 120);
}

/**
 * Bawaslu's anomaly feed: findings by severity, filtered by area and rule, each linked to its TPS
 * page (photo, reading, versions, audit). New findings arrive through Socket.IO on the rooms of the
 * chosen area; the list from the API is the backlog.
 */
export function AnomaliesPage() {
  const { t, locale } = useI18n();
  const [params, setParams] = useSearchParams();
  const area = isAreaCode(params.get('wilayah') ?? '') ? params.get('wilayah')! : '00';
  const rule = params.get('aturan') ?? '';
  const minBand = (params.get('tingkat') ?? 'low') as keyof typeof BAND_RANK;
  const [rows, setRows] = useState<AnomalyRow[]>([]);
  const [restMissing, setRestMissing] = useState(false);
  const [areaInfo, setAreaInfo] = useState<AreaResponse | null>(null);
  const [liveIds, setLiveIds] = useState<Set<number>>(new Set());

  useEffect(() => {
    let cancelled = false;
    fetchArea(area).then((a) => !cancelled && setAreaInfo(a)).catch(() => !cancelled && setAreaInfo(null));
    fetchAnomalies({ area, rule: rule || undefined, limit: 1000 })
      .then((r) => !cancelled && (setRows(r), setRestMissing(false)))
      .catch((e: ApiError) => !cancelled && (setRows([]), setRestMissing(e.status === 404)));
    return () => {
      cancelled = true;
    };
  }, [area, rule]);

  // Anomaly events go to the rooms whose area contains the TPS: join the rooms of this area.
  const wanted = useMemo(() => {
    if (!areaInfo) return [];
    if (areaInfo.area.level === 0) return areaInfo.tallies.map((t) => ({ contest: t.contestId, area: t.contestId.split('-')[1] ?? '00' }));
    return areaInfo.tallies.map((t) => ({ contest: t.contestId, area: areaInfo.area.code }));
  }, [areaInfo]);
  useRooms(wanted);
  useAnomalyEvents((a) => {
    const where = a.tpsCode ?? a.areaCode;
    if (area !== '00' && !where.startsWith(area)) return;
    setRows((rs) => (rs.some((r) => r.id === a.id) ? rs : [fromEvent(a), ...rs]));
    setLiveIds((s) => new Set(s).add(a.id));
  });

  const rules = useMemo(() => [...new Set(rows.map((r) => r.rule))].sort(), [rows]);
  const shown = rows
    .filter((r) => (!rule || r.rule === rule) && BAND_RANK[band(r.severity)] >= BAND_RANK[minBand])
    .sort((a, b) => b.severity - a.severity || b.at.localeCompare(a.at));
  const counts = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const r of rows) counts[band(r.severity)]++;
  const set = (k: string, v: string) => setParams((p) => (v ? p.set(k, v) : p.delete(k), p), { replace: true });

  return (
    <div className="page anomalies-page" data-testid="anomalies-page">
      <h1>{t('navAnomalies')}</h1>
      <p>
        {(['critical', 'high', 'medium', 'low'] as const).map((b) => (
          <span key={b} style={{ marginRight: '0.8rem' }}>
            <span className={`sev ${b}`}>{t(b as TextKey)}</span> {formatInt(counts[b], locale)}
          </span>
        ))}
      </p>
      <div className="filters">
        <label>
          {t('area')}{' '}
          <input defaultValue={area === '00' ? '' : area} placeholder="62, 6201…" size={12} onBlur={(e) => set('wilayah', e.target.value.replace(/\./g, ''))} onKeyDown={(e) => e.key === 'Enter' && set('wilayah', e.currentTarget.value.replace(/\./g, ''))} data-testid="area-filter" />
        </label>
        <label>
          {t('rule')}{' '}
          <select value={rule} onChange={(e) => set('aturan', e.target.value)}>
            <option value="">{t('all')}</option>
            {rules.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          {t('minSeverity')}{' '}
          <select value={minBand} onChange={(e) => set('tingkat', e.target.value === 'low' ? '' : e.target.value)}>
            {(['low', 'medium', 'high', 'critical'] as const).map((b) => (
              <option key={b} value={b}>
                {t(b as TextKey)}
              </option>
            ))}
          </select>
        </label>
        {areaInfo && <span className="muted">{areaInfo.area.level === 0 ? t('national') : areaInfo.area.name}</span>}
      </div>
      {restMissing && <div className="notice">{t('anomaliesNoRest')}</div>}
      {shown.length === 0 ? (
        <p className="muted" data-testid="anomalies-empty">{t('anomaliesEmpty')}</p>
      ) : (
        <table className="data-table" data-testid="anomalies">
          <thead>
            <tr>
              <th>{t('severity')}</th>
              <th>{t('rule')}</th>
              <th>{t('kind')}</th>
              <th>TPS / {t('area')}</th>
              <th>{t('contest')}</th>
              <th>{t('time')}</th>
              <th>{t('detail')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id} data-anomaly={r.id}>
                <td>
                  <span className={`sev ${band(r.severity)}`}>{formatInt(r.severity, locale)}</span>
                  {liveIds.has(r.id) && <small> · {t('newLive')}</small>}
                </td>
                <td>{r.rule}</td>
                <td>{r.kind}</td>
                <td>{r.tpsCode ? <Link to={`/tps/${r.tpsCode}${r.contestId ? `?kontes=${r.contestId}` : ''}`}>{r.tpsCode}</Link> : <Link to={`/wilayah/${r.areaCode}`}>{r.areaCode}</Link>}</td>
                <td>{r.contestId ?? '–'}</td>
                <td>{formatDateTime(r.at, locale)}</td>
                <td className="muted">{summary(r.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
