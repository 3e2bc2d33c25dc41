import { useEffect, useState } from 'react';
import type { AnomalyEvent } from '../../../server/contract/index.js';
import { apiFetch } from './api.js';
import { useAnomalyEvents } from './live.js';

/** An anomaly row as listed by the API (GET /api/anomalies) or pushed live (`anomaly` event). */
export interface AnomalyRow {
  id: number;
  rule: string;
  kind: string;
  contestId: string | null;
  tpsCode: string | null;
  areaCode: string;
  severity: number;
  status?: string;
  detail: unknown;
  at: string;
}

export function fromEvent(a: AnomalyEvent): AnomalyRow {
  return { ...a, status: 'active' };
}

function normalise(raw: unknown): AnomalyRow[] {
  const list = Array.isArray(raw) ? raw : ((raw as { items?: unknown[]; anomalies?: unknown[] })?.items ?? (raw as { anomalies?: unknown[] })?.anomalies ?? []);
  return (list as Record<string, unknown>[]).map((r) => ({
    id: Number(r.id),
    rule: String(r.rule ?? ''),
    kind: String(r.kind ?? ''),
    contestId: (r.contestId as string) ?? null,
    tpsCode: (r.tpsCode as string) ?? null,
    areaCode: String(r.areaCode ?? r.tpsCode ?? ''),
    severity: Number(r.severity ?? 0),
    status: (r.status as string) ?? 'active',
    detail: r.detail ?? null,
    at: String(r.at ?? r.createdAt ?? ''),
  }));
}

export async function fetchAnomalies(q: { area?: string; rule?: string; contest?: string; limit?: number }): Promise<AnomalyRow[]> {
  const params = new URLSearchParams();
  if (q.area && q.area !== '00') params.set('area', q.area);
  if (q.rule) params.set('rule', q.rule);
  if (q.contest) params.set('contest', q.contest);
  params.set('limit', String(q.limit ?? 500));
  return normalise(await apiFetch<unknown>(`/api/anomalies?${params}`));
}

/** The child area (by code prefix) an anomaly belongs to, or null. */
export function childOf(codes: string[], a: AnomalyRow): string | null {
  const where = a.tpsCode ?? a.areaCode;
  return codes.find((c) => where.startsWith(c)) ?? null;
}

/** Active anomalies per child area, for the "anomali" map colouring; live through `anomaly` events. */
export function useAnomalyCounts(areaCode: string | null, childCodes: string[], enabled: boolean): Record<string, number> {
  const [rows, setRows] = useState<AnomalyRow[]>([]);
  const key = childCodes.join(',');
  useEffect(() => {
    if (!enabled || !areaCode) return;
    let cancelled = false;
    fetchAnomalies({ area: areaCode, limit: 5000 })
      .then((r) => !cancelled && setRows(r))
      .catch(() => !cancelled && setRows([]));
    return () => {
      cancelled = true;
    };
  }, [areaCode, enabled]);
  useAnomalyEvents((a) => {
    if (enabled) setRows((rs) => (rs.some((r) => r.id === a.id) ? rs : [...rs, fromEvent(a)]));
  });
  const counts: Record<string, number> = {};
  const codes = key ? key.split(',') : [];
  for (const r of rows) {
    if (r.status && r.status !== 'active') continue;
    const c = childOf(codes, r);
    if (c) counts[c] = (counts[c] ?? 0) + 1;
  }
  return counts;
}
