/**
 * A seeded synthetic election over a real TPS universe (by default all 4,446 Kalimantan Tengah
 * Pilkada TPS), with optional planted anomalies and their ground truth. Used by the detector tests,
 * `workers/detectors/evaluate.ts` and the election-night simulator.
 *
 * Model (INTEGRITY §8.1, adapted to Pilkada): DPT per TPS from the universe (or drawn ≤ 600);
 * DPT turnout τ ~ Beta(μκ, (1 − μ)κ) with μ = kabupaten N(0.68, 0.04) + kecamatan N(0, 0.025);
 * moved and e-KTP voters small binomials bounded by the 2.5% reserve; invalid ~ Bin(TOT, 0.02) per
 * race; vote shares nested Dirichlet kecamatan prior → desa (60) → TPS (150), the kecamatan prior
 * being real per-kecamatan results when given. Both races at one TPS share the same voters.
 */
import { Rng } from './random.js';
import type { TpsRecord } from './types.js';

export interface UniverseTps {
  code: string;
  desaCode: string;
  kecCode: string;
  kabCode: string;
  provCode: string;
  /** Registered voters; drawn when absent. */
  registered?: number;
}

export interface UniverseContest {
  id: string;
  type: 'pkwkp' | 'pkwkk' | 'ppwp';
  /** Province or kab/kota code that the race covers. */
  areaCode: string;
  /** Candidate ids in nomor urut order. */
  candidates: string[];
}

export interface Universe {
  tps: UniverseTps[];
  contests: UniverseContest[];
  /** contestId → kecamatan code → votes (or shares) per candidate id: the kecamatan prior. */
  priors?: Map<string, Map<string, Record<string, number>>>;
}

export interface PlantOptions {
  /**
   * Ballot stuffing at this many TPS, following INTEGRITY §8.1's fraud injection: the local leader
   * gains χ_m of the non-voters' ballots and χ_s of the other candidates' votes. 'extreme' (default):
   * χ_m, χ_s ~ U(0.8, 1); 'incremental': ι ~ U(0, 0.5); 'turnout': χ_m ~ U(0.8, 1), χ_s = 0 (only
   * extra ballots, no votes taken from others, the hardest case for share-based tests).
   */
  stuffing?: number;
  stuffingMode?: 'extreme' | 'incremental' | 'turnout';
  /** Which race the stuffer fills (default: the governor race only). */
  stuffingContestType?: 'pkwkp' | 'pkwkk' | 'all';
  /** Results of the most and least voted candidates exchanged at one TPS. */
  swaps?: number;
  /** One TPS's photo (and therefore its numbers) submitted for a second TPS of the same desa. */
  photoReuse?: number;
  /** TPS to leave out of plants (e.g. already used by a test). */
  exclude?: Set<string>;
}

export type PlantKind = 'stuffing' | 'swap' | 'photo_reuse';

export interface Plant {
  kind: PlantKind;
  tpsCode: string;
  contestId: string;
  detail: Record<string, unknown>;
}

export interface SynthResult {
  tpsCode: string;
  contestId: string;
  /** Every field as written on the form (Pilkada keys, candidate votes keyed by candidate id). */
  values: Record<string, number>;
  /** What the statistical detectors consume. */
  record: TpsRecord;
  /** SHA-256 of the submitted photo (hex); equal for a reused photo. */
  photoSha256: string;
  /** The master register (L, P) of this TPS: H9 compares the form with it. */
  master: { votersL: number; votersP: number };
}

export interface SynthElection {
  seed: number;
  results: SynthResult[];
  plants: Plant[];
}

const KAPPA_TURNOUT = 60;
const CONC_DESA = 60;
const CONC_TPS = 150;

function split(rng: Rng, total: number, pl: number): [number, number] {
  const l = rng.binomial(total, pl);
  return [l, total - l];
}

function normalise(v: number[]): number[] {
  const s = v.reduce((a, b) => a + b, 0);
  return s > 0 ? v.map((x) => x / s) : v.map(() => 1 / v.length);
}

function recordOf(t: UniverseTps, contestId: string, values: Record<string, number>, candidates: string[]): TpsRecord {
  const votes: Record<string, number> = {};
  for (const c of candidates) votes[c] = values[c] ?? 0;
  return {
    tpsCode: t.code, contestId, desaCode: t.desaCode, kecCode: t.kecCode, kabCode: t.kabCode,
    registered: values.pemilih_dpt_j, votersDpt: values.pengguna_dpt_j, votersTotal: values.pengguna_total_j,
    votes, suaraSah: values.suara_sah, suaraTidakSah: values.suara_tidak_sah,
  };
}

/** Contests that a TPS votes in: every race whose area code is a prefix of the TPS code. */
export function contestsOf(universe: Universe, t: UniverseTps): UniverseContest[] {
  return universe.contests.filter((c) => t.code.startsWith(c.areaCode));
}

export function generateElection(universe: Universe, seed: number, plants: PlantOptions = {}): SynthElection {
  const rng = new Rng(seed);
  const kabMu = new Map<string, number>();
  const kecMu = new Map<string, number>();
  const desaShares = new Map<string, number[]>();
  const kecShares = new Map<string, number[]>();
  const results: SynthResult[] = [];
  const byTps = new Map<string, SynthResult[]>();

  const tpsSorted = [...universe.tps].sort((a, b) => (a.code < b.code ? -1 : 1));
  for (const t of tpsSorted) {
    if (!kabMu.has(t.kabCode)) kabMu.set(t.kabCode, Math.min(0.92, Math.max(0.45, rng.normal(0.68, 0.04))));
    if (!kecMu.has(t.kecCode)) kecMu.set(t.kecCode, rng.normal(0, 0.025));
    const mu = Math.min(0.95, Math.max(0.3, kabMu.get(t.kabCode)! + kecMu.get(t.kecCode)!));
    const registered = t.registered ?? Math.max(80, Math.min(600, Math.round(rng.normal(445, 90))));
    const pl = rng.uniform(0.47, 0.53);
    const [rl, rp] = split(rng, registered, pl);
    const tau = rng.beta(mu * KAPPA_TURNOUT, (1 - mu) * KAPPA_TURNOUT);
    // Voters per sex drawn from that sex's register, so U_dpt_l ≤ R_dpt_l always (H10).
    const udl = rng.binomial(rl, tau), udp = rng.binomial(rp, tau);
    const uDpt = udl + udp;
    const reserve = Math.ceil(0.025 * registered);
    const uMv = Math.min(rng.binomial(5, 0.3), reserve);
    const uKtp = Math.min(rng.binomial(4, 0.3), reserve - uMv);
    const [uml, ump] = split(rng, uMv, 0.5);
    const [ukl, ukp] = split(rng, uKtp, 0.5);
    const uTot = uDpt + uMv + uKtp;
    const base: Record<string, number> = {
      pemilih_dpt_l: rl, pemilih_dpt_p: rp, pemilih_dpt_j: registered,
      pengguna_dpt_l: udl, pengguna_dpt_p: udp, pengguna_dpt_j: uDpt,
      pengguna_dpph_l: uml, pengguna_dpph_p: ump, pengguna_dpph_j: uMv,
      pengguna_dptb_l: ukl, pengguna_dptb_p: ukp, pengguna_dptb_j: uKtp,
      pengguna_total_l: udl + uml + ukl, pengguna_total_p: udp + ump + ukp, pengguna_total_j: uTot,
      // Moved-in and e-KTP registrations: those who came (and, for DPPh, a few who did not).
      pemilih_dpph_l: uml, pemilih_dpph_p: ump, pemilih_dpph_j: uMv,
      pemilih_dptb_l: ukl, pemilih_dptb_p: ukp, pemilih_dptb_j: uKtp,
      pemilih_total_l: rl + uml + ukl, pemilih_total_p: rp + ump + ukp, pemilih_total_j: registered + uMv + uKtp,
    };
    const list: SynthResult[] = [];
    for (const c of contestsOf(universe, t)) {
      const kk = `${c.id}|${t.kecCode}`;
      if (!kecShares.has(kk)) {
        const prior = universe.priors?.get(c.id)?.get(t.kecCode);
        kecShares.set(kk, prior ? normalise(c.candidates.map((id) => prior[id] ?? 0).map((x) => x + 0.5)) : rng.dirichlet(c.candidates.map(() => 4)));
      }
      const dk = `${c.id}|${t.desaCode}`;
      if (!desaShares.has(dk)) desaShares.set(dk, rng.dirichlet(kecShares.get(kk)!.map((p) => p * CONC_DESA)));
      const pTps = rng.dirichlet(desaShares.get(dk)!.map((p) => p * CONC_TPS));
      const ts = rng.binomial(uTot, 0.02);
      const sah = uTot - ts;
      const votes = rng.multinomial(sah, pTps);
      const values: Record<string, number> = { ...base, suara_sah: sah, suara_tidak_sah: ts, suara_total: uTot };
      c.candidates.forEach((id, i) => (values[id] = votes[i]));
      const r: SynthResult = { tpsCode: t.code, contestId: c.id, values, record: recordOf(t, c.id, values, c.candidates), photoSha256: rng.hex(32), master: { votersL: rl, votersP: rp } };
      list.push(r);
      results.push(r);
    }
    byTps.set(t.code, list);
  }

  const planted: Plant[] = [];
  const used = new Set<string>(plants.exclude ?? []);
  const tpsByCode = new Map(universe.tps.map((t) => [t.code, t]));
  const contestById = new Map(universe.contests.map((c) => [c.id, c]));
  const freeTps = () => {
    for (let guard = 0; guard < 100000; guard++) {
      const t = tpsSorted[rng.int(tpsSorted.length)];
      if (!used.has(t.code)) return t;
    }
    throw new Error('no free TPS left to plant in');
  };
  const resultsFor = (code: string, type: 'pkwkp' | 'pkwkk' | 'ppwp' | 'all') =>
    (byTps.get(code) ?? []).filter((r) => type === 'all' || contestById.get(r.contestId)!.type === type);
  const rebuild = (r: SynthResult) => {
    r.record = recordOf(tpsByCode.get(r.tpsCode)!, r.contestId, r.values, contestById.get(r.contestId)!.candidates);
  };

  for (let i = 0; i < (plants.stuffing ?? 0); i++) {
    const t = freeTps();
    used.add(t.code);
    const targets = resultsFor(t.code, plants.stuffingContestType ?? 'pkwkp');
    const mode = plants.stuffingMode ?? 'extreme';
    const [lo, hi] = mode === 'incremental' ? [0, 0.5] : [0.8, 1];
    const xm = rng.uniform(lo, hi);
    const xs = mode === 'turnout' ? 0 : rng.uniform(lo, hi);
    const v0 = targets[0]?.values;
    if (!v0) { i--; continue; }
    // Ballots for registered non-voters, per sex, so the form stays internally consistent (H10 passes).
    const al = Math.floor(xm * (v0.pemilih_dpt_l - v0.pengguna_dpt_l));
    const ap = Math.floor(xm * (v0.pemilih_dpt_p - v0.pengguna_dpt_p));
    const added = al + ap;
    for (const r of targets) {
      const c = contestById.get(r.contestId)!;
      // The stuffer favours the race's leader in this kecamatan (the "winner" of Klimek's model).
      const prior = kecShares.get(`${c.id}|${t.kecCode}`)!;
      const winner = c.candidates[prior.indexOf(Math.max(...prior))];
      const v = r.values;
      v.pengguna_dpt_l += al; v.pengguna_dpt_p += ap; v.pengguna_dpt_j += added;
      v.pengguna_total_l += al; v.pengguna_total_p += ap; v.pengguna_total_j += added;
      v.suara_total += added; v.suara_sah += added; v[winner] += added;
      let stolen = 0;
      for (const other of c.candidates) {
        if (other === winner) continue;
        const take = Math.round(xs * v[other]);
        v[other] -= take;
        stolen += take;
      }
      v[winner] += stolen;
      rebuild(r);
      planted.push({ kind: 'stuffing', tpsCode: t.code, contestId: r.contestId, detail: { mode, added, stolen, chiM: Math.round(xm * 1000) / 1000, chiS: Math.round(xs * 1000) / 1000, beneficiary: winner } });
    }
  }

  for (let i = 0; i < (plants.swaps ?? 0); i++) {
    const t = freeTps();
    used.add(t.code);
    const r = resultsFor(t.code, 'pkwkp')[0] ?? resultsFor(t.code, 'all')[0];
    const c = contestById.get(r.contestId)!;
    const sorted = [...c.candidates].sort((a, b) => r.values[b] - r.values[a]);
    const hi = sorted[0], lo = sorted[sorted.length - 1];
    [r.values[hi], r.values[lo]] = [r.values[lo], r.values[hi]];
    rebuild(r);
    planted.push({ kind: 'swap', tpsCode: t.code, contestId: r.contestId, detail: { swapped: [hi, lo], votes: [r.values[lo], r.values[hi]] } });
  }

  for (let i = 0; i < (plants.photoReuse ?? 0); i++) {
    // A second TPS of the same desa uploads the first one's photo: same bytes, same numbers.
    let pair: [UniverseTps, UniverseTps] | null = null;
    for (let guard = 0; guard < 10000 && !pair; guard++) {
      const a = freeTps();
      const sib = tpsSorted.filter((x) => x.desaCode === a.desaCode && x.code !== a.code && !used.has(x.code));
      if (sib.length) pair = [a, rng.pick(sib)];
    }
    if (!pair) throw new Error('no desa with two free TPS for the photo-reuse plant');
    const [a, b] = pair;
    used.add(a.code); used.add(b.code);
    const ra = resultsFor(a.code, 'pkwkp')[0] ?? resultsFor(a.code, 'all')[0];
    const rb = (byTps.get(b.code) ?? []).find((r) => r.contestId === ra.contestId)!;
    rb.values = { ...ra.values };
    rb.photoSha256 = ra.photoSha256;
    rebuild(rb);
    planted.push({ kind: 'photo_reuse', tpsCode: b.code, contestId: rb.contestId, detail: { photoOf: a.code, photoSha256: ra.photoSha256 } });
  }

  return { seed, results, plants: planted };
}
