/**
 * A seeded model of a digit classifier's per-box output (INTEGRITY §8.1 "OCR noise"), for the
 * decoder's tests and benchmark. Not used at run time.
 *
 * With probability `errorRate` a box's top class is a confusable one (1↔7, 4↔9, 3↔8, 0↔6, 5↔6, 1↔6,
 * X→1/4/5/8) and the true class keeps 5–45% of the mass; otherwise the true class gets U(0.7, 0.999)
 * and half of the rest goes to one confusable class, half spread evenly. Every class gets a small floor.
 */
import { mulberry32 } from '../../../db/seed/random.js';
import { CLASS_BLANK, CLASS_X } from '../types.js';
import { NUM_CLASSES } from './likelihood.js';
import type { DecodeField } from './decode.js';

export type Rng = () => number;

export const seededRng: (seed: number) => Rng = mulberry32;

export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

const CONFUSIONS: Record<number, number[]> = {
  0: [6],
  1: [7, 6],
  2: [7, 5],
  3: [8],
  4: [9],
  5: [6],
  6: [0, 5, 1],
  7: [1],
  8: [3],
  9: [4],
  [CLASS_X]: [1, 4, 5, 8],
  [CLASS_BLANK]: [CLASS_X, 1],
};

export function confusableWith(c: number): number[] {
  return CONFUSIONS[c]!;
}

export interface BoxNoise {
  /** Chance that a box's top class is wrong. */
  errorRate: number;
  /** Mass spread over the non-confusable classes (each gets floor / NUM_CLASSES). */
  floor?: number;
  /** Lowest top probability of a correctly read box (default 0.7, the §8.1 model; a sharp classifier is nearer 0.95). */
  topMin?: number;
}

/** Probabilities for one box whose true class is `truth`; `forceTop` makes the given class the top one. */
export function noisyBox(truth: number, rng: Rng, noise: BoxNoise, forceTop?: number): number[] {
  const floor = noise.floor ?? 1e-3;
  const p = new Array<number>(NUM_CLASSES).fill(floor / NUM_CLASSES);
  const conf = confusableWith(truth);
  const wrong = forceTop !== undefined ? forceTop !== truth : rng() < noise.errorRate;
  if (wrong) {
    const top = forceTop ?? conf[Math.floor(rng() * conf.length)]!;
    const keep = 0.05 + 0.4 * rng();
    p[truth]! += keep;
    p[top]! += Math.max(0, 1 - keep - floor);
  } else {
    // Half of what the true class leaves goes to one confusable class, half is spread evenly.
    const lo = noise.topMin ?? 0.7;
    const top = lo + (0.999 - lo - floor) * rng();
    const rest = Math.max(0, 1 - top - floor);
    p[truth]! += top;
    p[conf[Math.floor(rng() * conf.length)]!]! += rest / 2;
    for (let c = 0; c < NUM_CLASSES; c++) if (c !== truth) p[c]! += rest / 2 / (NUM_CLASSES - 1);
  }
  return p;
}

/** Classes of v right-aligned in k boxes, with the given filler in leading boxes. */
export function trueClasses(v: number, k: number, filler: number = CLASS_X): number[] {
  const s = String(v);
  if (s.length > k) throw new RangeError(`${v} does not fit in ${k} boxes`);
  return Array.from({ length: k }, (_, b) => (b < k - s.length ? filler : s.charCodeAt(b - (k - s.length)) - 48));
}

export function noisyField(key: string, v: number, k: number, rng: Rng, noise: BoxNoise, filler: number = CLASS_X): DecodeField {
  return { key, boxes: trueClasses(v, k, filler).map((c) => noisyBox(c, rng, noise)) };
}

/** A confident (top ≥ 0.99) box of class c: how a clear handwritten digit reads. */
export function confidentBox(c: number, top = 0.995): number[] {
  const p = new Array<number>(NUM_CLASSES).fill((1 - top) / (NUM_CLASSES - 1));
  p[c] = top;
  return p;
}

/** A box with explicit probabilities for a few classes; the rest share what is left. */
export function box(spec: Partial<Record<number, number>>): number[] {
  let given = 0;
  for (const v of Object.values(spec)) given += v ?? 0;
  const others = NUM_CLASSES - Object.keys(spec).length;
  const p = new Array<number>(NUM_CLASSES).fill(Math.max(0, 1 - given) / Math.max(1, others));
  for (const [c, v] of Object.entries(spec)) p[Number(c)] = v!;
  return p;
}

/** True values of a consistent perolehan page with C candidates. */
export function truePerolehan(rng: Rng, candidateCount: number): Record<string, number> {
  const total = randInt(rng, 80, 600);
  const ts = randInt(rng, 0, Math.min(15, total));
  const sah = total - ts;
  const keys = Array.from({ length: candidateCount }, (_, i) => `suara_paslon_${i + 1}`);
  if (candidateCount === 1) keys.push('suara_kolom_kosong');
  const w = keys.map(() => -Math.log(1 - rng() * 0.999));
  const ws = w.reduce((a, b) => a + b, 0);
  const votes = w.map((x) => Math.floor((x / ws) * sah));
  votes[0]! += sah - votes.reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  keys.forEach((k, i) => (out[k] = votes[i]!));
  return { ...out, suara_sah: sah, suara_tidak_sah: ts, suara_total: total };
}

/** True values of a consistent administrasi page (Pilkada, reserve 2.5% rounded up). */
export function trueAdministrasi(rng: Rng): Record<string, number> {
  const v: Record<string, number> = {};
  const triple = (row: string, l: number, p: number) => {
    v[`${row}_l`] = l;
    v[`${row}_p`] = p;
    v[`${row}_j`] = l + p;
  };
  const dptL = randInt(rng, 40, 290);
  const dptP = randInt(rng, 40, 290);
  triple('pemilih_dpt', dptL, dptP);
  triple('pemilih_dpph', randInt(rng, 0, 6), randInt(rng, 0, 6));
  triple('pemilih_dptb', randInt(rng, 0, 6), randInt(rng, 0, 6));
  for (const s of ['l', 'p', 'j']) v[`pemilih_total_${s}`] = v[`pemilih_dpt_${s}`]! + v[`pemilih_dpph_${s}`]! + v[`pemilih_dptb_${s}`]!;
  const turnout = 0.55 + 0.4 * rng();
  triple('pengguna_dpt', Math.round(dptL * turnout), Math.round(dptP * turnout));
  triple('pengguna_dpph', randInt(rng, 0, v.pemilih_dpph_l!), randInt(rng, 0, v.pemilih_dpph_p!));
  triple('pengguna_dptb', v.pemilih_dptb_l!, v.pemilih_dptb_p!);
  for (const s of ['l', 'p', 'j']) v[`pengguna_total_${s}`] = v[`pengguna_dpt_${s}`]! + v[`pengguna_dpph_${s}`]! + v[`pengguna_dptb_${s}`]!;
  const dpt = v.pemilih_dpt_j!;
  const received = dpt + Math.floor((dpt * 25 + 999) / 1000) + randInt(rng, 0, 2);
  const used = v.pengguna_total_j!;
  const spoiled = Math.min(randInt(rng, 0, 3), Math.max(0, received - used));
  // A heavy moved-in/e-KTP turnout can use more than the reserve: then more ballots were received.
  const recv = Math.max(received, used + spoiled);
  v.surat_diterima = recv;
  v.surat_digunakan = used;
  v.surat_dikembalikan = spoiled;
  v.surat_tidak_digunakan = recv - used - spoiled;
  const dl = randInt(rng, 0, 4);
  const dp = randInt(rng, 0, 4);
  triple('pemilih_disabilitas', dl, dp);
  triple('pengguna_disabilitas', randInt(rng, 0, dl), randInt(rng, 0, dp));
  return v;
}

/** Box probabilities for every field of a template from true values; leading fillers are X, sometimes 0 or blank. */
export function noisyPage(
  fields: { key: string; boxes: unknown[] }[],
  truth: Record<string, number>,
  rng: Rng,
  noise: BoxNoise,
): DecodeField[] {
  return fields.map((f) => {
    const r = rng();
    const filler = r < 0.8 ? CLASS_X : r < 0.9 ? 0 : CLASS_BLANK;
    const v = truth[f.key];
    if (v === undefined) throw new Error(`no true value for ${f.key}`);
    return noisyField(f.key, v, f.boxes.length, rng, noise, filler);
  });
}
