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
}

export interface AreaResponse {
  area: AreaRef & { parentCode: string | null; lat: number | null; lon: number | null };
  /** Ancestors from national down to the parent, for breadcrumbs. */
  path: AreaRef[];
  tpsCount: number;
  children: AreaChild[];
  tallies: AreaTally[];
}

export interface HealthResponse {
  ok: boolean;
  version: string;
  database: 'ok' | 'unreachable';
  roles: string[];
  time: string;
}
