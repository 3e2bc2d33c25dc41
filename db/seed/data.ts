/**
 * The shipped data set in db/data/ (written by db/seed/build-data.ts, read by the seeder).
 * Plain gzip'd TSV/JSON so that the files stay small, diff-able after gunzip, and readable without
 * this code. Formats are described in db/data/README.md.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const dataDir = fileURLToPath(new URL('../data/', import.meta.url));

export const DATA_FILES = {
  areas: 'areas.tsv.gz',
  contests: 'contests.json.gz',
  tpsDesa: 'tps-desa.tsv.gz',
  kecamatanTps: 'kecamatan-tps.tsv.gz',
} as const;

export interface ElectionData { id: string; name: string; kind: 'pilkada' | 'pemilu'; pollingDate: string }

export interface CandidateData {
  /** KPU's 7-digit paslon id (Sirekap Pilkada). */
  id: string;
  number: number;
  headName: string;
  deputyName: string;
  colour: string;
  isEmptyColumn: boolean;
}

export interface ContestData {
  id: string;
  type: 'pkwkp' | 'pkwkk';
  areaCode: string;
  name: string;
  /** KPU's `progres.total` for the whole race (TPS), as published on 28 Nov 2024. */
  kpuTpsTotal: number | null;
  candidates: CandidateData[];
}

export interface ContestsFile { election: ElectionData; source: string; contests: ContestData[] }

export interface AreaData { code: string; level: number; parentCode: string | null; name: string; lat: number | null; lon: number | null }

/** Pilkada TPS planned for one desa, with its 2019 register (null when KawalPemilu had no row for it). */
export interface DesaTpsData { desa: string; tps: number; special: number; dptL: number | null; dptP: number | null }

export const levelOfCode = (code: string): number => ({ 2: 1, 4: 2, 6: 3, 10: 4 })[code.length] ?? 0;
const PARENT_LENGTH: Record<number, number> = { 4: 2, 6: 4, 10: 6 };
export const parentOfCode = (code: string): string | null => (PARENT_LENGTH[code.length] ? code.slice(0, PARENT_LENGTH[code.length]) : null);

function readGz(file: string, dir = dataDir): string {
  try {
    return gunzipSync(readFileSync(dir + file)).toString('utf8');
  } catch (err) {
    throw new Error(`cannot read shipped data ${dir}${file} (${(err as Error).message}); restore it from git or rebuild with db/seed/build-data.ts`);
  }
}

function tsvRows(text: string, expectedHeader: string[]): string[][] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines.shift()?.split('\t') ?? [];
  if (header.join('\t') !== expectedHeader.join('\t')) {
    throw new Error(`shipped data header is "${header.join(',')}", expected "${expectedHeader.join(',')}": rebuild with db/seed/build-data.ts`);
  }
  return lines.map((l) => l.split('\t'));
}

const num = (s: string): number | null => (s === '' ? null : Number(s));

export function loadAreas(dir = dataDir): AreaData[] {
  return tsvRows(readGz(DATA_FILES.areas, dir), ['code', 'name', 'lat', 'lon']).map(([code, name, lat, lon]) => ({
    code, name, level: levelOfCode(code), parentCode: parentOfCode(code), lat: num(lat), lon: num(lon),
  }));
}

export function loadContests(dir = dataDir): ContestsFile {
  return JSON.parse(readGz(DATA_FILES.contests, dir)) as ContestsFile;
}

export function loadDesaTps(dir = dataDir): DesaTpsData[] {
  return tsvRows(readGz(DATA_FILES.tpsDesa, dir), ['desa', 'tps', 'special', 'dpt_l', 'dpt_p']).map(([desa, tps, special, l, p]) => ({
    desa, tps: Number(tps), special: Number(special), dptL: num(l), dptP: num(p),
  }));
}

/** KPU's Pilkada TPS count per kecamatan (KPU code) and the Kemendagri kecamatan it was placed in. */
export function loadKecamatanTps(dir = dataDir): { kpuCode: string; areaCode: string | null; name: string; tps: number; match: string }[] {
  return tsvRows(readGz(DATA_FILES.kecamatanTps, dir), ['kpu_code', 'area_code', 'name', 'tps', 'match']).map(([kpuCode, areaCode, name, tps, match]) => ({
    kpuCode, areaCode: areaCode || null, name, tps: Number(tps), match,
  }));
}

/** A fingerprint of the shipped files, stored in `meta` so a changed data release is noticed. */
export function dataVersion(dir = dataDir): string {
  const h = createHash('sha256');
  for (const f of [DATA_FILES.areas, DATA_FILES.contests, DATA_FILES.tpsDesa]) h.update(readFileSync(dir + f));
  return h.digest('hex').slice(0, 16);
}
