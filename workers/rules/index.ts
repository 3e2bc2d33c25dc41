/**
 * Hard rules of one TPS and one race (INTEGRITY.md §2–3), as they apply to Pilkada C.Hasil-KWK.
 *
 * Public API (stable; the publish step depends on it):
 *
 *   evaluateTps(input: TpsRuleInput): TpsVerdict
 *     input.administrasi  field values of page 1 (`pemilih_*`, `pengguna_*`, `surat_*`), or null when
 *                         that page is not digitised yet;
 *     input.perolehan     field values of page 2 (`suara_paslon_{n}`, `suara_kolom_kosong`, `suara_sah`,
 *                         `suara_tidak_sah`, `suara_total`), or null;
 *     input.register      master register of the TPS: { votersL, votersP, isSpecial } (or null);
 *     input.candidateCount number of paslon (1..6); a single-candidate race adds `suara_kolom_kosong`;
 *     input.election      'PILKADA_2024' (default) | 'PEMILU_2024'; input.extraBallots = A_extra (default 0).
 *   → { publishable, complete, quarantined, results: RuleResult[] }
 *
 *   evaluateCrossContest({ upper, lower }): RuleResult[]   X1–X3 between two races at one TPS; each side
 *                         is that race's administrasi values. `upper` is the wider race (governor), whose
 *                         moved-in voters are a superset of the lower race's (bupati/walikota).
 *
 * Each check yields one RuleResult; a rule with several sub-checks (H3 for l, p and j; H7 for every
 * person row) yields several results with the same `rule` and a distinct `check`, written as the
 * expression it tests. `delta` is lhs − rhs of that expression (for `a ≤ b` a positive delta is the
 * excess). A check that needs a field that is absent (page missing, or field unread) is UNKNOWN with the
 * missing keys: UNKNOWN is never PASS. publishable = no HARD FAIL; complete = no HARD UNKNOWN;
 * quarantined = not publishable. All thresholds live in ./constants.ts.
 */
import {
  CROSS_RACE_UDPT_TOLERANCE,
  DEFAULT_ELECTION,
  ELECTION_PARAMS,
  MAX_FIELD_VALUE,
  RECEIVED_BALLOTS_TOLERANCE,
  SPECIAL_TPS_NUMBER_FROM,
  reserveBallots,
  type ElectionKind,
} from './constants.js';

export type RuleId = `H${number}` | 'X1' | 'X2' | 'X3' | 'R1' | 'M1';
export type RuleClass = 'HARD' | 'SOFT';

interface RuleBase {
  rule: RuleId;
  class: RuleClass;
  /** The exact expression checked, e.g. `pengguna_dpt_l + pengguna_dpph_l + pengguna_dptb_l = pengguna_total_l`. */
  check: string;
}
export type RuleResult =
  | (RuleBase & { status: 'PASS' })
  | (RuleBase & { status: 'FAIL'; delta: number; fields: string[] })
  | (RuleBase & { status: 'UNKNOWN'; missing: string[] });

export interface TpsVerdict {
  publishable: boolean;
  complete: boolean;
  quarantined: boolean;
  results: RuleResult[];
}

export type PageValues = Record<string, number | null | undefined>;

export interface TpsRegister {
  votersL: number;
  votersP: number;
  /** Lokasi khusus (TPS 9xx) or overseas unit: capped by its own register, not the election cap. */
  isSpecial: boolean;
}

export interface TpsRuleInput {
  administrasi?: PageValues | null;
  perolehan?: PageValues | null;
  register?: TpsRegister | null;
  candidateCount: number;
  /** Defaults to candidateCount === 1 (a single-candidate race adds "kolom kosong"). */
  hasEmptyColumn?: boolean;
  /** A_extra: a separate ballot allocation for moved/e-KTP voters, 0 unless configured. */
  extraBallots?: number;
  election?: ElectionKind;
}

/** Key names of the C.Hasil-KWK (DOMAIN.md §5.3). */
export const SPLITS = ['l', 'p', 'j'] as const;
export const PERSON_ROWS = [
  'pemilih_dpt',
  'pemilih_dpph',
  'pemilih_dptb',
  'pemilih_total',
  'pengguna_dpt',
  'pengguna_dpph',
  'pengguna_dptb',
  'pengguna_total',
  'pemilih_disabilitas',
  'pengguna_disabilitas',
] as const;
export const BALLOT_FIELDS = ['surat_diterima', 'surat_digunakan', 'surat_dikembalikan', 'surat_tidak_digunakan'] as const;

export function paslonKeys(candidateCount: number, hasEmptyColumn = candidateCount === 1): string[] {
  const keys = Array.from({ length: candidateCount }, (_, i) => `suara_paslon_${i + 1}`);
  if (hasEmptyColumn) keys.push('suara_kolom_kosong');
  return keys;
}

export function isSpecialTpsNumber(tpsNumber: number): boolean {
  return tpsNumber >= SPECIAL_TPS_NUMBER_FROM;
}

/** Register values are addressed as `register.dpt_l|p|j` in `fields` and `missing`. */
const REG_L = 'register.dpt_l';
const REG_P = 'register.dpt_p';
const REG_J = 'register.dpt_j';

type Lookup = (ref: string) => number | undefined;

class Checker {
  readonly results: RuleResult[] = [];
  constructor(private readonly lookup: Lookup) {}

  private resolve(refs: string[]): { values: number[]; missing: string[] } {
    const values: number[] = [];
    const missing: string[] = [];
    for (const r of refs) {
      const v = this.lookup(r);
      if (v === undefined) missing.push(r);
      else values.push(v);
    }
    return { values, missing };
  }

  /**
   * Σ lhs (+ lhsConst) compared with Σ rhs (+ rhsConst). kind 'eq': |Δ| ≤ tol; 'le': Δ ≤ tol.
   * Constants carry parameters such as the reserve, which are not fields and never missing.
   */
  linear(
    rule: RuleId,
    cls: RuleClass,
    kind: 'eq' | 'le',
    lhs: string[],
    rhs: string[],
    opts: { tol?: number; rhsConst?: number; rhsLabel?: string } = {},
  ): RuleResult {
    const tol = opts.tol ?? 0;
    const rhsText = [...rhs, ...(opts.rhsLabel ? [opts.rhsLabel] : [])].join(' + ');
    const check = `${lhs.join(' + ')} ${kind === 'eq' ? '=' : '≤'} ${rhsText}${tol ? ` (±${tol})` : ''}`;
    const a = this.resolve(lhs);
    const b = this.resolve(rhs);
    let result: RuleResult;
    if (a.missing.length || b.missing.length) {
      result = { rule, class: cls, check, status: 'UNKNOWN', missing: [...a.missing, ...b.missing] };
    } else {
      const delta = sum(a.values) - sum(b.values) - (opts.rhsConst ?? 0);
      const ok = kind === 'eq' ? Math.abs(delta) <= tol : delta <= tol;
      result = ok
        ? { rule, class: cls, check, status: 'PASS' }
        : { rule, class: cls, check, status: 'FAIL', delta, fields: [...lhs, ...rhs] };
    }
    this.results.push(result);
    return result;
  }

  push(r: RuleResult): void {
    this.results.push(r);
  }
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function isPerolehanKey(key: string): boolean {
  return key.startsWith('suara_');
}

function pageLookup(input: TpsRuleInput): Lookup {
  const reg = input.register ?? null;
  return (ref) => {
    if (ref === REG_L) return reg ? reg.votersL : undefined;
    if (ref === REG_P) return reg ? reg.votersP : undefined;
    if (ref === REG_J) return reg ? reg.votersL + reg.votersP : undefined;
    const page = isPerolehanKey(ref) ? input.perolehan : input.administrasi;
    const v = page?.[ref];
    return typeof v === 'number' ? v : undefined;
  };
}

function validateInput(input: TpsRuleInput): void {
  if (!Number.isInteger(input.candidateCount) || input.candidateCount < 1 || input.candidateCount > 20) {
    throw new RangeError(`evaluateTps: candidateCount must be an integer 1..20, got ${input.candidateCount}`);
  }
  const reg = input.register;
  if (reg) {
    for (const [k, v] of [['votersL', reg.votersL], ['votersP', reg.votersP]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`evaluateTps: register.${k} must be a non-negative integer, got ${v}`);
    }
  }
  const extra = input.extraBallots ?? 0;
  if (!Number.isInteger(extra) || extra < 0) throw new RangeError(`evaluateTps: extraBallots must be a non-negative integer, got ${extra}`);
  if (input.election && !(input.election in ELECTION_PARAMS)) throw new RangeError(`evaluateTps: unknown election ${input.election}`);
}

/**
 * A fixed linear check: its expression text is built once per race shape (candidate count, empty
 * column) and reused for every TPS; each operand knows in advance where its value comes from.
 * Publishing evaluates thousands of forms per second, and building ~50 expression strings per form was
 * most of the cost of the rules.
 */
interface Operand { key: string; src: 0 | 1 | 2 | 3 | 4 }
interface LinearSpec { rule: RuleId; cls: RuleClass; kind: 'eq' | 'le'; lhs: Operand[]; rhs: Operand[]; fields: string[]; tol: number; check: string }

const SRC_ADM = 0, SRC_PER = 1, SRC_REG_L = 2, SRC_REG_P = 3, SRC_REG_J = 4;
function operand(key: string): Operand {
  const src = key === REG_L ? SRC_REG_L : key === REG_P ? SRC_REG_P : key === REG_J ? SRC_REG_J : isPerolehanKey(key) ? SRC_PER : SRC_ADM;
  return { key, src };
}
function spec(rule: RuleId, cls: RuleClass, kind: 'eq' | 'le', lhs: string[], rhs: string[], tol = 0): LinearSpec {
  // Same text as Checker.linear.
  const check = `${lhs.join(' + ')} ${kind === 'eq' ? '=' : '≤'} ${rhs.join(' + ')}${tol ? ` (±${tol})` : ''}`;
  return { rule, cls, kind, lhs: lhs.map(operand), rhs: rhs.map(operand), fields: [...lhs, ...rhs], tol, check };
}

interface Plan { head: LinearSpec[]; tail: LinearSpec[] }
const plans = new Map<string, Plan>();

/** The fixed checks, in the order evaluateTps reports them: `head` before the H8 range check, `tail` after. */
function planFor(paslon: string[]): Plan {
  const key = paslon.join(',');
  const hit = plans.get(key);
  if (hit) return hit;
  const head: LinearSpec[] = [];
  const tail: LinearSpec[] = [];
  // H1, H2: the vote page's own arithmetic.
  head.push(spec('H1', 'HARD', 'eq', paslon, ['suara_sah']));
  head.push(spec('H2', 'HARD', 'eq', ['suara_sah', 'suara_tidak_sah'], ['suara_total']));
  // H3: lists add up to the total row, per l, p, j, for voters who voted and (Pilkada) registered voters.
  for (const who of ['pengguna', 'pemilih'] as const) {
    for (const s of SPLITS) head.push(spec('H3', 'HARD', 'eq', [`${who}_dpt_${s}`, `${who}_dpph_${s}`, `${who}_dptb_${s}`], [`${who}_total_${s}`]));
  }
  // H4, H5, H6: voters = ballots in the box = ballots used; ballot reconciliation.
  head.push(spec('H4', 'HARD', 'eq', ['pengguna_total_j'], ['suara_total']));
  head.push(spec('H5', 'HARD', 'eq', ['surat_digunakan'], ['pengguna_total_j']));
  head.push(spec('H6', 'HARD', 'eq', ['surat_diterima'], ['surat_digunakan', 'surat_dikembalikan', 'surat_tidak_digunakan']));
  // H7: L + P = J on every person row.
  for (const row of PERSON_ROWS) head.push(spec('H7', 'HARD', 'eq', [`${row}_l`, `${row}_p`], [`${row}_j`]));
  // (H8 range check runs between head and tail.) H8: no candidate above the valid votes.
  for (const k of paslon) tail.push(spec('H8', 'HARD', 'le', [k], ['suara_sah']));
  // H9: the form's DPT is the register's (also catches a photo uploaded to the wrong TPS).
  for (const s of SPLITS) tail.push(spec('H9', 'HARD', 'eq', [`pemilih_dpt_${s}`], [`register.dpt_${s}`]));
  // H10: logical bounds.
  for (const s of SPLITS) {
    tail.push(spec('H10', 'HARD', 'le', [`pengguna_dpt_${s}`], [`pemilih_dpt_${s}`]));
    tail.push(spec('H10', 'HARD', 'le', [`pengguna_dpph_${s}`], [`pemilih_dpph_${s}`]));
    tail.push(spec('H10', 'HARD', 'le', [`pengguna_disabilitas_${s}`], [`pemilih_disabilitas_${s}`]));
  }
  tail.push(spec('H10', 'HARD', 'le', ['pengguna_disabilitas_j'], ['pengguna_total_j']));
  // H11: no vote without a ballot.
  tail.push(spec('H11', 'HARD', 'le', ['pengguna_total_j'], ['surat_diterima']));
  const plan = { head, tail };
  if (plans.size > 256) plans.clear();
  plans.set(key, plan);
  return plan;
}

function runSpec(sp: LinearSpec, adm: PageValues | null | undefined, per: PageValues | null | undefined, reg: TpsRegister | null): RuleResult {
  let delta = 0;
  let missing: string[] | null = null;
  for (let side = 0; side < 2; side++) {
    const ops = side === 0 ? sp.lhs : sp.rhs;
    const sign = side === 0 ? 1 : -1;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      let v: unknown;
      switch (op.src) {
        case SRC_ADM: v = adm?.[op.key]; break;
        case SRC_PER: v = per?.[op.key]; break;
        case SRC_REG_L: v = reg ? reg.votersL : undefined; break;
        case SRC_REG_P: v = reg ? reg.votersP : undefined; break;
        default: v = reg ? reg.votersL + reg.votersP : undefined;
      }
      if (typeof v === 'number') delta += sign * v;
      else (missing ??= []).push(op.key);
    }
  }
  if (missing) return { rule: sp.rule, class: sp.cls, check: sp.check, status: 'UNKNOWN', missing };
  const ok = sp.kind === 'eq' ? Math.abs(delta) <= sp.tol : delta <= sp.tol;
  return ok
    ? { rule: sp.rule, class: sp.cls, check: sp.check, status: 'PASS' }
    : { rule: sp.rule, class: sp.cls, check: sp.check, status: 'FAIL', delta, fields: [...sp.fields] };
}

/** Evaluate H1–H15 for one TPS and one race. Pure and deterministic; throws RangeError only on malformed parameters. */
export function evaluateTps(input: TpsRuleInput): TpsVerdict {
  validateInput(input);
  const params = ELECTION_PARAMS[input.election ?? DEFAULT_ELECTION];
  const lookup = pageLookup(input);
  const c = new Checker(lookup);
  const paslon = paslonKeys(input.candidateCount, input.hasEmptyColumn);
  const extra = input.extraBallots ?? 0;
  const plan = planFor(paslon);
  const adm = input.administrasi, per = input.perolehan, reg = input.register ?? null;

  // H1–H7 (see planFor).
  for (const sp of plan.head) c.push(runSpec(sp, adm, per, reg));
  // H8: field range over what was read; then H8 per candidate, H9, H10, H11 (see planFor).
  c.push(rangeCheck(input, paslon));
  for (const sp of plan.tail) c.push(runSpec(sp, adm, per, reg));

  // H12–H13 use the register's DPT (known before election day); the form's DPT stands in without it.
  const dptRef = lookup(REG_J) !== undefined ? REG_J : 'pemilih_dpt_j';
  const dpt = lookup(dptRef);
  if (dpt === undefined) {
    const missing = [REG_J];
    c.push({ rule: 'H12', class: 'SOFT', check: 'surat_diterima ∈ [dpt + reserve + extra, +2]', status: 'UNKNOWN', missing });
    c.push({ rule: 'H13', class: 'HARD', check: 'pengguna_total_j ≤ dpt + reserve + extra', status: 'UNKNOWN', missing });
    c.push({ rule: 'H13', class: 'HARD', check: 'suara_total ≤ dpt + reserve + extra', status: 'UNKNOWN', missing });
  } else {
    const res = reserveBallots(dpt, params.reservePermille);
    const label = `reserve(${res}) + extra(${extra})`;
    c.push(receivedBallotsCheck(lookup, dptRef, dpt, res + extra, label));
    c.linear('H13', 'HARD', 'le', ['pengguna_total_j'], [dptRef], { rhsConst: res + extra, rhsLabel: label });
    c.linear('H13', 'HARD', 'le', ['suara_total'], [dptRef], { rhsConst: res + extra, rhsLabel: label });
  }

  // H14, H15: caps per TPS type. A special TPS's cap is its own register size.
  const special = input.register?.isSpecial ?? false;
  const cap = special ? lookup(REG_J) : params.tpsCap;
  if (cap === undefined) {
    c.push({ rule: 'H14', class: 'HARD', check: 'pemilih_dpt_j ≤ cap(register)', status: 'UNKNOWN', missing: [REG_J] });
    c.push({ rule: 'H15', class: 'HARD', check: 'suara_total ≤ cap(register) + reserve(cap)', status: 'UNKNOWN', missing: [REG_J] });
  } else {
    const capLabel = special ? `cap(register ${cap})` : `cap(${cap})`;
    if (!special && lookup(REG_J) !== undefined) c.linear('H14', 'HARD', 'le', [REG_J], [], { rhsConst: cap, rhsLabel: capLabel });
    c.linear('H14', 'HARD', 'le', ['pemilih_dpt_j'], [], { rhsConst: cap, rhsLabel: capLabel });
    const capRes = reserveBallots(cap, params.reservePermille);
    c.linear('H15', 'HARD', 'le', ['suara_total'], [], { rhsConst: cap + capRes, rhsLabel: `${capLabel} + reserve(${capRes})` });
  }

  return verdict(c.results);
}

function rangeCheck(input: TpsRuleInput, paslon: string[]): RuleResult {
  const check = `0 ≤ field ≤ ${MAX_FIELD_VALUE}, integer`;
  const pages = [input.administrasi, input.perolehan].filter((p): p is PageValues => !!p);
  if (pages.length === 0) return { rule: 'H8', class: 'HARD', check, status: 'UNKNOWN', missing: [...paslon, 'suara_sah'] };
  const bad: string[] = [];
  let worst = 0;
  for (const page of pages) {
    for (const key in page) {
      const v = page[key];
      if (v === null || v === undefined) continue;
      if (!Number.isFinite(v) || !Number.isInteger(v) || v < 0 || v > MAX_FIELD_VALUE) {
        bad.push(key);
        // Overshoot beyond the nearest bound; a non-number counts as the whole range.
        const d = !Number.isFinite(v) ? MAX_FIELD_VALUE + 1 : v < 0 ? v : v > MAX_FIELD_VALUE ? v - MAX_FIELD_VALUE : v - Math.round(v);
        if (Math.abs(d) > Math.abs(worst)) worst = d;
      }
    }
  }
  return bad.length ? { rule: 'H8', class: 'HARD', check, status: 'FAIL', delta: worst, fields: bad } : { rule: 'H8', class: 'HARD', check, status: 'PASS' };
}

function receivedBallotsCheck(lookup: Lookup, dptRef: string, dpt: number, add: number, label: string): RuleResult {
  const check = `${dptRef} + ${label} ≤ surat_diterima ≤ … + ${RECEIVED_BALLOTS_TOLERANCE}`;
  const recv = lookup('surat_diterima');
  if (recv === undefined) return { rule: 'H12', class: 'SOFT', check, status: 'UNKNOWN', missing: ['surat_diterima'] };
  const lo = dpt + add;
  const hi = lo + RECEIVED_BALLOTS_TOLERANCE;
  if (recv >= lo && recv <= hi) return { rule: 'H12', class: 'SOFT', check, status: 'PASS' };
  return { rule: 'H12', class: 'SOFT', check, status: 'FAIL', delta: recv < lo ? recv - lo : recv - hi, fields: ['surat_diterima', dptRef] };
}

export function verdict(results: RuleResult[]): TpsVerdict {
  const publishable = !results.some((r) => r.class === 'HARD' && r.status === 'FAIL');
  const complete = !results.some((r) => r.class === 'HARD' && r.status === 'UNKNOWN');
  return { publishable, complete, quarantined: !publishable, results };
}

export interface CrossContestInput {
  /** Administrasi values of the wider race (Pilkada: governor; Pemilu: PPWP). */
  upper?: PageValues | null;
  /** Administrasi values of the narrower race at the same TPS (bupati/walikota). */
  lower?: PageValues | null;
}

/** X1–X3: two concurrent races at one TPS. Fields are prefixed `upper.` / `lower.` in the results. */
export function evaluateCrossContest(input: CrossContestInput): RuleResult[] {
  const lookup: Lookup = (ref) => {
    const dot = ref.indexOf('.');
    const side = ref.slice(0, dot) as 'upper' | 'lower';
    const v = input[side]?.[ref.slice(dot + 1)];
    return typeof v === 'number' ? v : undefined;
  };
  const c = new Checker(lookup);
  for (const s of SPLITS) c.linear('X1', 'HARD', 'eq', [`upper.pemilih_dpt_${s}`], [`lower.pemilih_dpt_${s}`]);
  for (const s of SPLITS) c.linear('X2', 'SOFT', 'eq', [`upper.pengguna_dpt_${s}`], [`lower.pengguna_dpt_${s}`], { tol: CROSS_RACE_UDPT_TOLERANCE });
  // Moved-in voters may be entitled to the wider race's ballot only, never the reverse.
  c.linear('X3', 'SOFT', 'le', ['lower.pengguna_dpph_j'], ['upper.pengguna_dpph_j']);
  return c.results;
}
