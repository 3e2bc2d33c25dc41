import { useEffect, useState } from 'react';
import type { AnomaliesResponse, AnomalyCountsResponse, AnomalyEvent, FindingDto } from '../../../server/contract/index.js';
import { apiFetch } from './api.js';
import { useAnomalyEvents } from './live.js';

/** An anomaly row as listed by the API (GET /api/anomalies, with its review status) or pushed live
 * (`anomaly` event): the contract's shape, so server and client cannot drift apart. */
export type AnomalyRow = AnomalyEvent & { status?: string };

export function fromEvent(a: AnomalyEvent): AnomalyRow {
  return { ...a, status: 'active' };
}

function fromFinding(f: FindingDto): AnomalyRow {
  return {
    id: f.id,
    rule: f.rule,
    kind: f.kind,
    contestId: f.contestId,
    tpsCode: f.tpsCode,
    areaCode: f.areaCode,
    severity: f.severity,
    status: f.status,
    detail: f.detail,
    at: f.createdAt,
  };
}

export async function fetchAnomalies(q: { area?: string; rule?: string; contest?: string; limit?: number }): Promise<AnomalyRow[]> {
  const params = new URLSearchParams();
  if (q.area && q.area !== '00') params.set('area', q.area);
  if (q.rule) params.set('rule', q.rule);
  if (q.contest) params.set('contest', q.contest);
  params.set('limit', String(q.limit ?? 500));
  const body = await apiFetch<AnomaliesResponse>(`/api/anomalies?${params}`);
  return body.anomalies.map(fromFinding);
}

/** The child area (by code prefix) an anomaly belongs to, or null. */
export function childOf(codes: string[], a: AnomalyRow): string | null {
  const where = a.tpsCode ?? a.areaCode;
  return codes.find((c) => where.startsWith(c)) ?? null;
}

/**
 * Active anomalies per child area, for the "anomali" map colouring: counted by the server over every
 * finding under the area (a list page would undercount), then kept live through `anomaly` events.
 */
export function useAnomalyCounts(areaCode: string | null, childCodes: string[], enabled: boolean): Record<string, number> {
  const [base, setBase] = useState<Record<string, number>>({});
  const [live, setLive] = useState<AnomalyRow[]>([]);
  const key = childCodes.join(',');
  useEffect(() => {
    if (!enabled || !areaCode) return;
    let cancelled = false;
    setLive([]);
    apiFetch<AnomalyCountsResponse>(`/api/anomalies/counts?area=${encodeURIComponent(areaCode)}`)
      .then((r) => !cancelled && setBase(r.counts))
      .catch(() => !cancelled && setBase({}));
    return () => {
      cancelled = true;
    };
  }, [areaCode, enabled]);
  useAnomalyEvents((a) => {
    if (enabled) setLive((rs) => (rs.some((r) => r.id === a.id) ? rs : [...rs, fromEvent(a)]));
  });
  const counts: Record<string, number> = { ...base };
  const codes = key ? key.split(',') : [];
  for (const r of live) {
    const c = childOf(codes, r);
    if (c) counts[c] = (counts[c] ?? 0) + 1;
  }
  return counts;
}
