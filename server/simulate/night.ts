/**
 * The shape of an election night, independent of any server: which TPS report, when, with what numbers,
 * and which uploads go wrong. Deterministic for a given seed so two runs can be compared.
 */
import { mulberry32 } from '../../db/seed/random.js';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface SimTps { code: string; votersL: number; votersP: number; kabCode: string; kecCode: string; desaCode: string }
export interface SimCandidate { id: string; number: number; isEmptyColumn: boolean }
export interface SimContest { id: string; type: 'pkwkp' | 'pkwkk'; areaCode: string; candidates: SimCandidate[] }

export type ErrorProfile = 'none' | 'normal' | 'heavy';
/** Shares of uploads that go wrong, per profile (Sirekap 2024 saw a few percent of each). */
export const ERROR_PROFILES: Record<ErrorProfile, { neverReport: number; duplicate: number; wrongPage: number; mistake: number; hardToRead: number }> = {
  none: { neverReport: 0, duplicate: 0, wrongPage: 0, mistake: 0, hardToRead: 0 },
  normal: { neverReport: 0.02, duplicate: 0.05, wrongPage: 0.02, mistake: 0.03, hardToRead: 0.03 },
  heavy: { neverReport: 0.05, duplicate: 0.15, wrongPage: 0.06, mistake: 0.08, hardToRead: 0.1 },
};

export const rng = mulberry32;

/**
 * Minutes after polls close (13:00 local) when a TPS's form arrives. Counting takes 2–5 hours, then
 * the upload: a log-normal with its mode near 3.5 h and a long tail to the next morning, as Sirekap's
 * 2024 progress curves show (most forms by midnight, stragglers until ~09:00).
 */
export function arrivalMinutes(r: () => number): number {
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const m = Math.exp(Math.log(240) + 0.45 * z);
  return Math.min(20 * 60, Math.max(60, m));
}

/** Real kecamatan vote shares: contest id → kecamatan code → candidate id → votes. */
export type ShareTable = Map<string, Map<string, Record<string, number>>>;

/** `<repo>/../shared/data/pilkada2024` when present (development machines); absent on a user's machine. */
export function defaultSharesDir(): string {
  return fileURLToPath(new URL('../../../shared/data/pilkada2024/', import.meta.url));
}

/**
 * Loads the KPU kab/kota files (`pkwkp/<prov>/<kab>.json`, `pkwkk/<prov>/<kab>.json`): their table is per
 * kecamatan. Missing files are fine (shares then fall back to the contest-wide or uniform split).
 */
export function loadShares(dir: string, contests: SimContest[], kabCodes: string[]): ShareTable {
  const out: ShareTable = new Map();
  if (!existsSync(dir)) return out;
  for (const c of contests) {
    const byKec = new Map<string, Record<string, number>>();
    const kabs = c.type === 'pkwkk' ? [c.areaCode] : kabCodes.filter((k) => k.startsWith(c.areaCode));
    for (const kab of kabs) {
      const file = join(dir, c.type, kab.slice(0, 2), `${kab}.json`);
      if (!existsSync(file)) continue;
      try {
        const table = JSON.parse(readFileSync(file, 'utf8'))?.tungsura?.table ?? {};
        for (const [kec, row] of Object.entries(table as Record<string, Record<string, unknown>>)) {
          const votes: Record<string, number> = {};
          for (const cand of c.candidates) if (typeof row[cand.id] === 'number') votes[cand.id] = row[cand.id] as number;
          if (Object.values(votes).some((v) => v > 0)) byKec.set(kec, votes);
        }
      } catch { /* a damaged file only loses realism, not correctness */ }
    }
    out.set(c.id, byKec);
  }
  return out;
}

const fieldOf = (c: SimCandidate) => (c.isEmptyColumn ? 'suara_kolom_kosong' : `suara_paslon_${c.number}`);

/**
 * Both pages of a consistent C.Hasil for one TPS and contest: registers from the seeded TPS, turnout
 * 55–85 %, a few invalid ballots, valid votes split by the kecamatan's real shares with per-TPS noise.
 */
export function formValues(t: SimTps, contest: SimContest, shares: ShareTable, r: () => number): Record<string, number> {
  const v: Record<string, number> = {};
  const row = (name: string, l: number, p: number) => { v[`${name}_l`] = l; v[`${name}_p`] = p; v[`${name}_j`] = l + p; };
  const turnout = 0.55 + 0.3 * r();
  const usedL = Math.floor(t.votersL * turnout);
  const usedP = Math.min(t.votersP, Math.floor(t.votersP * (turnout + 0.04 * (r() - 0.5))));
  row('pemilih_dpt', t.votersL, t.votersP); row('pemilih_dpph', 0, 0); row('pemilih_dptb', 0, 0); row('pemilih_total', t.votersL, t.votersP);
  row('pengguna_dpt', usedL, usedP); row('pengguna_dpph', 0, 0); row('pengguna_dptb', 0, 0); row('pengguna_total', usedL, usedP);
  const total = usedL + usedP;
  const invalid = Math.min(total, Math.floor(total * 0.03 * r()));
  const valid = total - invalid;
  Object.assign(v, splitValidVotes(valid, t, contest, shares, r));
  v.suara_sah = valid; v.suara_tidak_sah = invalid; v.suara_total = total;
  return v;
}

/**
 * The valid votes of one TPS split between the candidates: the kecamatan's real 2024 shares, each
 * jittered by up to ×e^±0.35 so that TPS differ; the last candidate takes the rounding remainder.
 */
export function splitValidVotes(valid: number, t: SimTps, contest: SimContest, shares: ShareTable, r: () => number): Record<string, number> {
  const v: Record<string, number> = {};
  const real = shares.get(contest.id)?.get(t.kecCode);
  const weights = contest.candidates.map((c) => Math.max(0, (real?.[c.id] ?? 1) * Math.exp(0.35 * (r() - 0.5) * 2)));
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  let left = valid;
  contest.candidates.forEach((c, i) => {
    const n = i === contest.candidates.length - 1 ? left : Math.min(left, Math.round((valid * weights[i]) / sum));
    v[fieldOf(c)] = n;
    left -= n;
  });
  return v;
}

/** A genuine KPPS mistake: the candidate lines no longer add up to suara sah (H1 fails: quarantine). */
export function withMistake(values: Record<string, number>, contest: SimContest, r: () => number): Record<string, number> {
  const c = contest.candidates[Math.floor(r() * contest.candidates.length)];
  return { ...values, [fieldOf(c)]: values[fieldOf(c)] + 1 + Math.floor(r() * 20) };
}

/** Votes by candidate id, as the publish path derives them. */
export function votesOf(values: Record<string, number>, contest: SimContest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of contest.candidates) out[c.id] = values[fieldOf(c)] ?? 0;
  return out;
}
