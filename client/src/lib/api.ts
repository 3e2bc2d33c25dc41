import type { AreaResponse, AreaTally, MissingTpsResponse } from '../../../server/contract/index.js';

/**
 * The REST client. Every call returns the server's JSON as typed in server/contract; errors carry
 * the server's `{ error: { code, message } }` so pages can say what went wrong instead of "failed".
 */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const TOKEN_KEY = 'rekap.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage blocked */
  }
}

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  const token = getToken();
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  if (init.body && typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (err) {
    throw new ApiError(0, 'network', `network error: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep null */
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

// Area snapshots are small and asked for again on every drill-up; a short-lived cache keeps the
// map instant while socket deltas invalidate entries as soon as anything changes.
const areaCache = new Map<string, { at: number; promise: Promise<AreaResponse> }>();
const AREA_TTL_MS = 30_000;

/**
 * Names, children and contests of an area. `practice` asks for the practice election's races
 * (?latihan=1): they are cached under their own key, so real and practice never mix.
 */
export function fetchArea(code: string, opts: { fresh?: boolean; practice?: boolean } = {}): Promise<AreaResponse> {
  const key = opts.practice ? `latihan:${code}` : code;
  const hit = areaCache.get(key);
  if (!opts.fresh && hit && Date.now() - hit.at < AREA_TTL_MS) return hit.promise;
  const promise = apiFetch<AreaResponse>(`/api/areas/${encodeURIComponent(code)}${opts.practice ? '?latihan=1' : ''}`);
  areaCache.set(key, { at: Date.now(), promise });
  promise.catch(() => areaCache.delete(key));
  return promise;
}

export function invalidateArea(code?: string): void {
  if (code === undefined) areaCache.clear();
  else {
    areaCache.delete(code);
    areaCache.delete(`latihan:${code}`);
  }
}

/** TPS of an area with nothing published yet in one race, oldest-closed first is the caller's sort. */
export function fetchMissing(code: string, contestId: string, limit = 500): Promise<MissingTpsResponse> {
  return apiFetch<MissingTpsResponse>(`/api/areas/${encodeURIComponent(code)}/missing?kontes=${encodeURIComponent(contestId)}&limit=${limit}`);
}

/**
 * Tally of one contest in each child area, keyed by child code. At national level each province is
 * shown with its own governor race (`pkwkp-<code>`), so contestId may be null there.
 */
export type ChildTallies = Record<string, AreaTally | undefined>;

export async function fetchChildTallies(area: AreaResponse, contestId: string | null, opts: { fresh?: boolean } = {}): Promise<ChildTallies> {
  const out: ChildTallies = {};
  // One request per child; each is a cheap indexed lookup and the browser pipelines them.
  const rows = await Promise.all(
    area.children.map(async (c) => {
      try {
        return [c.code, await fetchArea(c.code, opts)] as const;
      } catch {
        return [c.code, null] as const;
      }
    }),
  );
  for (const [code, child] of rows) {
    if (!child) continue;
    const want = contestId ?? `pkwkp-${code}`;
    out[code] = child.tallies.find((t) => t.contestId === want) ?? (contestId ? undefined : child.tallies.find((t) => t.contestType === 'pkwkp'));
  }
  return out;
}
