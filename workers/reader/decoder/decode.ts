/**
 * decodePage: the most probable assignment of every field of one page under the page's identities,
 * with its posterior, per-field marginals, P(consistent), the boxes it changed, and the class
 * READ_OK / AUTO_CORRECTED / FORM_INCONSISTENT / NEEDS_REVIEW (INTEGRITY.md §4.5).
 *
 * Template-agnostic: it takes the field list (key + 12 probabilities per box) and the template's
 * identities ({id, rule, kind 'sum'|'le', total, parts, epsilon}); any layout works.
 */
import type { DecodeClass, DecoderChange } from '../types.js';
import type { IdentitySpec } from '../template/types.js';
import { DECODER_PARAMS, type DecoderParams } from './params.js';
import {
  DecoderInputError,
  MAX_BOXES,
  argmaxClass,
  className,
  fieldLikelihood,
  normaliseBox,
  renderClasses,
  valueOfClasses,
  type FieldLikelihood,
} from './likelihood.js';
import { DpBudgetError, DpExhaustedError, eliminationOrder, planDp, runDp, type DpField, type DpIdentity, type DpResult } from './dp.js';

export interface DecodeField {
  key: string;
  /** Most significant box first; 12 probabilities per box in BOX_CLASSES order. */
  boxes: ArrayLike<number>[];
}

export type DecodeOptions = Partial<DecoderParams>;

export interface DecodeResult {
  /** x*: the MAP value of every field. */
  values: Record<string, number>;
  /** The per-box argmax reading (null when it renders no value, e.g. a filler after a digit). */
  argmax: Record<string, number | null>;
  /** Posterior of x*: exp(max score − log Z). */
  post: number;
  /** Posterior mass of assignments satisfying every identity. */
  pConsistent: number;
  /**
   * For a correction: the largest probability, over changed fields, that the KPPS wrote that number as
   * read (a single slip, one ε), against the misread the correction assumes. 0 when nothing changed.
   */
  pSlip: number;
  /** P(X_f = x*_f) per field. */
  marginals: Record<string, number>;
  /** Δ*_k = Σ parts − total at x*, per identity id (for 'le', positive means the bound is broken). */
  residuals: Record<string, number>;
  /** Δ of the raw per-box reading per identity (null when that reading is not a valid rendering): the INFO finding's "before". */
  argmaxResiduals: Record<string, number | null>;
  /** Boxes where x* differs from the per-box argmax. */
  changedBoxes: DecoderChange[];
  cls: DecodeClass;
  /** Why the form got its class (and why not a better one). */
  reasons: string[];
  /** False when the state cap may have hidden a better assignment: the form then needs review. */
  exact: boolean;
  stats: { components: number; states: number; edges: number; ms: number };
}

interface Prepared {
  keys: string[];
  boxes: Float64Array[][];
  likes: FieldLikelihood[];
  argmaxClasses: number[][];
}

function prepare(fields: DecodeField[], emptyMeansZero: boolean): Prepared {
  if (!Array.isArray(fields)) throw new DecoderInputError('fields must be an array of {key, boxes}');
  const seen = new Set<string>();
  const keys: string[] = [];
  const boxes: Float64Array[][] = [];
  for (const f of fields) {
    if (!f || typeof f.key !== 'string' || !f.key) throw new DecoderInputError('every field needs a non-empty key');
    if (seen.has(f.key)) throw new DecoderInputError(`field ${f.key} appears twice`);
    seen.add(f.key);
    if (!Array.isArray(f.boxes) || f.boxes.length < 1 || f.boxes.length > MAX_BOXES) {
      throw new DecoderInputError(`field ${f.key}: expected 1..${MAX_BOXES} boxes, got ${Array.isArray(f.boxes) ? f.boxes.length : typeof f.boxes}`);
    }
    keys.push(f.key);
    boxes.push(f.boxes.map((b, i) => normaliseBox(b, `field ${f.key} box ${i}`)));
  }
  return {
    keys,
    boxes,
    likes: boxes.map((b) => fieldLikelihood(b, { emptyMeansZero })),
    argmaxClasses: boxes.map((b) => b.map(argmaxClass)),
  };
}

function candidates(like: FieldLikelihood, topK: number, pruneNats: number): { cands: Int32Array } {
  const { logL, maxLog } = like;
  const floor = maxLog - pruneNats;
  const k = Math.max(1, topK);
  // Insertion into a short sorted list: K is small, and most values fall below the floor at once.
  const top: number[] = [];
  const better = (a: number, b: number) => logL[a]! > logL[b]! || (logL[a] === logL[b] && a < b);
  for (let v = 0; v < logL.length; v++) {
    if (logL[v]! < floor) continue;
    if (top.length === k && !better(v, top[k - 1]!)) continue;
    let i = top.length === k ? k - 1 : top.length;
    if (top.length < k) top.push(v);
    while (i > 0 && better(v, top[i - 1]!)) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = v;
  }
  return { cands: Int32Array.from(top) };
}

function validateIdentities(identities: IdentitySpec[], index: Map<string, number>): void {
  if (!Array.isArray(identities)) throw new DecoderInputError('identities must be an array');
  const ids = new Set<string>();
  for (const k of identities) {
    if (!k || typeof k.id !== 'string') throw new DecoderInputError('every identity needs an id');
    if (ids.has(k.id)) throw new DecoderInputError(`identity ${k.id} appears twice`);
    ids.add(k.id);
    if (k.kind !== 'sum' && k.kind !== 'le') throw new DecoderInputError(`identity ${k.id}: kind must be 'sum' or 'le', got ${String(k.kind)}`);
    if (!(k.epsilon > 0 && k.epsilon < 0.5)) throw new DecoderInputError(`identity ${k.id}: epsilon must be in (0, 0.5), got ${k.epsilon}`);
    if (!Array.isArray(k.parts) || k.parts.length === 0) throw new DecoderInputError(`identity ${k.id}: needs at least one part`);
    const all = [k.total, ...k.parts];
    for (const key of all) if (!index.has(key)) throw new DecoderInputError(`identity ${k.id} uses field ${key}, which is not among the fields`);
    if (new Set(all).size !== all.length) throw new DecoderInputError(`identity ${k.id} uses a field twice`);
  }
}

function residualOf(k: IdentitySpec, val: (key: string) => number): number {
  let s = -val(k.total);
  for (const p of k.parts) s += val(p);
  return s;
}

function holds(k: IdentitySpec, delta: number): boolean {
  return k.kind === 'sum' ? delta === 0 : delta <= 0;
}

/** P(Σ parts − total ≤ 0) from independent marginals (sparse maps value → probability). */
function probLeHolds(parts: Map<number, number>[], total: Map<number, number>): number {
  let dist = new Map<number, number>([[0, 1]]);
  for (const m of parts) {
    const next = new Map<number, number>();
    for (const [a, pa] of dist) for (const [v, pv] of m) next.set(a + v, (next.get(a + v) ?? 0) + pa * pv);
    dist = next;
  }
  let p = 0;
  for (const [s, ps] of dist) for (const [t, pt] of total) if (s - t <= 0) p += ps * pt;
  return p;
}

export function decodePage(fields: DecodeField[], identities: IdentitySpec[], opts: DecodeOptions = {}): DecodeResult {
  const t0 = performance.now();
  const P: DecoderParams = { ...DECODER_PARAMS, ...opts };
  const prep = prepare(fields, P.emptyMeansZero);
  const n = prep.keys.length;
  const index = new Map(prep.keys.map((k, i) => [k, i]));
  validateIdentities(identities, index);

  // Components: fields joined by 'sum' identities. An 'le' joins the DP of a component when all its
  // fields are in it; an 'le' across components is scored from the components' marginals instead,
  // because coupling the registered and voted grids would square the state space for a bound that
  // almost never binds (turnout is far below 100%).
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  for (const k of identities) {
    if (k.kind !== 'sum') continue;
    const root = find(index.get(k.total)!);
    for (const p of k.parts) parent[find(index.get(p)!)] = root;
  }
  const compOf = Array.from({ length: n }, (_, i) => find(i));
  const compFields = new Map<number, number[]>();
  compOf.forEach((c, i) => compFields.set(c, [...(compFields.get(c) ?? []), i]));
  const crossLe: IdentitySpec[] = [];
  const compIdents = new Map<number, IdentitySpec[]>();
  for (const k of identities) {
    const comps = new Set([k.total, ...k.parts].map((key) => compOf[index.get(key)!]!));
    if (comps.size === 1) {
      const c = [...comps][0]!;
      compIdents.set(c, [...(compIdents.get(c) ?? []), k]);
    } else crossLe.push(k);
  }

  const values = new Int32Array(n);
  const fieldMarginals: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  let logMax = 0;
  let logZ = 0;
  let pConsistent = 1;
  let exact = true;
  let states = 0;
  let edges = 0;

  for (const [c, members] of compFields) {
    const local = new Map(members.map((g, i) => [g, i]));
    const dpFields: DpField[] = members.map((g) => ({ like: prep.likes[g]!, ...candidates(prep.likes[g]!, P.topK, P.pruneNats) }));
    const dpIdents: DpIdentity[] = (compIdents.get(c) ?? []).map((k) => ({
      id: k.id,
      kind: k.kind,
      epsilon: k.epsilon,
      terms: [
        { field: local.get(index.get(k.total)!)!, coef: -1 as const },
        ...k.parts.map((p) => ({ field: local.get(index.get(p)!)!, coef: 1 as const })),
      ],
    }));
    const order = eliminationOrder(members.length, dpIdents);
    // Pass 1: a narrow beam finds a good complete assignment; its score is the bound that lets
    // pass 2 drop partial assignments that cannot come within beamNats of it.
    const plan = planDp(dpFields, dpIdents, order, P.lambda);
    const seed = runDp(dpFields, dpIdents, order, { lambda: P.lambda, threshold: -Infinity, maxStates: P.seedBeam, keepEdges: false, maxCands: 6 }, plan);
    let r: DpResult;
    try {
      r = runDp(dpFields, dpIdents, order, { lambda: P.lambda, threshold: seed.logMax - P.beamNats, maxStates: P.maxStates, keepEdges: true, maxEdges: P.maxEdges }, plan);
    } catch (err) {
      if (err instanceof DpExhaustedError) {
        // The cap cut every path above the bound: keep the best states without a bound, and say the
        // result is not proven (the page then goes to review).
        r = runDp(dpFields, dpIdents, order, { lambda: P.lambda, threshold: -Infinity, maxStates: P.maxStates, keepEdges: true, maxEdges: P.maxEdges }, plan);
        r.capHit = true;
      } else if (err instanceof DpBudgetError) {
        // So many readings are plausible that proving the best one would cost seconds and hundreds
        // of MB (one bench page: 5 million transitions, 11 s, 770 MB). Such a page goes to a person
        // anyway; a narrow beam gives its best reading and approximate marginals to sort the crops.
        r = runDp(dpFields, dpIdents, order, { lambda: P.lambda, threshold: -Infinity, maxStates: P.seedBeam * 4, keepEdges: true }, plan);
        r.capHit = true;
      } else throw err;
    }
    states += seed.states + r.states;
    edges += r.edges;
    if (r.capHit) exact = false;
    logMax += r.logMax;
    logZ += r.logZ;
    pConsistent *= Math.exp(r.logZConsistent - r.logZ);
    members.forEach((g, i) => {
      values[g] = r.values[i]!;
      for (const [v, frac] of r.marginals![i]!) fieldMarginals[g]!.set(v, frac);
    });
  }

  const val = (key: string) => values[index.get(key)!]!;
  for (const k of crossLe) {
    const pHolds = probLeHolds(k.parts.map((p) => fieldMarginals[index.get(p)!]!), fieldMarginals[index.get(k.total)!]!);
    pConsistent *= pHolds;
  }

  const post = Math.exp(logMax - logZ);
  const out: DecodeResult = {
    values: {},
    argmax: {},
    post,
    pConsistent,
    pSlip: 0,
    marginals: {},
    residuals: {},
    argmaxResiduals: {},
    changedBoxes: [],
    cls: 'NEEDS_REVIEW',
    reasons: [],
    exact,
    stats: { components: compFields.size, states, edges, ms: 0 },
  };

  let boxMaxAll = 1;
  let argmaxValid = true;
  let argmaxIsMap = true;
  const changedPerField: number[] = new Array(n).fill(0);
  for (let g = 0; g < n; g++) {
    const key = prep.keys[g]!;
    const v = values[g]!;
    const am = valueOfClasses(prep.argmaxClasses[g]!, { emptyMeansZero: P.emptyMeansZero });
    out.values[key] = v;
    out.argmax[key] = am;
    out.marginals[key] = Math.min(1, fieldMarginals[g]!.get(v) ?? 0);
    if (am === null) argmaxValid = false;
    if (am !== v) argmaxIsMap = false;
    const boxes = prep.boxes[g]!;
    const rendered = renderClasses(v, boxes);
    boxes.forEach((p, b) => {
      const from = prep.argmaxClasses[g]![b]!;
      boxMaxAll = Math.min(boxMaxAll, p[from]!);
      // An all-filler zero (emptyMeansZero) renders [f, f, '0'] but was read [f, f, f]: not a change.
      const to = rendered[b]!;
      const fillerZero = P.emptyMeansZero && v === 0 && am === 0;
      if (from !== to && !fillerZero) {
        out.changedBoxes.push({ key, box: b, from: className(from), to: className(to), p: p[to]! });
        changedPerField[g]!++;
      }
    });
  }

  let allHold = true;
  let argmaxConsistent = argmaxValid;
  for (const k of identities) {
    const d = residualOf(k, val);
    out.residuals[k.id] = d;
    if (!holds(k, d)) allHold = false;
    const parts = [k.total, ...k.parts].map((key) => out.argmax[key]);
    const raw = parts.every((x) => x !== null) ? residualOf(k, (key) => out.argmax[key]!) : null;
    out.argmaxResiduals[k.id] = raw;
    if (raw === null || !holds(k, raw)) argmaxConsistent = false;
  }

  // The single-slip check. ε is charged per identity, so a KPPS who miswrote one number that sits
  // in two identities (a J in its L + P = J row and in its column total) costs ε² in the posterior:
  // too cheap an explanation to lose to. Each changed field therefore gets the alternative it
  // deserves, "the KPPS wrote what we read, and only that number is wrong": one ε (the largest of its
  // identities) and one q(Δ) (the kernel of §4.4, at the largest residual that number leaves):
  //   slip : misread = ε·q(Δ)·L(read) : (1 − ε)·L(x*).
  // A correction is automatic only if the slip keeps at most maxSlipProb. q(Δ) keeps the 2024-style
  // misreads automatic (617 for 117 leaves Δ = 500: no KPPS slips by 500); what goes to a person is a
  // small difference on a box that could be either digit, e.g. a planted 104 in a row summing to 105,
  // read 4 at p 0.51 and 5 at 0.24 (bench, session 3), which the per-identity model had "corrected".
  let worstSlip = 0;
  let worstSlipField = '';
  const rq = Math.exp(-1 / P.lambda);
  for (let g = 0; g < n; g++) {
    const key = prep.keys[g]!;
    const am = out.argmax[key];
    const v = out.values[key]!;
    if (am === null || am === undefined || am === v) continue;
    const own = identities.filter((k) => k.total === key || k.parts.includes(key));
    if (!own.length) continue;
    const eps = Math.max(...own.map((k) => k.epsilon));
    // The residual the reading leaves in its identities when only this number is as read.
    const withRead = (k: string) => (k === key ? am : out.values[k]!);
    // (an upper bound that still holds is no evidence either way: only a broken 'le' counts)
    const delta = Math.max(...own.map((k) => (k.kind === 'sum' ? Math.abs(residualOf(k, withRead)) : Math.max(0, residualOf(k, withRead)))));
    const q = Math.exp(-delta / P.lambda) / ((2 * rq) / (1 - rq));
    const logL = prep.likes[g]!.logL;
    const odds = ((eps * q) / (1 - eps)) * Math.exp(logL[am]! - logL[v]!);
    const pSlip = odds / (1 + odds);
    if (pSlip > worstSlip) {
      worstSlip = pSlip;
      worstSlipField = key;
    }
  }
  out.pSlip = worstSlip;

  const reasons = out.reasons;
  const nChanged = out.changedBoxes.length;
  const maxPerField = Math.max(0, ...changedPerField);
  const minChangedP = Math.min(1, ...out.changedBoxes.map((c) => c.p));
  const pInconsistent = 1 - pConsistent;
  if (!exact) reasons.push('search capped: the best assignment is not proven');
  if (exact && argmaxIsMap && argmaxConsistent && post >= P.autoAcceptPost) {
    out.cls = 'READ_OK';
  } else if (
    exact &&
    !argmaxIsMap &&
    allHold &&
    pConsistent >= P.autoAcceptConsistent &&
    post >= (nChanged >= 2 ? P.autoCorrectMultiBoxPost : P.autoAcceptPost) &&
    maxPerField <= P.maxChangedBoxesPerField &&
    nChanged <= P.maxChangedBoxesPerForm &&
    minChangedP >= P.minChangedBoxProb &&
    worstSlip <= P.maxSlipProb
  ) {
    out.cls = 'AUTO_CORRECTED';
  } else if (exact && !allHold && argmaxIsMap && pInconsistent >= P.formInconsistentPost && boxMaxAll >= P.formInconsistentBoxMax) {
    out.cls = 'FORM_INCONSISTENT';
  } else {
    out.cls = 'NEEDS_REVIEW';
    if (post < P.autoAcceptPost) reasons.push(`post ${post.toFixed(4)} < ${P.autoAcceptPost}`);
    else if (!argmaxIsMap && nChanged >= 2 && post < P.autoCorrectMultiBoxPost) reasons.push(`${nChanged} boxes changed and post ${post.toFixed(4)} < ${P.autoCorrectMultiBoxPost}`);
    if (!allHold) reasons.push(`identities broken at x*: ${identities.filter((k) => !holds(k, out.residuals[k.id]!)).map((k) => `${k.id} Δ=${out.residuals[k.id]}`).join(', ')}`);
    if (allHold && !argmaxIsMap && pConsistent < P.autoAcceptConsistent) reasons.push(`P(consistent) ${pConsistent.toFixed(4)} < ${P.autoAcceptConsistent}`);
    if (maxPerField > P.maxChangedBoxesPerField) reasons.push(`${maxPerField} boxes changed in one field (max ${P.maxChangedBoxesPerField})`);
    if (nChanged > P.maxChangedBoxesPerForm) reasons.push(`${nChanged} boxes changed on the page (max ${P.maxChangedBoxesPerForm})`);
    if (nChanged > 0 && minChangedP < P.minChangedBoxProb) reasons.push(`a changed box had p ${minChangedP.toExponential(2)} < ${P.minChangedBoxProb} for its new class`);
    if (worstSlip > P.maxSlipProb) reasons.push(`a KPPS slip in ${worstSlipField} (written as read) keeps P ${worstSlip.toExponential(2)} > ${P.maxSlipProb}`);
    if (!allHold && boxMaxAll < P.formInconsistentBoxMax) reasons.push(`inconsistent but a box is unsure (max ${boxMaxAll.toFixed(3)} < ${P.formInconsistentBoxMax})`);
    if (!allHold && pInconsistent < P.formInconsistentPost) reasons.push(`P(inconsistent) ${pInconsistent.toFixed(4)} < ${P.formInconsistentPost}`);
  }
  out.stats.ms = performance.now() - t0;
  return out;
}

/**
 * Two photos of the same sheet: per box, the geometric mean of the two distributions, renormalised
 * (log-linear pooling with weights ½, ½). Not the plain product (naive Bayes, INTEGRITY §4.5): that
 * assumes the two readings err independently, but both photograph the same handwriting, and an
 * ambiguous 1/7 is ambiguous in both, so the product counts that ambiguity twice. The geometric mean
 * of two identical readings is that reading; where the photos differ (blur, glare, a fold over one
 * box) the sharper reading still pulls the box its way. (On 40 bench forms held for review the
 * product published 5, the mean 4; both published the same one wrong number, a planted KPPS mistake
 * that both photos read the same wrong way: DECODER.md.)
 */
export function fuseBoxes(a: ArrayLike<number>[], b: ArrayLike<number>[], where = 'field'): number[][] {
  if (a.length !== b.length) throw new DecoderInputError(`${where}: photos have ${a.length} and ${b.length} boxes`);
  return a.map((pa, i) => {
    const x = normaliseBox(pa, `${where} box ${i} (photo A)`);
    const y = normaliseBox(b[i]!, `${where} box ${i} (photo B)`);
    const prod = Array.from(x, (v, c) => Math.sqrt(v * y[c]!));
    const s = prod.reduce((u, v) => u + v, 0);
    return prod.map((v) => v / s);
  });
}

/**
 * Fuse two readings of the same page, field by field. A field read in only one photo (cropped away
 * in the other) keeps that photo's probabilities. Use only for the same sheet type (plano with plano);
 * different documents are separate sources under rule M1.
 */
export function fusePhotos(a: DecodeField[], b: DecodeField[]): DecodeField[] {
  const byKey = new Map(b.map((f) => [f.key, f]));
  const out: DecodeField[] = a.map((f) => {
    const other = byKey.get(f.key);
    byKey.delete(f.key);
    return other ? { key: f.key, boxes: fuseBoxes(f.boxes, other.boxes, `field ${f.key}`) } : { key: f.key, boxes: f.boxes.map((x) => Array.from(x)) };
  });
  for (const f of byKey.values()) out.push({ key: f.key, boxes: f.boxes.map((x) => Array.from(x)) });
  return out;
}
