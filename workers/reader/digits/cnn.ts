/**
 * A small convolutional network in plain TypeScript on Float32Arrays:
 *   28×28 → conv3×3(C1) ReLU → maxpool2 → conv3×3(C2) ReLU → maxpool2 → fc(H) ReLU → fc(12)
 *
 * Why hand-written: no npm package ships a handwritten-digit model, nothing may be downloaded, and the
 * native ML runtimes are heavy or need install-time downloads. A LeNet-sized network trains in minutes
 * on two cores and infers a whole form's boxes in milliseconds.
 */
import { mulberry32 } from '../../../db/seed/random.js';

export interface CnnShape {
  c1: number;
  c2: number;
  hidden: number;
  classes: number;
}

const S0 = 28; // input side
const S1 = 14; // after pool 1
const S2 = 7; // after pool 2

/** Offsets of each tensor inside the one flat parameter vector (so Adam and saving see one array). */
export interface Layout {
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  w3: number;
  b3: number;
  w4: number;
  b4: number;
  size: number;
}

export function layoutOf(s: CnnShape): Layout {
  let o = 0;
  const take = (n: number) => {
    const at = o;
    o += n;
    return at;
  };
  const w1 = take(s.c1 * 9);
  const b1 = take(s.c1);
  const w2 = take(s.c2 * s.c1 * 9);
  const b2 = take(s.c2);
  const w3 = take(s.hidden * s.c2 * S2 * S2);
  const b3 = take(s.hidden);
  const w4 = take(s.classes * s.hidden);
  const b4 = take(s.classes);
  return { w1, b1, w2, b2, w3, b3, w4, b4, size: o };
}

/** Deterministic PRNG so training runs are reproducible from a seed. */
export const rng = mulberry32;

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function initParams(s: CnnShape, seed: number): Float32Array {
  const L = layoutOf(s);
  const p = new Float32Array(L.size);
  const rand = rng(seed);
  const he = (at: number, n: number, fanIn: number) => {
    const sd = Math.sqrt(2 / fanIn);
    for (let i = 0; i < n; i++) p[at + i] = gaussian(rand) * sd;
  };
  he(L.w1, s.c1 * 9, 9);
  he(L.w2, s.c2 * s.c1 * 9, s.c1 * 9);
  he(L.w3, s.hidden * s.c2 * S2 * S2, s.c2 * S2 * S2);
  he(L.w4, s.classes * s.hidden, s.hidden);
  return p;
}

/** Scratch buffers for one sample's forward/backward pass (allocated once per network). */
class Work {
  in0: Float32Array; // padded input (S0+2)²
  a1: Float32Array; // conv1 output after ReLU, c1·S0²
  p1: Float32Array; // pooled, padded, c1·(S1+2)²
  i1: Int32Array; // argmax index into a1 for each pooled cell, c1·S1²
  a2: Float32Array; // c2·S1²
  p2: Float32Array; // c2·S2²
  i2: Int32Array;
  h: Float32Array;
  drop: Float32Array;
  logits: Float32Array;
  // gradients wrt activations
  dp2: Float32Array;
  da2: Float32Array;
  dp1: Float32Array;
  da1: Float32Array;
  dh: Float32Array;
  constructor(s: CnnShape) {
    this.in0 = new Float32Array((S0 + 2) * (S0 + 2));
    this.a1 = new Float32Array(s.c1 * S0 * S0);
    this.p1 = new Float32Array(s.c1 * (S1 + 2) * (S1 + 2));
    this.i1 = new Int32Array(s.c1 * S1 * S1);
    this.a2 = new Float32Array(s.c2 * S1 * S1);
    this.p2 = new Float32Array(s.c2 * S2 * S2);
    this.i2 = new Int32Array(s.c2 * S2 * S2);
    this.h = new Float32Array(s.hidden);
    this.drop = new Float32Array(s.hidden);
    this.logits = new Float32Array(s.classes);
    this.dp2 = new Float32Array(s.c2 * S2 * S2);
    this.da2 = new Float32Array(s.c2 * S1 * S1);
    this.dp1 = new Float32Array(s.c1 * (S1 + 2) * (S1 + 2));
    this.da1 = new Float32Array(s.c1 * S0 * S0);
    this.dh = new Float32Array(s.hidden);
  }
}

export class Cnn {
  readonly shape: CnnShape;
  readonly L: Layout;
  params: Float32Array;
  private w: Work;

  constructor(shape: CnnShape, params?: Float32Array, seed = 1) {
    this.shape = shape;
    this.L = layoutOf(shape);
    if (params && params.length !== this.L.size) {
      throw new Error(`digit model weights have ${params.length} values, the network needs ${this.L.size}`);
    }
    this.params = params ?? initParams(shape, seed);
    this.w = new Work(shape);
  }

  /**
   * Forward pass of one 28×28 image; returns the logits (a view into scratch memory: copy if kept).
   * `dropRate` > 0 only while training (inverted dropout on the hidden layer).
   */
  forward(x: Float32Array, dropRate = 0, rand?: () => number): Float32Array {
    const { c1, c2, hidden, classes } = this.shape;
    const P = this.params;
    const L = this.L;
    const w = this.w;
    const P0 = S0 + 2;
    const in0 = w.in0;
    for (let y = 0; y < S0; y++) for (let x0 = 0; x0 < S0; x0++) in0[(y + 1) * P0 + x0 + 1] = x[y * S0 + x0];

    // conv1 + ReLU
    const a1 = w.a1;
    for (let oc = 0; oc < c1; oc++) {
      const wo = L.w1 + oc * 9;
      const k0 = P[wo], k1 = P[wo + 1], k2 = P[wo + 2], k3 = P[wo + 3], k4 = P[wo + 4];
      const k5 = P[wo + 5], k6 = P[wo + 6], k7 = P[wo + 7], k8 = P[wo + 8];
      const b = P[L.b1 + oc];
      const ao = oc * S0 * S0;
      for (let y = 0; y < S0; y++) {
        const r0 = y * P0;
        const r1 = r0 + P0;
        const r2 = r1 + P0;
        for (let xx = 0; xx < S0; xx++) {
          const v =
            b +
            k0 * in0[r0 + xx] + k1 * in0[r0 + xx + 1] + k2 * in0[r0 + xx + 2] +
            k3 * in0[r1 + xx] + k4 * in0[r1 + xx + 1] + k5 * in0[r1 + xx + 2] +
            k6 * in0[r2 + xx] + k7 * in0[r2 + xx + 1] + k8 * in0[r2 + xx + 2];
          a1[ao + y * S0 + xx] = v > 0 ? v : 0;
        }
      }
    }
    // pool1 → padded p1
    const P1 = S1 + 2;
    const p1 = w.p1;
    const i1 = w.i1;
    for (let c = 0; c < c1; c++) {
      const ao = c * S0 * S0;
      for (let y = 0; y < S1; y++) {
        for (let xx = 0; xx < S1; xx++) {
          let bi = ao + 2 * y * S0 + 2 * xx;
          let bv = a1[bi];
          // Same visiting order as before (right, below, below-right): ties keep the first maximum.
          const r = bi;
          if (a1[r + 1] > bv) { bv = a1[r + 1]; bi = r + 1; }
          if (a1[r + S0] > bv) { bv = a1[r + S0]; bi = r + S0; }
          if (a1[r + S0 + 1] > bv) { bv = a1[r + S0 + 1]; bi = r + S0 + 1; }
          p1[c * P1 * P1 + (y + 1) * P1 + xx + 1] = bv;
          i1[c * S1 * S1 + y * S1 + xx] = bi;
        }
      }
    }
    // conv2 + ReLU
    const a2 = w.a2;
    for (let oc = 0; oc < c2; oc++) {
      const ao = oc * S1 * S1;
      const b = P[L.b2 + oc];
      for (let i = 0; i < S1 * S1; i++) a2[ao + i] = b;
      for (let ic = 0; ic < c1; ic++) {
        const wo = L.w2 + (oc * c1 + ic) * 9;
        const po = ic * P1 * P1;
        const k0 = P[wo], k1 = P[wo + 1], k2 = P[wo + 2], k3 = P[wo + 3], k4 = P[wo + 4];
        const k5 = P[wo + 5], k6 = P[wo + 6], k7 = P[wo + 7], k8 = P[wo + 8];
        for (let y = 0; y < S1; y++) {
          const r0 = po + y * P1;
          const r1 = r0 + P1;
          const r2 = r1 + P1;
          const oo = ao + y * S1;
          for (let xx = 0; xx < S1; xx++) {
            a2[oo + xx] +=
              k0 * p1[r0 + xx] + k1 * p1[r0 + xx + 1] + k2 * p1[r0 + xx + 2] +
              k3 * p1[r1 + xx] + k4 * p1[r1 + xx + 1] + k5 * p1[r1 + xx + 2] +
              k6 * p1[r2 + xx] + k7 * p1[r2 + xx + 1] + k8 * p1[r2 + xx + 2];
          }
        }
      }
      for (let i = 0; i < S1 * S1; i++) if (a2[ao + i] < 0) a2[ao + i] = 0;
    }
    // pool2
    const p2 = w.p2;
    const i2 = w.i2;
    for (let c = 0; c < c2; c++) {
      const ao = c * S1 * S1;
      for (let y = 0; y < S2; y++) {
        for (let xx = 0; xx < S2; xx++) {
          let bi = ao + 2 * y * S1 + 2 * xx;
          let bv = a2[bi];
          if (a2[bi + 1] > bv) { bv = a2[bi + 1]; bi = bi + 1; }
          const d = ao + (2 * y + 1) * S1 + 2 * xx;
          if (a2[d] > bv) { bv = a2[d]; bi = d; }
          if (a2[d + 1] > bv) { bv = a2[d + 1]; bi = d + 1; }
          p2[c * S2 * S2 + y * S2 + xx] = bv;
          i2[c * S2 * S2 + y * S2 + xx] = bi;
        }
      }
    }
    // fc1 + ReLU (+ dropout)
    const nIn = c2 * S2 * S2;
    const h = w.h;
    for (let j = 0; j < hidden; j++) {
      let s = P[L.b3 + j];
      const wo = L.w3 + j * nIn;
      for (let i = 0; i < nIn; i++) s += P[wo + i] * p2[i];
      let v = s > 0 ? s : 0;
      if (dropRate > 0 && rand) {
        const keep = rand() >= dropRate ? 1 / (1 - dropRate) : 0;
        w.drop[j] = keep;
        v *= keep;
      } else w.drop[j] = 1;
      h[j] = v;
    }
    // fc2
    const lg = w.logits;
    for (let k = 0; k < classes; k++) {
      let s = P[L.b4 + k];
      const wo = L.w4 + k * hidden;
      for (let j = 0; j < hidden; j++) s += P[wo + j] * h[j];
      lg[k] = s;
    }
    return lg;
  }

  /**
   * Backward pass for the sample last passed to forward(); `dLogits` is ∂loss/∂logits.
   * Gradients are added into `grad` (same layout as params).
   */
  backward(dLogits: Float32Array, grad: Float32Array): void {
    const { c1, c2, hidden, classes } = this.shape;
    const P = this.params;
    const L = this.L;
    const w = this.w;
    const nIn = c2 * S2 * S2;
    // fc2
    const dh = w.dh;
    dh.fill(0);
    for (let k = 0; k < classes; k++) {
      const g = dLogits[k];
      grad[L.b4 + k] += g;
      const wo = L.w4 + k * hidden;
      for (let j = 0; j < hidden; j++) {
        grad[wo + j] += g * w.h[j];
        dh[j] += g * P[wo + j];
      }
    }
    // fc1 (through ReLU and dropout)
    const dp2 = w.dp2;
    dp2.fill(0);
    for (let j = 0; j < hidden; j++) {
      if (w.h[j] <= 0) continue;
      const g = dh[j] * w.drop[j];
      grad[L.b3 + j] += g;
      const wo = L.w3 + j * nIn;
      for (let i = 0; i < nIn; i++) {
        grad[wo + i] += g * w.p2[i];
        dp2[i] += g * P[wo + i];
      }
    }
    // pool2 → da2 (ReLU mask: the max of a ReLU output is > 0 or the gradient does not pass)
    const da2 = w.da2;
    da2.fill(0);
    for (let i = 0; i < nIn; i++) {
      const src = w.i2[i];
      if (w.a2[src] > 0) da2[src] += dp2[i];
    }
    // conv2
    const P1 = S1 + 2;
    const dp1 = w.dp1;
    dp1.fill(0);
    const p1 = w.p1;
    for (let oc = 0; oc < c2; oc++) {
      const ao = oc * S1 * S1;
      let gb = 0;
      for (let i = 0; i < S1 * S1; i++) gb += da2[ao + i];
      grad[L.b2 + oc] += gb;
      for (let ic = 0; ic < c1; ic++) {
        const wo = L.w2 + (oc * c1 + ic) * 9;
        const po = ic * P1 * P1;
        let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0, g8 = 0;
        const k0 = P[wo], k1 = P[wo + 1], k2 = P[wo + 2], k3 = P[wo + 3], k4 = P[wo + 4];
        const k5 = P[wo + 5], k6 = P[wo + 6], k7 = P[wo + 7], k8 = P[wo + 8];
        for (let y = 0; y < S1; y++) {
          const r0 = po + y * P1;
          const r1 = r0 + P1;
          const r2 = r1 + P1;
          const oo = ao + y * S1;
          for (let xx = 0; xx < S1; xx++) {
            const d = da2[oo + xx];
            if (d === 0) continue;
            g0 += d * p1[r0 + xx]; g1 += d * p1[r0 + xx + 1]; g2 += d * p1[r0 + xx + 2];
            g3 += d * p1[r1 + xx]; g4 += d * p1[r1 + xx + 1]; g5 += d * p1[r1 + xx + 2];
            g6 += d * p1[r2 + xx]; g7 += d * p1[r2 + xx + 1]; g8 += d * p1[r2 + xx + 2];
            dp1[r0 + xx] += d * k0; dp1[r0 + xx + 1] += d * k1; dp1[r0 + xx + 2] += d * k2;
            dp1[r1 + xx] += d * k3; dp1[r1 + xx + 1] += d * k4; dp1[r1 + xx + 2] += d * k5;
            dp1[r2 + xx] += d * k6; dp1[r2 + xx + 1] += d * k7; dp1[r2 + xx + 2] += d * k8;
          }
        }
        grad[wo] += g0; grad[wo + 1] += g1; grad[wo + 2] += g2;
        grad[wo + 3] += g3; grad[wo + 4] += g4; grad[wo + 5] += g5;
        grad[wo + 6] += g6; grad[wo + 7] += g7; grad[wo + 8] += g8;
      }
    }
    // pool1 → da1
    const da1 = w.da1;
    da1.fill(0);
    for (let c = 0; c < c1; c++) {
      for (let y = 0; y < S1; y++) {
        for (let xx = 0; xx < S1; xx++) {
          const src = w.i1[c * S1 * S1 + y * S1 + xx];
          if (w.a1[src] > 0) da1[src] += dp1[c * P1 * P1 + (y + 1) * P1 + xx + 1];
        }
      }
    }
    // conv1 (no gradient needed wrt the input)
    const P0 = S0 + 2;
    const in0 = w.in0;
    for (let oc = 0; oc < c1; oc++) {
      const ao = oc * S0 * S0;
      const wo = L.w1 + oc * 9;
      let g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0, g8 = 0, gb = 0;
      for (let y = 0; y < S0; y++) {
        const r0 = y * P0;
        const r1 = r0 + P0;
        const r2 = r1 + P0;
        for (let xx = 0; xx < S0; xx++) {
          const d = da1[ao + y * S0 + xx];
          if (d === 0) continue;
          gb += d;
          g0 += d * in0[r0 + xx]; g1 += d * in0[r0 + xx + 1]; g2 += d * in0[r0 + xx + 2];
          g3 += d * in0[r1 + xx]; g4 += d * in0[r1 + xx + 1]; g5 += d * in0[r1 + xx + 2];
          g6 += d * in0[r2 + xx]; g7 += d * in0[r2 + xx + 1]; g8 += d * in0[r2 + xx + 2];
        }
      }
      grad[L.b1 + oc] += gb;
      grad[wo] += g0; grad[wo + 1] += g1; grad[wo + 2] += g2;
      grad[wo + 3] += g3; grad[wo + 4] += g4; grad[wo + 5] += g5;
      grad[wo + 6] += g6; grad[wo + 7] += g7; grad[wo + 8] += g8;
    }
  }
}

/** Softmax of logits / temperature, in float64 for stable small probabilities. */
export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i] / temperature);
  const out = new Array<number>(logits.length);
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] / temperature - m);
    s += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return out;
}

/**
 * Softmax cross-entropy of one training sample, the loss both trainers use: writes ∂loss/∂logits, divided
 * by `batch` (each sample's share of a minibatch's mean loss), into `out` from `at`, and returns the loss.
 */
export function crossEntropyGrad(logits: ArrayLike<number>, target: number, batch: number, out: Float32Array, at = 0): number {
  const p = softmax(logits);
  for (let k = 0; k < p.length; k++) out[at + k] = (p[k] - (k === target ? 1 : 0)) / batch;
  return -Math.log(Math.max(p[target], 1e-12));
}

/** Adam with decoupled weight decay (AdamW) over the flat parameter vector. */
export class Adam {
  private m: Float32Array;
  private v: Float32Array;
  private t = 0;
  constructor(
    size: number,
    private beta1 = 0.9,
    private beta2 = 0.999,
    private eps = 1e-8,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }
  step(params: Float32Array, grad: Float32Array, lr: number, weightDecay = 0): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const m = this.m;
    const v = this.v;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      params[i] -= lr * ((m[i] / c1) / (Math.sqrt(v[i] / c2) + this.eps) + weightDecay * params[i]);
    }
  }
}
