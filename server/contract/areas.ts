/** REST shapes for areas. Imported by the server (to produce) and the client (to consume). */

export type AreaLevel = 0 | 1 | 2 | 3 | 4; // 0 national, 1 provinsi, 2 kab/kota, 3 kecamatan, 4 desa

export interface AreaRef {
  code: string;
  name: string;
  level: AreaLevel;
}

export interface AreaChild extends AreaRef {
  tpsCount: number;
  lat: number | null;
  lon: number | null;
}

export interface CandidateInfo {
  id: string;
  number: number;
  headName: string;
  deputyName: string;
  colour: string;
  isEmptyColumn: boolean;
}

export interface AreaTally {
  contestId: string;
  contestName: string;
  contestType: 'pkwkp' | 'pkwkk' | 'ppwp';
  candidates: CandidateInfo[];
  /** Votes by candidate id, published TPS only. */
  votes: Record<string, number>;
  suaraSah: number;
  suaraTidakSah: number;
  tpsExpected: number;
  tpsPublished: number;
  tpsQuarantined: number;
  quarantinedVotes: number;
  votersRegistered: number;
  votersUsed: number;
  version: number;
  updatedAt: string | null;
  /** When polls closed for this race in this area (13:00 in the area's zone: WIB/WITA/WIT). */
  pollsCloseAt?: string | null;
}

export interface AreaResponse {
  area: AreaRef & { parentCode: string | null; lat: number | null; lon: number | null };
  /** Ancestors from national down to the parent, for breadcrumbs. */
  path: AreaRef[];
  tpsCount: number;
  children: AreaChild[];
  tallies: AreaTally[];
  /** True when asked with ?latihan=1: the tallies are the practice election's, never real ones. */
  practice?: boolean;
}

/** GET /api/areas/:code/missing?kontes= — TPS with no published or quarantined result yet ("belum masuk"). */
export interface MissingTpsResponse {
  area: AreaRef;
  contestId: string;
  pollsCloseAt: string | null;
  /** Zone the close time is in (WIB, WITA, WIT). */
  timeZone: string;
  /** All missing TPS; `tps` holds at most `limit` of them. */
  total: number;
  limit: number;
  tps: { code: string; number: number; desaCode: string; desaName: string; kecName: string; uploaded: boolean }[];
  generatedAt: string;
}

export interface HealthResponse {
  ok: boolean;
  version: string;
  database: 'ok' | 'unreachable';
  roles: string[];
  time: string;
}
