/**
 * Exact joint decoding of one connected group of fields under its identities (max-product and
 * sum-product in one pass, then a backward pass for marginals). See docs/DECODER.md for the maths.
 *
 * Fields are eliminated one at a time in an order that keeps few identities "open" (some but not all
 * of their fields assigned). A state is the vector of the open identities' partial residuals
 * r_k = Σ assigned parts − assigned total; when an identity's last field is assigned its factor
 * ψ_k(Δ_k) is applied and it leaves the state. For a chain of sums (the perolehan page) the state is
 * one partial sum and the pass is exactly the convolution message passing of INTEGRITY §4.3; for the
 * L/P × list grid (cycles) it is the joint factor over (ΣL, ΣP, ΣJ) of §4.3, with the soft residuals
 * carried exactly rather than forced to zero.
 *
 * Search: each field tries its top-K values plus, when it closes an identity, the value that zeroes
 * it. A partial assignment is dropped when an upper bound on every completion of it (A*: the best
 * remaining values plus a per-identity bound on the residual penalty still to come) falls more than
 * `beamNats` below a complete assignment found by a cheap first pass. The MAP is exact under these
 * candidate lists; posteriors are sums over the kept assignments, each dropped one being at least
 * e^beamNats times less likely than that complete assignment.
 */
import type { FieldLikelihood } from './likelihood.js';

export interface DpIdentity {
  id: string;
  kind: 'sum' | 'le';
  /** Field indices (into the component's field list) with coefficient +1 (parts) or −1 (total). */
  terms: { field: number; coef: 1 | -1 }[];
  epsilon: number;
}

export interface DpField {
  like: FieldLikelihood;
  /** Candidate values, most likely first. */
  cands: Int32Array;
}

export interface DpOptions {
  lambda: number;
  /** Drop a partial assignment whose score bound is below this (log). −Infinity: keep all. */
  threshold: number;
  maxStates: number;
  /** Record the transitions for the backward pass (marginals). */
  keepEdges: boolean;
  /** Try only this many of each field's candidates (the seed pass needs a good assignment, not all). */
  maxCands?: number;
  /** Stop with DpBudgetError once this many transitions have been made (bounds time and memory). */
  maxEdges?: number;
}

export interface DpResult {
  /** MAP value per field. */
  values: Int32Array;
  /** log of the MAP assignment's unnormalised score Π L · Π ψ. */
  logMax: number;
  /** log Z over the kept assignments, and log of the consistent part (every Δ = 0, every ≤ holds). */
  logZ: number;
  logZConsistent: number;
  /** Full marginal per field over the kept assignments (unnormalised mass, same scale as Z). */
  marginals: Map<number, number>[] | null;
  /** A state dropped by the cap could have beaten the MAP: the MAP is not proven. */
  capHit: boolean;
  states: number;
  edges: number;
}

/** Largest |residual| any identity of the component can reach: Σ of its fields' largest values. */
function residualLimit(fields: DpField[], idents: DpIdentity[]): number {
  let limit = 1;
  for (const k of idents) {
    let s = 0;
    for (const t of k.terms) s += fields[t.field]!.like.logL.length - 1;
    limit = Math.max(limit, s);
  }
  return limit;
}

export function logPsi(kind: 'sum' | 'le', epsilon: number, lambda: number, delta: number): number {
  const ok = kind === 'sum' ? delta === 0 : delta <= 0;
  if (ok) return Math.log1p(-epsilon);
  const r = Math.exp(-1 / lambda);
  // q(Δ) ∝ exp(−|Δ|/λ) normalised over Δ ≠ 0 (sum) or Δ > 0 (le).
  const zq = kind === 'sum' ? (2 * r) / (1 - r) : r / (1 - r);
  return Math.log(epsilon) - Math.abs(delta) / lambda - Math.log(zq);
}

/** Elimination order: fewest open identities after each step, then most identities closed, then input order. */
export function eliminationOrder(nFields: number, idents: DpIdentity[]): number[] {
  const fieldIdents: number[][] = Array.from({ length: nFields }, () => []);
  idents.forEach((k, i) => k.terms.forEach((t) => fieldIdents[t.field]!.push(i)));
  const remaining = idents.map((k) => k.terms.length);
  const touched = new Uint8Array(idents.length);
  const done = new Uint8Array(nFields);
  const order: number[] = [];
  let open = 0;
  for (let step = 0; step < nFields; step++) {
    let best = -1;
    let bestOpen = Infinity;
    let bestClosed = -1;
    for (let f = 0; f < nFields; f++) {
      if (done[f]) continue;
      let o = open;
      let closed = 0;
      for (const k of fieldIdents[f]!) {
        if (!touched[k]) o++;
        if (remaining[k] === 1) {
          o--;
          closed++;
        }
      }
      if (o < bestOpen || (o === bestOpen && closed > bestClosed)) {
        best = f;
        bestOpen = o;
        bestClosed = closed;
      }
    }
    done[best] = 1;
    order.push(best);
    for (const k of fieldIdents[best]!) {
      touched[k] = 1;
      remaining[k]!--;
    }
    open = bestOpen;
  }
  return order;
}

interface Stage {
  field: number;
  /** Identities open after this stage, in state-vector order. */
  openAfter: number[];
  /** For each identity open after: index in the previous state vector (−1: opened now), and this field's coefficient (0: not touched). */
  carry: Int32Array;
  coef: Int32Array;
  /** Identities closed at this stage, with their previous index and this field's coefficient. */
  closing: { ident: number; prevIndex: number; coef: number }[];
  /** Upper bound (log) on what the fields and identity factors after this stage can add, ignoring residuals. */
  hAfter: number;
  /**
   * Per open identity (same order as openAfter): an upper bound, as a function of its residual after
   * this stage, on how much its remaining fields and its factor can fall short of hAfter (≤ 0), or
   * null when a remaining field is charged to another identity and may absorb any residual.
   */
  bounds: (ResidualBound | null)[];
}

interface ResidualBound {
  /** Stored values for residuals lo .. lo + values.length − 1. */
  lo: number;
  values: Float64Array;
  /**
   * Outside [fLo, fHi] the remaining fields cannot bring Δ to 0: the remaining parts add at most
   * −fLo, the remaining totals subtract at most fHi. There the bound is the closed form
   * p0 − distance/λ (ψ's tail), so only the feasible window is stored.
   */
  fLo: number;
  fHi: number;
  p0: number;
  invLambda: number;
}

function boundAt(b: ResidualBound | null, r: number): number {
  if (!b) return 0;
  if (r < b.fLo) return b.p0 - (b.fLo - r) * b.invLambda;
  if (r > b.fHi) return b.p0 - (r - b.fHi) * b.invLambda;
  const i = r - b.lo;
  // Feasible but unreachable residuals are never asked for; 0 keeps the bound admissible anyway.
  return i >= 0 && i < b.values.length ? b.values[i]! : 0;
}

function planStages(fields: DpField[], idents: DpIdentity[], order: number[], lambda: number): Stage[] {
  const pos = new Int32Array(fields.length);
  order.forEach((f, i) => (pos[f] = i));
  const lastStage = idents.map((k) => Math.max(...k.terms.map((t) => pos[t.field]!)));
  const firstStage = idents.map((k) => Math.min(...k.terms.map((t) => pos[t.field]!)));
  const stages: Stage[] = [];
  let open: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const f = order[i]!;
    const coefOf = (k: number) => idents[k]!.terms.find((t) => t.field === f)?.coef ?? 0;
    const closing = idents
      .map((_, k) => k)
      .filter((k) => lastStage[k] === i)
      .map((k) => ({ ident: k, prevIndex: open.indexOf(k), coef: coefOf(k) }));
    const kept = open.filter((k) => lastStage[k] !== i);
    const opened = idents.map((_, k) => k).filter((k) => firstStage[k] === i && lastStage[k] !== i);
    const after = [...kept, ...opened];
    stages.push({
      field: f,
      openAfter: after,
      carry: Int32Array.from(after, (k) => open.indexOf(k)),
      coef: Int32Array.from(after, coefOf),
      closing,
      hAfter: 0,
      bounds: [],
    });
    open = after;
  }
  let h = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    stages[i]!.hAfter = h;
    h += fields[order[i]!]!.like.maxLog;
    for (const c of stages[i]!.closing) h += Math.log1p(-idents[c.ident]!.epsilon);
  }

  // Residual bounds (an A* heuristic that makes pruning bite before an identity closes). Each field
  // is charged to at most one identity, the earliest opened among those it belongs to, so the
  // per-identity bounds can be added without counting a field twice.
  const charge = new Int32Array(fields.length).fill(-1);
  for (let f = 0; f < fields.length; f++) {
    let best = -1;
    idents.forEach((k, ki) => {
      if (firstStage[ki]! < pos[f]! && k.terms.some((t) => t.field === f) && (best < 0 || firstStage[ki]! < firstStage[best]!)) best = ki;
    });
    charge[f] = best;
  }
  const boundsByIdent = idents.map((k, ki) => identityBounds(k, ki, fields, order, firstStage[ki]!, lastStage[ki]!, charge, lambda));
  for (let i = 0; i < order.length; i++) {
    stages[i]!.bounds = stages[i]!.openAfter.map((k) => boundsByIdent[k]!.get(i) ?? null);
  }
  return stages;
}

/** dev_f(v) = log L_f(v) − max log L_f. */
function devOf(f: DpField, v: number): number {
  return f.like.logL[v]! - f.like.maxLog;
}

function identityBounds(
  k: DpIdentity,
  ki: number,
  fields: DpField[],
  order: number[],
  first: number,
  last: number,
  charge: Int32Array,
  lambda: number,
): Map<number, ResidualBound | null> {
  const out = new Map<number, ResidualBound | null>();
  const coefOf = (f: number) => k.terms.find((t) => t.field === f)?.coef ?? 0;
  const stageOf = k.terms.map((t) => order.indexOf(t.field));
  const sizeOf = (f: number) => fields[f]!.like.logL.length - 1;
  // Residuals reachable after stage i (processed totals lower it, parts raise it), and the window
  // from which the remaining fields can still bring it to zero.
  const windowAfter = (i: number) => {
    let lo = 0;
    let hi = 0;
    let remParts = 0;
    let remTotals = 0;
    k.terms.forEach((t, j) => {
      const size = sizeOf(t.field);
      if (stageOf[j]! <= i) {
        if (t.coef < 0) lo -= size;
        else hi += size;
      } else if (t.coef < 0) remTotals += size;
      else remParts += size;
    });
    return { lo: Math.max(lo, -remParts), hi: Math.min(hi, remTotals), fLo: -remParts, fHi: remTotals };
  };
  const step = 1 / lambda;
  const rq = Math.exp(-step);
  const p0 = Math.log(k.epsilon) - Math.log((2 * rq) / (1 - rq)) - Math.log1p(-k.epsilon);
  let next: ResidualBound | null = null;
  let absorbed = false;
  for (let i = last - 1; i >= first; i--) {
    const g = order[i + 1]!;
    const c = coefOf(g);
    if (absorbed) {
      out.set(i, null);
      continue;
    }
    if (c === 0) {
      out.set(i, next);
      continue;
    }
    if (charge[g] !== ki || k.kind !== 'sum') {
      absorbed = true;
      out.set(i, null);
      continue;
    }
    const { lo, hi, fLo, fHi } = windowAfter(i);
    const values = new Float64Array(Math.max(0, hi - lo + 1));
    const fld = fields[g]!;
    const size = fld.like.logL.length;
    if (i + 1 === last) {
      // The closing field may take any value: exact where it zeroes Δ, else the best L1-discounted value.
      const dev = new Float64Array(size);
      for (let v = 0; v < size; v++) dev[v] = devOf(fld, v);
      const dt = Float64Array.from(dev);
      for (let v = 1; v < size; v++) dt[v] = Math.max(dt[v]!, dt[v - 1]! - step);
      for (let v = size - 2; v >= 0; v--) dt[v] = Math.max(dt[v]!, dt[v + 1]! - step);
      for (let res = lo; res <= hi; res++) {
        const u = -c * res;
        const exact = u >= 0 && u < size ? dev[u]! : -Infinity;
        const far = u < 0 ? dt[0]! - -u * step : u >= size ? dt[size - 1]! - (u - size + 1) * step : dt[u]!;
        values[res - lo] = Math.max(exact, p0 + far);
      }
    } else if (hi >= lo) {
      // Materialise the next bound over every residual res + c·v can reach (closed form outside its window).
      const nb = next!;
      const tlo = lo + Math.min(0, c * (size - 1));
      const thi = hi + Math.max(0, c * (size - 1));
      const tv = new Float64Array(thi - tlo + 1);
      for (let x = tlo; x <= thi; x++) tv[x - tlo] = boundAt(nb, x);
      values.fill(-Infinity);
      const inCands = new Uint8Array(size);
      for (const v of fld.cands) inCands[v] = 1;
      let devOut = -Infinity;
      for (let v = 0; v < size; v++) if (!inCands[v]) devOut = Math.max(devOut, devOf(fld, v));
      const n = hi - lo + 1;
      for (const v of fld.cands) {
        const dv = devOf(fld, v);
        const shift = lo + c * v - tlo;
        for (let j = 0; j < n; j++) {
          const x = dv + tv[j + shift]!;
          if (x > values[j]!) values[j] = x;
        }
      }
      if (devOut > -Infinity) {
        // Values outside the candidate list: bounded by devOut plus the best reachable bound (sliding max).
        const win = slidingMax(tv, tlo, lo, hi, c, size);
        for (let j = 0; j < n; j++) values[j] = Math.max(values[j]!, devOut + win[j]!);
      }
    }
    next = { lo, values, fLo, fHi, p0, invLambda: step };
    out.set(i, next);
  }
  return out;
}

/**
 * For res in [lo, hi]: max over v in [0, size) of tv[res + c·v − tlo] (a monotone-deque sliding
 * maximum; tv covers every index the windows touch).
 */
export function slidingMax(tv: Float64Array, tlo: number, lo: number, hi: number, c: number, size: number): Float64Array {
  const out = new Float64Array(hi - lo + 1);
  const dq = new Int32Array(tv.length);
  let head = 0;
  let tail = 0;
  if (c > 0) {
    // Window [res, res + size − 1]: sweep res downward, entering indices in decreasing order.
    let next = hi + size - 1 - tlo;
    for (let res = hi; res >= lo; res--) {
      const low = res - tlo;
      while (next >= low) {
        const val = tv[next]!;
        while (tail > head && tv[dq[tail - 1]!]! <= val) tail--;
        dq[tail++] = next--;
      }
      while (dq[head]! > low + size - 1) head++;
      out[res - lo] = tv[dq[head]!]!;
    }
  } else {
    // Window [res − size + 1, res]: sweep res upward.
    let next = lo - size + 1 - tlo;
    for (let res = lo; res <= hi; res++) {
      const high = res - tlo;
      while (next <= high) {
        const val = tv[next]!;
        while (tail > head && tv[dq[tail - 1]!]! <= val) tail--;
        dq[tail++] = next++;
      }
      while (dq[head]! < high - size + 1) head++;
      out[res - lo] = tv[dq[head]!]!;
    }
  }
  return out;
}

/** A state's key: packed into one number while it fits in 52 bits, else a string. */
function packKey(res: ArrayLike<number>, d: number, limit: number, base: number, numeric: boolean): number | string {
  if (numeric) {
    let key = 0;
    for (let j = 0; j < d; j++) key = key * base + (res[j]! + limit);
    return key;
  }
  let s = '';
  for (let j = 0; j < d; j++) s += res[j]! + ',';
  return s;
}

/**
 * One forward pass (and, with keepEdges, one backward pass). Masses are kept linear, scaled by
 * exp(−Σ max log L) of the fields processed so far, so they neither underflow nor need log-sum-exp.
 */
export function runDp(fields: DpField[], idents: DpIdentity[], order: number[], opts: DpOptions, plan?: Stage[]): DpResult {
  const stages = plan ?? planStages(fields, idents, order, opts.lambda);
  const l1e = idents.map((k) => Math.log1p(-k.epsilon));
  const rq = Math.exp(-1 / opts.lambda);
  const lBreak = idents.map((k) => Math.log(k.epsilon) - Math.log(k.kind === 'sum' ? (2 * rq) / (1 - rq) : rq / (1 - rq)));
  const isSum = idents.map((k) => k.kind === 'sum');
  const invLambda = 1 / opts.lambda;

  let prevRes: number[] = [];
  let prevD = 0;
  let prevMax = [0];
  let prevAlpha = [1];
  let prevCons = [1];
  let capHit = false;
  let capDroppedBound = -Infinity;
  let totalStates = 1;
  let totalEdges = 0;
  // Transitions made so far, against opts.maxEdges (counted as they are made: one step of 20,000
  // states can make half a million).
  let work = 0;
  const maxWork = opts.maxEdges ?? Infinity;
  // Per-step arrays are kept as built (no copies): the backward pass and the traceback only read them.
  const backS: ArrayLike<number>[] = [];
  const backV: ArrayLike<number>[] = [];
  const alphas: ArrayLike<number>[] = [];
  const edgeLists: { from: ArrayLike<number>; to: ArrayLike<number>; val: ArrayLike<number>; w: ArrayLike<number> }[] = [];
  let scale = 0;
  const limit = residualLimit(fields, idents);
  const base = 2 * limit + 1;
  // One flat index for single-residual steps, reset entry by entry after each step.
  const denseBuf = base <= 1 << 18 ? new Int32Array(base).fill(-1) : null;

  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    const fld = fields[st.field]!;
    const logL = fld.like.logL;
    const mL = fld.like.maxLog;
    const size = logL.length;
    const d = st.openAfter.length;
    const bounds = st.bounds;
    const inCands = new Uint8Array(size);
    for (const v of fld.cands) inCands[v] = 1;

    // One open identity (a chain of sums): index states by residual in a flat array, no hashing.
    const dense = d <= 1 ? denseBuf : null;
    const numeric = Math.pow(base, d) < 2 ** 52;
    const map = dense ? null : new Map<number | string, number>();
    const res: number[] = [];
    const mx: number[] = [];
    const hs: number[] = [];
    const bs: number[] = [];
    const bv: number[] = [];
    const al: number[] = [];
    const co: number[] = [];
    const eFrom: number[] = [];
    const eTo: number[] = [];
    const eVal: number[] = [];
    const eW: number[] = [];
    const tmp = new Array<number>(d);
    const extra: number[] = [];
    const nc = Math.min(fld.cands.length, opts.maxCands ?? Infinity);

    const nPrev = prevMax.length;
    for (let s = 0; s < nPrev; s++) {
      const g0 = prevMax[s]!;
      const a0 = prevAlpha[s]!;
      const c0 = prevCons[s]!;
      // Values that satisfy a closing identity exactly are always tried: a determined total is
      // scored from its own boxes at the value its parts imply, however unlikely its reading.
      extra.length = 0;
      for (const c of st.closing) {
        const r = c.prevIndex >= 0 ? prevRes[s * prevD + c.prevIndex]! : 0;
        const v = -c.coef * r;
        if (v >= 0 && v < size && !inCands[v] && !extra.includes(v)) extra.push(v);
      }
      for (let ci = 0; ci < nc + extra.length; ci++) {
        const v = ci < nc ? fld.cands[ci]! : extra[ci - nc]!;
        const lv = logL[v]!;
        if (lv === -Infinity) continue;
        let w = lv;
        let consistent = true;
        for (const c of st.closing) {
          const r = c.prevIndex >= 0 ? prevRes[s * prevD + c.prevIndex]! : 0;
          const delta = r + c.coef * v;
          const k = c.ident;
          const ok = isSum[k] ? delta === 0 : delta <= 0;
          if (ok) w += l1e[k]!;
          else {
            consistent = false;
            w += lBreak[k]! - Math.abs(delta) * invLambda;
          }
        }
        const g = g0 + w;
        let h = st.hAfter;
        let outOfRange = false;
        for (let j = 0; j < d; j++) {
          const pi = st.carry[j]!;
          const r = (pi >= 0 ? prevRes[s * prevD + pi]! : 0) + st.coef[j]! * v;
          if (r > limit || r < -limit) outOfRange = true;
          tmp[j] = r;
          h += boundAt(bounds[j]!, r);
        }
        if (outOfRange || g + h < opts.threshold) continue;
        const wl = Math.exp(w - mL);
        let key: number | string = 0;
        let t: number | undefined;
        if (dense) {
          key = d === 0 ? 0 : tmp[0]! + limit;
          t = dense[key]!;
          if (t < 0) t = undefined;
        } else {
          key = packKey(tmp, d, limit, base, numeric);
          t = map!.get(key);
        }
        if (t === undefined) {
          t = mx.length;
          if (dense) dense[key as number] = t;
          else map!.set(key, t);
          for (let j = 0; j < d; j++) res.push(tmp[j]!);
          mx.push(g);
          hs.push(h);
          bs.push(s);
          bv.push(v);
          al.push(0);
          co.push(0);
        } else if (g > mx[t]!) {
          mx[t] = g;
          bs[t] = s;
          bv[t] = v;
        }
        al[t] += a0 * wl;
        if (consistent) co[t] += c0 * wl;
        if (opts.keepEdges) {
          eFrom.push(s);
          eTo.push(t);
          eVal.push(v);
          eW.push(wl);
        }
        if (++work > maxWork) throw new DpBudgetError(maxWork);
      }
    }

    if (dense) {
      // Before the cap rewrites res: every index this step set goes back to −1.
      if (d === 0) dense[0] = -1;
      else for (let k = 0; k < res.length; k++) dense[res[k]! + limit] = -1;
    }
    let n = mx.length;
    // The cap: keep the maxStates states with the best bound on a complete assignment.
    let remap: Int32Array | null = null;
    if (n > opts.maxStates) {
      // Keep the maxStates best by bound: find the cut with a numeric sort of the scores only.
      const score = new Float64Array(n);
      for (let k = 0; k < n; k++) score[k] = mx[k]! + hs[k]!;
      const sorted = Float64Array.from(score).sort();
      const cut = sorted[n - opts.maxStates]!;
      let room = opts.maxStates;
      for (let k = 0; k < n; k++) if (score[k]! > cut) room--;
      remap = new Int32Array(n).fill(-1);
      let nw = 0;
      for (let k = 0; k < n; k++) {
        if (score[k]! > cut || (score[k] === cut && room-- > 0)) remap[k] = nw++;
        else capDroppedBound = Math.max(capDroppedBound, score[k]!);
      }
      capHit = true;
      const keepIdx = (arr: number[]) => arr.filter((_, k) => remap![k]! >= 0);
      const newRes: number[] = [];
      for (let k = 0; k < n; k++) if (remap[k]! >= 0) for (let j = 0; j < d; j++) newRes.push(res[k * d + j]!);
      const kept = { mx: keepIdx(mx), bs: keepIdx(bs), bv: keepIdx(bv), al: keepIdx(al), co: keepIdx(co) };
      res.length = 0;
      for (const x of newRes) res.push(x);
      mx.length = bs.length = bv.length = al.length = co.length = 0;
      for (let k = 0; k < kept.mx.length; k++) {
        mx.push(kept.mx[k]!);
        bs.push(kept.bs[k]!);
        bv.push(kept.bv[k]!);
        al.push(kept.al[k]!);
        co.push(kept.co[k]!);
      }
      n = mx.length;
    }

    backS.push(bs);
    backV.push(bv);
    if (opts.keepEdges) {
      alphas.push(prevAlpha);
      if (remap) {
        const keepE: number[] = [];
        for (let e = 0; e < eTo.length; e++) if (remap[eTo[e]!]! >= 0) keepE.push(e);
        edgeLists.push({
          from: Int32Array.from(keepE, (e) => eFrom[e]!),
          to: Int32Array.from(keepE, (e) => remap![eTo[e]!]!),
          val: Int32Array.from(keepE, (e) => eVal[e]!),
          w: Float64Array.from(keepE, (e) => eW[e]!),
        });
      } else {
        edgeLists.push({ from: eFrom, to: eTo, val: eVal, w: eW });
      }
      totalEdges += eTo.length;
    }
    totalStates += n;
    scale += mL;
    prevRes = res;
    prevD = d;
    prevMax = mx;
    prevAlpha = al;
    prevCons = co;
    if (n === 0) break;
  }

  const nFields = fields.length;
  const values = new Int32Array(nFields).fill(-1);
  if (prevMax.length !== 1) {
    // Only possible when the cap cut every path that could reach the threshold; the caller retries.
    throw new DpExhaustedError(opts.threshold);
  }
  let s = 0;
  for (let i = stages.length - 1; i >= 0; i--) {
    values[stages[i]!.field] = backV[i]![s]!;
    s = backS[i]![s]!;
  }
  const logMax = prevMax[0]!;
  const logZ = scale + Math.log(prevAlpha[0]!);
  const logZConsistent = prevCons[0]! > 0 ? scale + Math.log(prevCons[0]!) : -Infinity;

  let marginals: Map<number, number>[] | null = null;
  if (opts.keepEdges) {
    // Backward pass: β over the same layered graph; marginal of an edge = α(from)·w·β(to) / Z.
    marginals = Array.from({ length: nFields }, () => new Map<number, number>());
    let beta = new Float64Array([1]);
    const zLin = prevAlpha[0]!;
    for (let i = stages.length - 1; i >= 0; i--) {
      const { from, to, val, w } = edgeLists[i]!;
      const alpha = alphas[i]!;
      const prevBeta = new Float64Array(alpha.length);
      const m = marginals[stages[i]!.field]!;
      for (let e = 0; e < to.length; e++) {
        const contrib = w[e]! * beta[to[e]!]!;
        prevBeta[from[e]!] += contrib;
        const mass = alpha[from[e]!]! * contrib;
        if (mass > 0) m.set(val[e]!, (m.get(val[e]!) ?? 0) + mass / zLin);
      }
      beta = prevBeta;
    }
  }

  return { values, logMax, logZ, logZConsistent, marginals, capHit: capHit && capDroppedBound > logMax, states: totalStates, edges: totalEdges };
}

/** The exact pass needed more transitions than allowed: the page has too many plausible readings to prove one. */
export class DpBudgetError extends Error {
  constructor(maxEdges: number) {
    super(`decoder: more than ${maxEdges} transitions`);
    this.name = 'DpBudgetError';
  }
}

export class DpExhaustedError extends Error {
  constructor(threshold: number) {
    super(`decoder: no assignment survived the threshold ${threshold}`);
    this.name = 'DpExhaustedError';
  }
}

/** Plan once, run twice (the seed beam and the full pass share it). */
export function planDp(fields: DpField[], idents: DpIdentity[], order: number[], lambda: number): Stage[] {
  return planStages(fields, idents, order, lambda);
}

