/**
 * Pure planning functions shared by the data build and the seeder: integer allocation of TPS over
 * desa, a seeded PRNG, and the TPS rows (numbers, register sizes) of a desa.
 * No I/O here, so the same inputs always give the same rows on any machine.
 */
import { mulberry32 } from './random.js';
import type { DesaTpsData } from './data.js';

/** Pilkada register cap per regular TPS (PKPU 7/2024: at most 600 voters per TPS). */
export const MAX_VOTERS_PER_TPS = 600;

/**
 * Growth of the domestic register from Pemilu 2019 (KawalPemilu's table: 190,763,421) to 2024
 * (KPU's Pemilu 2024 DPT 204,807,222 minus ~1.75 M overseas ≈ 203.06 M): ≈ 6.4 %. Applied to each
 * desa's 2019 register because no 2024 table per desa is public.
 */
export const DPT_GROWTH_2019_2024 = 1.064;

/**
 * Split `total` into integers proportional to `weights`, summing exactly to `total`.
 * Every positive-weight slot gets at least one when there are enough to go round (every desa with
 * voters has a polling station); the remainder goes by largest fractional part, ties by index so
 * the result never depends on sort stability.
 */
export function allocate(total: number, weights: number[]): number[] {
  const n = weights.length;
  if (n === 0 || total <= 0) return weights.map(() => 0);
  let w = weights.map((x) => (Number.isFinite(x) && x > 0 ? x : 0));
  let sumW = w.reduce((a, b) => a + b, 0);
  if (sumW === 0) {
    w = w.map(() => 1);
    sumW = n;
  }
  const quota = w.map((x) => (total * x) / sumW);
  const positive = w.filter((x) => x > 0).length;
  const floorOne = total >= positive;
  const out = quota.map((q, i) => (w[i] > 0 && floorOne ? Math.max(1, Math.floor(q)) : Math.floor(q)));
  let sum = out.reduce((a, b) => a + b, 0);
  const order = (key: (i: number) => number) =>
    [...out.keys()].sort((a, b) => key(b) - key(a) || a - b);
  while (sum < total) {
    for (const i of order((i) => quota[i] - out[i])) {
      if (sum >= total) break;
      if (w[i] === 0) continue;
      out[i]++;
      sum++;
    }
  }
  while (sum > total) {
    // Take back from the most over-served slots, never below one.
    for (const i of order((i) => out[i] - quota[i])) {
      if (sum <= total) break;
      if (out[i] <= 1) continue;
      out[i]--;
      sum--;
    }
  }
  return out;
}

/** 32-bit string hash (FNV-1a then a murmur finaliser) to derive one PRNG stream per desa. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export { mulberry32 };

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export interface TpsColumns {
  code: string[];
  desaCode: string[];
  kecCode: string[];
  kabCode: string[];
  provCode: string[];
  number: number[];
  votersL: number[];
  votersP: number[];
  isSpecial: boolean[];
}

export const emptyTpsColumns = (): TpsColumns => ({
  code: [], desaCode: [], kecCode: [], kabCode: [], provCode: [], number: [], votersL: [], votersP: [], isSpecial: [],
});

/**
 * Average register per regular TPS for each kab/kota, from the desa whose 2019 register is known;
 * used for desa KawalPemilu could not match (new or renamed desa).
 */
export function votersPerTpsByKab(desa: DesaTpsData[]): Map<string, number> {
  const acc = new Map<string, { voters: number; tps: number }>();
  let all = { voters: 0, tps: 0 };
  for (const d of desa) {
    const regular = d.tps - d.special;
    if (d.dptL === null || d.dptP === null || regular <= 0) continue;
    const kab = d.desa.slice(0, 4);
    const a = acc.get(kab) ?? { voters: 0, tps: 0 };
    a.voters += (d.dptL + d.dptP) * DPT_GROWTH_2019_2024;
    a.tps += regular;
    acc.set(kab, a);
    all = { voters: all.voters + (d.dptL + d.dptP) * DPT_GROWTH_2019_2024, tps: all.tps + regular };
  }
  const out = new Map<string, number>();
  for (const [kab, a] of acc) out.set(kab, Math.min(MAX_VOTERS_PER_TPS, a.voters / a.tps));
  out.set('*', all.tps > 0 ? Math.min(MAX_VOTERS_PER_TPS, all.voters / all.tps) : 450);
  return out;
}

/**
 * The TPS of one desa: regular TPS 001…, then special-location TPS 901…; register sizes drawn around
 * the desa's 2024 register estimate divided over its regular TPS (±8 %), capped at 600, and split
 * L/P by the desa's 2019 ratio with binomial-sized noise. One PRNG stream per (seed, desa), so a
 * desa's TPS do not depend on which other desa are in scope.
 */
export function planDesaTps(d: DesaTpsData, seed: number, kabAverage: Map<string, number>, out: TpsColumns): void {
  if (d.tps <= 0) return;
  const rand = mulberry32(hash32(`${seed}:${d.desa}`));
  const special = Math.min(d.special, d.tps);
  const regular = d.tps - special;
  const known = d.dptL !== null && d.dptP !== null && d.dptL + d.dptP > 0;
  const meanPerTps = known && regular > 0
    ? ((d.dptL! + d.dptP!) * DPT_GROWTH_2019_2024) / regular
    : (kabAverage.get(d.desa.slice(0, 4)) ?? kabAverage.get('*') ?? 450);
  // A desa whose register outgrew its TPS count: KPU would have filled each TPS to near the cap.
  const mean = Math.min(meanPerTps, MAX_VOTERS_PER_TPS * 0.95);
  const shareL = known ? Math.min(0.6, Math.max(0.4, d.dptL! / (d.dptL! + d.dptP!))) : 0.5;
  const kec = d.desa.slice(0, 6);
  const kab = d.desa.slice(0, 4);
  const prov = d.desa.slice(0, 2);
  const push = (number: number, voters: number, isSpecial: boolean) => {
    const sd = Math.sqrt(voters * shareL * (1 - shareL));
    const l = Math.min(voters, Math.max(0, Math.round(voters * shareL + sd * gaussian(rand))));
    out.code.push(d.desa + String(number).padStart(3, '0'));
    out.desaCode.push(d.desa);
    out.kecCode.push(kec);
    out.kabCode.push(kab);
    out.provCode.push(prov);
    out.number.push(number);
    out.votersL.push(l);
    out.votersP.push(voters - l);
    out.isSpecial.push(isSpecial);
  };
  for (let i = 1; i <= regular; i++) {
    let v = Math.round(mean * (1 + 0.08 * gaussian(rand)));
    // Reflect at the cap instead of clamping, so full desa do not pile up at exactly 600.
    if (v > MAX_VOTERS_PER_TPS) v = 2 * MAX_VOTERS_PER_TPS - v;
    push(i, Math.min(MAX_VOTERS_PER_TPS, Math.max(Math.min(20, Math.round(mean)), v)), false);
  }
  // Special-location TPS (prisons, hospitals, dormitories) have their own, usually smaller registers.
  for (let i = 1; i <= special; i++) push(900 + i, 50 + Math.floor(rand() * 350), true);
}
