/**
 * Paint timings the e2e run reads (window.__rekapPaints): each entry is one map layer on screen,
 * with the time since navigation start and, for a drill-down, since the click that asked for it.
 */
export interface PaintTiming {
  area: string;
  at: number;
  sinceClick: number | null;
}

declare global {
  interface Window {
    __rekapPaints?: PaintTiming[];
    __rekapClickAt?: number | null;
  }
}

export function markDrillStart(): void {
  window.__rekapClickAt = performance.now();
}

export function recordPaint(area: string): void {
  const at = performance.now();
  const click = window.__rekapClickAt ?? null;
  window.__rekapClickAt = null;
  (window.__rekapPaints ??= []).push({ area, at, sinceClick: click == null ? null : at - click });
}
