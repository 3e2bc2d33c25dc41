/**
 * Plausible numbers for one Pilkada TPS (DOMAIN §5.7, INTEGRITY §8.1) that satisfy every identity of
 * both pages, and the planting of genuine KPPS arithmetic mistakes (a total or a part written off by
 * a few votes), which the decoder must transcribe as written and flag, never "fix".
 */
import type { FormTemplate, IdentitySpec } from '../template/types.js';
import type { Rng } from './random.js';

export type Values = Record<string, number>;

export interface TpsMasterVoters { votersL?: number; votersP?: number }

/** Pilkada cap of registered voters per regular TPS (INTEGRITY §1.2). */
const DPT_CAP = 600;
/** Pilkada reserve rate, rounded up (INTEGRITY §1.2). */
const RESERVE_RATE = 0.025;

function splitLP(rng: Rng, total: number, maleShare: number, maxL = Infinity, maxP = Infinity): [number, number] {
  let l = Math.min(total, rng.binomial(total, maleShare));
  // Keep each side within what is registered on that side.
  if (l > maxL) l = maxL;
  if (total - l > maxP) l = total - maxP;
  return [l, total - l];
}

/**
 * Every field of both pages for one TPS with `candidateCount` paslon. Uses the master register's
 * L/P counts when given (so the form agrees with H9), otherwise draws DPT ~ U(150, 600).
 */
export function generateTpsValues(rng: Rng, candidateCount: number, master: TpsMasterVoters = {}): Values {
  const v: Values = {};
  let dptL: number;
  let dptP: number;
  if (master.votersL !== undefined && master.votersP !== undefined && master.votersL + master.votersP > 0 && master.votersL + master.votersP <= 900) {
    dptL = master.votersL;
    dptP = master.votersP;
  } else {
    const dpt = rng.int(150, DPT_CAP);
    [dptL, dptP] = splitLP(rng, dpt, Math.min(0.55, Math.max(0.45, rng.normal(0.5, 0.02))));
  }
  const dpt = dptL + dptP;
  const reserve = Math.ceil(RESERVE_RATE * dpt);

  const turnout = Math.min(0.95, Math.max(0.4, rng.beta(0.7 * 20, 0.3 * 20)));
  const usedDptL = Math.min(dptL, rng.binomial(dptL, turnout));
  const usedDptP = Math.min(dptP, rng.binomial(dptP, turnout));

  // Moved-in (DPPh) voters are registered before the day; most of them come.
  const mvL = rng.poisson(rng.uniform(0.5, 2.5));
  const mvP = rng.poisson(rng.uniform(0.5, 2.5));
  let usedMvL = rng.binomial(mvL, 0.8);
  let usedMvP = rng.binomial(mvP, 0.8);
  // e-KTP voters are written into DPTb as they vote: registered = used (DOMAIN §5.3, uncertain).
  let ktpL = rng.poisson(rng.uniform(0.5, 2.5));
  let ktpP = rng.poisson(rng.uniform(0.5, 2.5));

  let spoiled = rng.poisson(0.5);
  // No vote without a ballot (H11/H13): moved and e-KTP voters draw on the reserve, so trim e-KTP.
  const ballotsReceived = dpt + reserve + (rng.chance(0.1) ? rng.int(1, 2) : 0);
  for (;;) {
    const used = usedDptL + usedDptP + usedMvL + usedMvP + ktpL + ktpP;
    if (used + spoiled <= ballotsReceived || ktpL + ktpP + usedMvL + usedMvP === 0) break;
    if (ktpL + ktpP > 0) {
      if (ktpL >= ktpP) ktpL--;
      else ktpP--;
    } else if (usedMvL >= usedMvP) usedMvL--;
    else usedMvP--;
  }

  const rows: Record<string, [number, number]> = {
    pemilih_dpt: [dptL, dptP],
    pemilih_dpph: [mvL, mvP],
    pemilih_dptb: [ktpL, ktpP],
    pemilih_total: [dptL + mvL + ktpL, dptP + mvP + ktpP],
    pengguna_dpt: [usedDptL, usedDptP],
    pengguna_dpph: [usedMvL, usedMvP],
    pengguna_dptb: [ktpL, ktpP],
    pengguna_total: [usedDptL + usedMvL + ktpL, usedDptP + usedMvP + ktpP],
  };
  const disL = rng.poisson(rng.uniform(0.3, 2));
  const disP = rng.poisson(rng.uniform(0.3, 2));
  rows.pemilih_disabilitas = [disL, disP];
  rows.pengguna_disabilitas = [Math.min(rng.binomial(disL, 0.75), rows.pengguna_total![0]), Math.min(rng.binomial(disP, 0.75), rows.pengguna_total![1])];
  for (const [row, [l, p]] of Object.entries(rows)) {
    v[`${row}_l`] = l;
    v[`${row}_p`] = p;
    v[`${row}_j`] = l + p;
  }

  const voters = v.pengguna_total_j!;
  // Never a negative unused count: the spoiled ballots came out of the same stack.
  spoiled = Math.min(spoiled, Math.max(0, ballotsReceived - voters));
  if (ballotsReceived - voters - spoiled < 0) throw new RangeError(`internal: ${voters} voters with ${ballotsReceived} ballots`);
  v.surat_diterima = ballotsReceived;
  v.surat_digunakan = voters;
  v.surat_dikembalikan = spoiled;
  v.surat_tidak_digunakan = ballotsReceived - voters - spoiled;

  const invalid = Math.min(voters, rng.poisson(voters * rng.uniform(0.01, 0.03)));
  const valid = voters - invalid;
  const columns = candidateCount === 1 ? ['suara_paslon_1', 'suara_kolom_kosong'] : Array.from({ length: candidateCount }, (_, i) => `suara_paslon_${i + 1}`);
  // Regional bias: an uneven Dirichlet so that one paslon often leads, as in real races.
  const alpha = columns.map(() => rng.uniform(0.8, 4) * 3);
  const shares = rng.dirichlet(alpha);
  let left = valid;
  columns.forEach((k, i) => {
    const n = i === columns.length - 1 ? left : Math.min(left, Math.round(valid * shares[i]!));
    v[k] = n;
    left -= n;
  });
  v.suara_sah = valid;
  v.suara_tidak_sah = invalid;
  v.suara_total = voters;
  return v;
}

export interface IdentityCheck { id: string; rule: string; residual: number; ok: boolean }

/** Residual of every identity (sum: total − Σ parts; le: total − Σ parts, violated when < 0). */
export function checkIdentities(identities: readonly IdentitySpec[], values: Values): IdentityCheck[] {
  return identities.map((idn) => {
    const parts = idn.parts.reduce((s, k) => s + (values[k] ?? NaN), 0);
    const residual = (values[idn.total] ?? NaN) - parts;
    const ok = idn.kind === 'sum' ? residual === 0 : residual >= 0;
    return { id: idn.id, rule: idn.rule, residual, ok };
  });
}

export interface PlantedMistake {
  kind: 'total_off' | 'part_off';
  /** The identity whose arithmetic KPPS got wrong. */
  identity: string;
  field: string;
  /** What the arithmetic says, and what KPPS wrote instead (the ground truth value). */
  correct: number;
  written: number;
}

/**
 * Plants one genuine KPPS mistake on a page: a sum's total (or one of its parts) written off by a
 * small amount, mostly ±1..±5 (miscount), sometimes ±10 (a carried ten forgotten). The value stays
 * in 0..999. Returns null if no identity of the page allows it (never the case for our templates).
 */
export function plantMistake(rng: Rng, template: FormTemplate, values: Values): PlantedMistake | null {
  const sums = template.identities.filter((i) => i.kind === 'sum');
  for (let attempt = 0; attempt < 20 && sums.length > 0; attempt++) {
    const idn = rng.pick(sums);
    const kind = rng.chance(0.65) ? 'total_off' : 'part_off';
    const field = kind === 'total_off' ? idn.total : rng.pick(idn.parts);
    const correct = values[field]!;
    const magnitude = rng.chance(0.12) ? 10 : 1 + Math.min(8, Math.floor(-Math.log(Math.max(rng.next(), 1e-9)) / 0.7));
    const sign = rng.chance(0.5) ? 1 : -1;
    const written = correct + sign * magnitude;
    if (written < 0 || written > 999) continue;
    values[field] = written;
    return { kind, identity: idn.id, field, correct, written };
  }
  return null;
}

/** The fields of one page, taken from a TPS's values. */
export function pageValues(template: FormTemplate, all: Values): Values {
  const out: Values = {};
  for (const f of template.fields) {
    const v = all[f.key];
    if (v === undefined) throw new RangeError(`no value for ${f.key}`);
    out[f.key] = v;
  }
  return out;
}
