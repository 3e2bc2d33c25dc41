/**
 * Function-preserving widening of a trained digit network (Net2WiderNet, Chen, Goodfellow & Shlens 2016).
 *
 * Why: a wider network trained from scratch needs the ~70 epochs the committed weights have had across
 * sessions, which two cores cannot give in one sitting. Widening instead starts the wider network at
 * exactly the function the committed weights compute, so a fine-tune only has to use the new capacity.
 *
 * How: every new unit (conv1 channel, conv2 channel or hidden unit) is a copy of an existing unit
 * (unit j copies j mod old width); each copy receives the same incoming weights, and the outgoing weights
 * of a unit with k copies are divided by k, so the next layer's input is unchanged (ReLU and max-pool act
 * per unit, so copies stay equal through them). Copies of the same unit would then receive identical
 * gradients forever; a little noise on the copies' incoming weights (`noise` × the layer's weight
 * standard deviation) lets them drift apart.
 */
import { gaussian, layoutOf, rng, type CnnShape } from './cnn.js';

const MAP = 49; // 7×7 maps after the second pool, flattened per channel (cnn.ts)

/** Why `from` cannot be widened to `to`, or null when it can (the same shape included). */
export function widenProblem(from: CnnShape, to: CnnShape): string | null {
  if (to.classes !== from.classes) return `widening keeps the classes (${from.classes}), not ${to.classes}`;
  if (to.c1 < from.c1 || to.c2 < from.c2 || to.hidden < from.hidden) return `widening only adds units: ${JSON.stringify(from)} → ${JSON.stringify(to)}`;
  return null;
}

export function widenParams(from: CnnShape, params: Float32Array, to: CnnShape, opts: { noise?: number; seed?: number } = {}): Float32Array {
  const problem = widenProblem(from, to);
  if (problem) throw new Error(problem);
  const A = layoutOf(from);
  const B = layoutOf(to);
  if (params.length !== A.size) throw new Error(`weights have ${params.length} values, shape ${JSON.stringify(from)} needs ${A.size}`);
  const out = new Float32Array(B.size);
  const rand = rng(opts.seed ?? 1);
  const noise = opts.noise ?? 0;
  /** Old unit a new unit copies, and how many copies each old unit has. */
  const plan = (oldN: number, newN: number) => {
    const src = Array.from({ length: newN }, (_, j) => j % oldN);
    const copies = new Array<number>(oldN).fill(0);
    for (const s of src) copies[s]++;
    return { src, copies };
  };
  const g1 = plan(from.c1, to.c1);
  const g2 = plan(from.c2, to.c2);
  const g3 = plan(from.hidden, to.hidden);
  const sd = (at: number, n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += params[at + i]! * params[at + i]!;
    return Math.sqrt(s / n);
  };
  // A copy (j ≥ old width) gets noise on its incoming weights; the original keeps its own exactly.
  const jitter = (isCopy: boolean, scale: number) => (isCopy && noise > 0 ? gaussian(rand) * noise * scale : 0);

  const sd1 = sd(A.w1, from.c1 * 9);
  for (let j = 0; j < to.c1; j++) {
    const s = g1.src[j]!;
    for (let t = 0; t < 9; t++) out[B.w1 + j * 9 + t] = params[A.w1 + s * 9 + t]! + jitter(j >= from.c1, sd1);
    out[B.b1 + j] = params[A.b1 + s]!;
  }
  const sd2 = sd(A.w2, from.c2 * from.c1 * 9);
  for (let o = 0; o < to.c2; o++) {
    const so = g2.src[o]!;
    for (let i = 0; i < to.c1; i++) {
      const si = g1.src[i]!;
      const k = g1.copies[si]!;
      for (let t = 0; t < 9; t++) {
        out[B.w2 + (o * to.c1 + i) * 9 + t] = params[A.w2 + (so * from.c1 + si) * 9 + t]! / k + jitter(o >= from.c2, sd2 / k);
      }
    }
    out[B.b2 + o] = params[A.b2 + so]!;
  }
  const sd3 = sd(A.w3, from.hidden * from.c2 * MAP);
  for (let h = 0; h < to.hidden; h++) {
    const sh = g3.src[h]!;
    for (let c = 0; c < to.c2; c++) {
      const sc = g2.src[c]!;
      const k = g2.copies[sc]!;
      for (let m = 0; m < MAP; m++) {
        out[B.w3 + (h * to.c2 + c) * MAP + m] = params[A.w3 + (sh * from.c2 + sc) * MAP + m]! / k + jitter(h >= from.hidden, sd3 / k);
      }
    }
    out[B.b3 + h] = params[A.b3 + sh]!;
  }
  for (let q = 0; q < to.classes; q++) {
    for (let h = 0; h < to.hidden; h++) {
      const sh = g3.src[h]!;
      out[B.w4 + q * to.hidden + h] = params[A.w4 + q * from.hidden + sh]! / g3.copies[sh]!;
    }
    out[B.b4 + q] = params[A.b4 + q]!;
  }
  return out;
}
