/**
 * Minibatch forward/backward of the cnn.ts network, for training.
 *
 * Why it exists: cnn.ts runs one sample at a time in scalar JavaScript (measured ~400 samples/s per
 * core at 16,32,128 but ~110 at 32,64,256), which makes wider networks slow to train. Here a whole
 * minibatch goes through each convolution and the first fully connected layer as one matrix product
 * (im2col), computed by OpenCV's single-threaded sgemm (`Mat.matMul`, ~4–7 GFLOP/s here against ~1 for
 * JS loops: Debian's OpenCV calls the reference BLAS, libblas.so.3). ReLU, pooling, the small last layer
 * and the im2col rearrangements stay in TypeScript. Same architecture, same parameter layout
 * (cnn.ts layoutOf), same gradients as the sum of Cnn.backward over the batch to float rounding
 * (cnn-batch.test.ts). cnn.ts stays the reference and the inference fallback without OpenCV.
 *
 * Copies are avoided where the binding allows: every input Mat is a header over a Float32Array owned
 * here (`new cv.Mat(rows, cols, type, buffer)` does not copy), the weight Mats are headers over the
 * parameter vector itself (so an optimizer step updating it in place is seen without a copy), and each
 * product is copied once into a preallocated buffer (`copyTo` into a header) and released.
 * Sync calls only, one OpenCV thread (DEPENDENCIES.md); one BatchCnn per process.
 */
import type { Cv, Mat } from '../cv/opencv.js';
import { layoutOf, type CnnShape, type Layout } from './cnn.js';

const S0 = 28;
const S1 = 14;
const S2 = 7;
const A0 = S0 * S0; // 784
const A1 = S1 * S1; // 196
const A2 = S2 * S2; // 49
/** Below this share of pooled cells with a gradient, conv2's backward runs sparse (break-even measured ~0.65–0.7). */
const SPARSE_SHARE = 0.6;

/**
 * Inverted-dropout keep factors for a batch, sample-major (`out[s * hidden + j]`), drawn exactly as
 * Cnn.forward draws them for one sample after another: one `rand()` per hidden unit, kept when
 * `rand() >= rate`, scaled by 1 / (1 − rate).
 */
export function dropoutMask(n: number, hidden: number, rate: number, rand: () => number, out = new Float32Array(n * hidden)): Float32Array {
  const keep = 1 / (1 - rate);
  for (let i = 0; i < n * hidden; i++) out[i] = rand() >= rate ? keep : 0;
  return out;
}

/**
 * Index of the largest of the 2×2 cells starting at `r` in rows of `row` values. Ties keep the first
 * maximum in cnn.ts's order (here, right, below, below-right), so the gradient goes where cnn.ts sends it.
 */
function argmax2x2(a: Float32Array, r: number, row: number): number {
  let bi = r;
  let bv = a[r]!;
  if (a[r + 1]! > bv) { bv = a[r + 1]!; bi = r + 1; }
  if (a[r + row]! > bv) { bv = a[r + row]!; bi = r + row; }
  if (a[r + row + 1]! > bv) bi = r + row + 1;
  return bi;
}

/** Mat headers over this network's buffers for one batch size (rows/strides depend on n). */
interface Mats {
  x1c: Mat;
  y1: Mat;
  dy1t: Mat;
  gw1t: Mat;
  x2c: Mat;
  y2: Mat;
  dy2: Mat;
  gw2: Mat;
  x2r: Mat;
  dycol: Mat;
  dp1: Mat;
  x3t: Mat;
  x3: Mat;
  z3: Mat;
  dz3: Mat;
  dz3t: Mat;
  gw3: Mat;
  dx3: Mat;
}

export class BatchCnn {
  readonly shape: CnnShape;
  readonly L: Layout;
  readonly maxBatch: number;
  /** Time spent per phase (ms, cumulative) when `profile` is set: where a batch's time goes. */
  profile: Record<string, number> | null = null;
  /** conv2 backward: 'auto' picks per batch by the share of positions with a gradient (tests force one). */
  conv2Backward: 'auto' | 'dense' | 'sparse' = 'auto';
  private n = 0;
  private mats = new Map<number, Mats>();
  private w1: Mat;
  private w2: Mat;
  private w3: Mat;
  private w2fMat: Mat;
  // forward state
  private x0: Float32Array; // n × 784 (the batch's images, side by side)
  private x1c: Float32Array; // 9 × n·784 (im2col of the input)
  private a1: Float32Array; // C1 × n·784 (conv1 before bias and ReLU: both are applied after pooling)
  private p1: Float32Array; // C1 × n × 196
  private i1: Int32Array; // argmax index into a1 per pooled cell; −1 where ReLU stops the gradient
  private x2c: Float32Array; // C1·9 × n·196
  private a2: Float32Array; // C2 × n·196 (before bias and ReLU)
  private i2: Int32Array; // C2 × n × 49, index into a2 (−1: no gradient)
  private x3t: Float32Array; // F × n (flattened pool2 output, one column per sample)
  private x3: Float32Array; // n × F
  private h: Float32Array; // H × n (after ReLU and dropout)
  private drop: Float32Array; // n × H keep factors
  private logitsBuf: Float32Array; // n × classes
  private fc2Acc: Float64Array; // n (one class's logits while they are summed)
  // backward state
  private dh: Float64Array; // H × n
  private dz3: Float32Array; // H × n
  private dz3t: Float32Array; // n × H
  private gw3: Float32Array; // H × F
  private dx3: Float32Array; // n × F
  private dy2: Float32Array; // C2 × n·196
  private x2r: Float32Array; // n·196 × C1·9 (x2c transposed, for the sparse conv2 backward)
  private dx2r: Float32Array; // n·196 × C1·9
  private w2f: Float32Array; // C1 × C2·9: W2 with in/out channels swapped and taps flipped
  private gw2: Float32Array; // C2 × C1·9
  private dycol: Float32Array; // C2·9 × n·196 (im2col of dy2)
  private dp1: Float32Array; // C1 × n × 196
  private dy1t: Float32Array; // n·784 × C1
  private gw1t: Float32Array; // 9 × C1

  /**
   * `params` is shared, not copied: the weight Mats are views of it, so update it in place (Adam does)
   * and never replace the array.
   */
  constructor(
    private readonly cv: Cv,
    shape: CnnShape,
    readonly params: Float32Array,
    maxBatch = 32,
  ) {
    this.shape = shape;
    this.L = layoutOf(shape);
    if (params.length !== this.L.size) throw new Error(`digit model weights have ${params.length} values, the network needs ${this.L.size}`);
    this.maxBatch = maxBatch;
    const { c1, c2, hidden: H, classes } = shape;
    const B = maxBatch;
    const F = c2 * A2;
    const K2 = c1 * 9;
    this.x0 = new Float32Array(B * A0);
    this.x1c = new Float32Array(9 * B * A0);
    this.a1 = new Float32Array(c1 * B * A0);
    this.p1 = new Float32Array(c1 * B * A1);
    this.i1 = new Int32Array(c1 * B * A1);
    this.x2c = new Float32Array(K2 * B * A1);
    this.a2 = new Float32Array(c2 * B * A1);
    this.i2 = new Int32Array(c2 * B * A2);
    this.x3t = new Float32Array(F * B);
    this.x3 = new Float32Array(B * F);
    this.h = new Float32Array(H * B);
    this.drop = new Float32Array(B * H);
    this.logitsBuf = new Float32Array(B * classes);
    this.fc2Acc = new Float64Array(B);
    this.dh = new Float64Array(H * B);
    this.dz3 = new Float32Array(H * B);
    this.dz3t = new Float32Array(B * H);
    this.gw3 = new Float32Array(H * F);
    this.dx3 = new Float32Array(B * F);
    this.dy2 = new Float32Array(c2 * B * A1);
    this.x2r = new Float32Array(B * A1 * K2);
    this.dx2r = new Float32Array(B * A1 * K2);
    this.w2f = new Float32Array(c1 * c2 * 9);
    this.gw2 = new Float32Array(c2 * K2);
    this.dycol = new Float32Array(c2 * 9 * B * A1);
    this.dp1 = new Float32Array(c1 * B * A1);
    this.dy1t = new Float32Array(B * A0 * c1);
    this.gw1t = new Float32Array(9 * c1);
    const L = this.L;
    this.w1 = this.wrap(params, c1, 9, L.w1);
    this.w2 = this.wrap(params, c2, K2, L.w2);
    this.w3 = this.wrap(params, H, F, L.w3);
    this.w2fMat = this.wrap(this.w2f, c1, c2 * 9);
  }

  /** A Mat header over `rows × cols` floats of `a` from element `at` (no copy: the Mat sees later writes). */
  private wrap(a: Float32Array, rows: number, cols: number, at = 0): Mat {
    if ((at + rows * cols) > a.length) throw new Error('BatchCnn: buffer too small');
    return new this.cv.Mat(rows, cols, this.cv.CV_32F, Buffer.from(a.buffer, a.byteOffset + at * 4, rows * cols * 4));
  }

  private matsFor(n: number): Mats {
    let m = this.mats.get(n);
    if (m) return m;
    const { c1, c2, hidden: H } = this.shape;
    const F = c2 * A2;
    const K2 = c1 * 9;
    const M1 = n * A0;
    const M2 = n * A1;
    m = {
      x1c: this.wrap(this.x1c, 9, M1),
      y1: this.wrap(this.a1, c1, M1),
      dy1t: this.wrap(this.dy1t, M1, c1),
      gw1t: this.wrap(this.gw1t, 9, c1),
      x2c: this.wrap(this.x2c, K2, M2),
      y2: this.wrap(this.a2, c2, M2),
      dy2: this.wrap(this.dy2, c2, M2),
      gw2: this.wrap(this.gw2, c2, K2),
      x2r: this.wrap(this.x2r, M2, K2),
      dycol: this.wrap(this.dycol, c2 * 9, M2),
      dp1: this.wrap(this.dp1, c1, M2),
      x3t: this.wrap(this.x3t, F, n),
      x3: this.wrap(this.x3, n, F),
      z3: this.wrap(this.h, H, n),
      dz3: this.wrap(this.dz3, H, n),
      dz3t: this.wrap(this.dz3t, n, H),
      gw3: this.wrap(this.gw3, H, F),
      dx3: this.wrap(this.dx3, n, F),
    };
    this.mats.set(n, m);
    return m;
  }

  /** dst = a · b through OpenCV (the product is copied into dst's buffer and freed at once). */
  private mul(a: Mat, b: Mat, dst: Mat): void {
    const r = a.matMul(b);
    r.copyTo(dst);
    r.release();
  }

  private tick(name: string, t: number): number {
    const now = performance.now();
    if (this.profile) this.profile[name] = (this.profile[name] ?? 0) + now - t;
    return now;
  }

  /** conv2 backward with OpenCV products: dW2 = dy2 · x2cᵀ and dp1 = (flipped W2) · im2col(dy2). */
  private conv2BackwardDense(n: number, grad: Float32Array, m: Mats, t: number): number {
    const { c1, c2 } = this.shape;
    const P = this.params;
    const L = this.L;
    const M2 = n * A1;
    const F = c2 * A2;
    const K2 = c1 * 9;
    const i2 = this.i2;
    const dx3 = this.dx3;
    // pool2 → dy2 (C2 × M2) through the ReLU mask; conv2 bias gradient.
    const dy2 = this.dy2;
    dy2.fill(0, 0, c2 * M2);
    for (let c = 0; c < c2; c++) {
      let gb = 0;
      for (let s = 0; s < n; s++) {
        const po = (c * n + s) * A2;
        const xo = s * F + c * A2;
        for (let k = 0; k < A2; k++) {
          const src = i2[po + k];
          if (src < 0) continue;
          const g = dx3[xo + k];
          dy2[src] += g;
          gb += g;
        }
      }
      grad[L.b2 + c] += gb;
    }
    // W2 re-indexed for the input gradient as a convolution of dy2 (small: C1 × C2·9):
    // w2f[ic][oc, 8 − tap] = W2[oc][ic, tap]
    const w2f = this.w2f;
    for (let oc = 0; oc < c2; oc++) {
      for (let ic = 0; ic < c1; ic++) {
        const wo = L.w2 + (oc * c1 + ic) * 9;
        const fo = ic * c2 * 9 + oc * 9 + 8;
        for (let tap = 0; tap < 9; tap++) w2f[fo - tap] = P[wo + tap];
      }
    }
    t = this.tick('bwd pool2', t);
    // conv2: dW2 = dy2 · x2cᵀ (C2 × C1·9, the parameter layout; OpenCV's product is faster in this
    // orientation than x2c · dy2ᵀ, transpose included).
    const x2r = m.x2c.transpose();
    this.mul(m.dy2, x2r, m.gw2);
    x2r.release();
    t = this.tick('gemm conv2 dW', t);
    const gw2 = this.gw2;
    for (let i = 0, o = L.w2; i < c2 * K2; i++) grad[o + i] += gw2[i];
    // The input gradient as a "full" convolution of dy2 with the flipped kernels: dp1 = w2f · im2col(dy2)
    // (C1 × M2). Measured faster than W2ᵀ · dy2 followed by col2im: the product's inner dimension is
    // C2·9 instead of C2, which OpenCV's sgemm handles far better.
    im2col3x3(this.dy2, c2, n, S1, this.dycol);
    t = this.tick('im2col dy2', t);
    this.mul(this.w2fMat, m.dycol, m.dp1);
    t = this.tick('gemm conv2 dX', t);
    return t;
  }

  /**
   * conv2 backward in plain loops over the positions that have a gradient: for each (channel oc,
   * position p) with gradient g, dW2[oc] += g · x2cᵀ[p] and dx2cᵀ[p] += g · W2[oc] (rows of C1·9),
   * then col2im into dp1. Faster than the dense products below a share of ~0.65 (measured).
   */
  private conv2BackwardSparse(n: number, grad: Float32Array, m: Mats, t: number): number {
    const { c1, c2 } = this.shape;
    const P = this.params;
    const L = this.L;
    const M2 = n * A1;
    const F = c2 * A2;
    const K2 = c1 * 9;
    const xt = m.x2c.transpose();
    xt.copyTo(m.x2r);
    xt.release();
    t = this.tick('transpose x2c', t);
    const x2r = this.x2r;
    const dx2r = this.dx2r;
    const gw2 = this.gw2;
    dx2r.fill(0, 0, M2 * K2);
    gw2.fill(0);
    const i2 = this.i2;
    const dx3 = this.dx3;
    for (let c = 0; c < c2; c++) {
      let gb = 0;
      const co = c * M2;
      const wo = L.w2 + c * K2;
      const go = c * K2;
      for (let s = 0; s < n; s++) {
        const po = (c * n + s) * A2;
        const xo = s * F + c * A2;
        for (let k = 0; k < A2; k++) {
          const src = i2[po + k];
          if (src < 0) continue;
          const g = dx3[xo + k];
          if (g === 0) continue;
          gb += g;
          const r = (src - co) * K2;
          for (let q = 0; q < K2; q++) {
            gw2[go + q] += g * x2r[r + q];
            dx2r[r + q] += g * P[wo + q];
          }
        }
      }
      grad[L.b2 + c] += gb;
    }
    for (let i = 0, o = L.w2; i < c2 * K2; i++) grad[o + i] += gw2[i];
    t = this.tick('bwd conv2 sparse', t);
    // col2im: dp1 (C1 × n × 196) = Σ over taps of dx2cᵀ
    const dp1 = this.dp1;
    dp1.fill(0, 0, c1 * n * A1);
    for (let s = 0; s < n; s++) {
      for (let y = 0; y < S1; y++) {
        const ky0 = y === 0 ? 1 : 0;
        const ky1 = y === S1 - 1 ? 2 : 3;
        for (let x = 0; x < S1; x++) {
          const kx0 = x === 0 ? 1 : 0;
          const kx1 = x === S1 - 1 ? 2 : 3;
          const r = (s * A1 + y * S1 + x) * K2;
          for (let ic = 0; ic < c1; ic++) {
            const ro = r + ic * 9;
            const d0 = (ic * n + s) * A1 + (y - 1) * S1 + x - 1;
            for (let ky = ky0; ky < ky1; ky++) {
              for (let kx = kx0; kx < kx1; kx++) dp1[d0 + ky * S1 + kx] += dx2r[ro + ky * 3 + kx];
            }
          }
        }
      }
    }
    return this.tick('col2im', t);
  }

  /**
   * Forward pass of a batch of 28×28 images (at most maxBatch). `drop`: inverted-dropout keep factors,
   * sample-major n × hidden (dropoutMask), or undefined for none. Returns the logits, n × classes
   * sample-major, a view into scratch memory valid until the next call.
   */
  forward(xs: Float32Array[], drop?: Float32Array): Float32Array {
    const n = xs.length;
    if (n < 1 || n > this.maxBatch) throw new Error(`BatchCnn: batch of ${n} (1..${this.maxBatch})`);
    this.n = n;
    const { c1, c2, hidden: H, classes } = this.shape;
    const P = this.params;
    const L = this.L;
    const m = this.matsFor(n);
    const M1 = n * A0;
    const M2 = n * A1;
    const F = c2 * A2;
    let t = performance.now();

    // conv1: the batch side by side (n × 784), im2col (9 × M1), one product; bias + ReLU after pooling.
    for (let s = 0; s < n; s++) this.x0.set(xs[s], s * A0);
    im2col3x3(this.x0, 1, n, S0, this.x1c);
    t = this.tick('im2col1', t);
    this.mul(this.w1, m.x1c, m.y1);
    t = this.tick('gemm conv1', t);
    // pool1, then bias and ReLU on the pooled value (max and a per-channel bias + ReLU commute; the
    // gradient passes where the value is > 0, as cnn.ts's mask on the ReLU output).
    const a1 = this.a1;
    const p1 = this.p1;
    const i1 = this.i1;
    for (let c = 0; c < c1; c++) {
      const b = P[L.b1 + c];
      for (let s = 0; s < n; s++) {
        const ao = c * M1 + s * A0;
        const po = (c * n + s) * A1;
        for (let y = 0; y < S1; y++) {
          for (let x = 0; x < S1; x++) {
            const bi = argmax2x2(a1, ao + 2 * y * S0 + 2 * x, S0);
            const v = a1[bi] + b;
            p1[po + y * S1 + x] = v > 0 ? v : 0;
            i1[po + y * S1 + x] = v > 0 ? bi : -1;
          }
        }
      }
    }
    t = this.tick('relu+pool1', t);

    // conv2: im2col (C1·9 × M2), rows ordered (input channel, tap) as the weights are.
    im2col3x3(this.p1, c1, n, S1, this.x2c);
    t = this.tick('im2col2', t);
    this.mul(this.w2, m.x2c, m.y2);
    t = this.tick('gemm conv2', t);
    const a2 = this.a2;
    // pool2 (+ bias, ReLU as for pool1), written straight into the fc1 input in both orientations
    // (cnn.ts flattens (c, y, x)).
    const i2 = this.i2;
    const x3t = this.x3t;
    const x3 = this.x3;
    for (let c = 0; c < c2; c++) {
      const b = P[L.b2 + c];
      for (let s = 0; s < n; s++) {
        const ao = c * M2 + s * A1;
        const po = (c * n + s) * A2;
        for (let y = 0; y < S2; y++) {
          for (let x = 0; x < S2; x++) {
            const bi = argmax2x2(a2, ao + 2 * y * S1 + 2 * x, S1);
            const v = a2[bi] + b;
            const k = y * S2 + x;
            i2[po + k] = v > 0 ? bi : -1;
            const f = c * A2 + k;
            x3t[f * n + s] = v > 0 ? v : 0;
            x3[s * F + f] = v > 0 ? v : 0;
          }
        }
      }
    }
    t = this.tick('relu+pool2', t);

    // fc1 (H × n = W3 · x3t), bias, ReLU, dropout.
    this.mul(this.w3, m.x3t, m.z3);
    t = this.tick('gemm fc1', t);
    const h = this.h;
    const dr = this.drop;
    for (let j = 0; j < H; j++) {
      const b = P[L.b3 + j];
      for (let s = 0; s < n; s++) {
        const v = h[j * n + s] + b;
        const k = drop ? drop[s * H + j] : 1;
        dr[s * H + j] = k;
        h[j * n + s] = v > 0 ? v * k : 0;
      }
    }
    // fc2 in TypeScript (12 × H × n: too small for a product to pay for its copies).
    const lg = this.logitsBuf;
    const acc = this.fc2Acc;
    for (let k = 0; k < classes; k++) {
      acc.fill(P[L.b4 + k], 0, n);
      const wo = L.w4 + k * H;
      for (let j = 0; j < H; j++) {
        const wv = P[wo + j];
        if (wv === 0) continue;
        const ho = j * n;
        for (let s = 0; s < n; s++) acc[s] += wv * h[ho + s];
      }
      for (let s = 0; s < n; s++) lg[s * classes + k] = acc[s];
    }
    this.tick('fc1 relu+fc2', t);
    return lg.subarray(0, n * classes);
  }

  /**
   * Backward pass for the batch last passed to forward(); `dLogits` is ∂loss/∂logits, n × classes
   * sample-major. Adds the gradient summed over the batch into `grad` (same layout as params).
   */
  backward(dLogits: Float32Array, grad: Float32Array): void {
    const n = this.n;
    if (n === 0) throw new Error('BatchCnn.backward before forward');
    const { c1, c2, hidden: H, classes } = this.shape;
    const P = this.params;
    const L = this.L;
    const m = this.matsFor(n);
    const M1 = n * A0;
    const M2 = n * A1;
    const F = c2 * A2;
    const K2 = c1 * 9;
    let t = performance.now();

    // fc2
    const h = this.h;
    const dh = this.dh;
    dh.fill(0, 0, H * n);
    for (let k = 0; k < classes; k++) {
      let gb = 0;
      for (let s = 0; s < n; s++) gb += dLogits[s * classes + k];
      grad[L.b4 + k] += gb;
      const wo = L.w4 + k * H;
      for (let j = 0; j < H; j++) {
        const ho = j * n;
        const wv = P[wo + j];
        let g = 0;
        for (let s = 0; s < n; s++) {
          const d = dLogits[s * classes + k];
          g += d * h[ho + s];
          dh[ho + s] += d * wv;
        }
        grad[wo + j] += g;
      }
    }
    // through ReLU and dropout (h > 0 only where both passed, as in cnn.ts)
    const dz3 = this.dz3;
    const dz3t = this.dz3t;
    const dr = this.drop;
    for (let j = 0; j < H; j++) {
      let gb = 0;
      for (let s = 0; s < n; s++) {
        const g = h[j * n + s] > 0 ? dh[j * n + s] * dr[s * H + j] : 0;
        dz3[j * n + s] = g;
        dz3t[s * H + j] = g;
        gb += g;
      }
      grad[L.b3 + j] += gb;
    }
    t = this.tick('bwd fc2+relu', t);
    // fc1: dW3 = dz3 · x3 (H × F), dx3 = dz3t · W3 (n × F)
    this.mul(m.dz3, m.x3, m.gw3);
    this.mul(m.dz3t, this.w3, m.dx3);
    t = this.tick('gemm fc1 bwd', t);
    const gw3 = this.gw3;
    for (let i = 0, o = L.w3; i < H * F; i++) grad[o + i] += gw3[i];

    // conv2. Only the cell each 2×2 window passed on, and only where the ReLU let it through, has a
    // gradient: at most a quarter of the positions; ~0.7 of that quarter at initialisation, ~0.35 in
    // the committed (trained) network. Counted here, then the cheaper of two equal computations runs.
    const i2 = this.i2;
    const dx3 = this.dx3;
    let nnz = 0;
    for (let c = 0; c < c2; c++) {
      for (let s = 0; s < n; s++) {
        const po = (c * n + s) * A2;
        const xo = s * F + c * A2;
        for (let k = 0; k < A2; k++) if (i2[po + k] >= 0 && dx3[xo + k] !== 0) nnz++;
      }
    }
    const share = nnz / (c2 * n * A2);
    const sparse = this.conv2Backward === 'auto' ? share < SPARSE_SHARE : this.conv2Backward === 'sparse';
    if (this.profile) {
      const key = sparse ? 'conv2 bwd: sparse batches' : 'conv2 bwd: dense batches';
      this.profile[key] = (this.profile[key] ?? 0) + 1;
    }
    t = this.tick('bwd count', t);
    if (sparse) t = this.conv2BackwardSparse(n, grad, m, t);
    else t = this.conv2BackwardDense(n, grad, m, t);
    const dp1 = this.dp1;
    // pool1 → dy1t (M1 × C1) through the ReLU mask; conv1 bias gradient.
    const dy1t = this.dy1t;
    dy1t.fill(0, 0, M1 * c1);
    const i1 = this.i1;
    for (let c = 0; c < c1; c++) {
      let gb = 0;
      const co = c * M1;
      const po = c * n * A1;
      for (let i = 0; i < n * A1; i++) {
        const src = i1[po + i];
        if (src < 0) continue;
        const g = dp1[po + i];
        dy1t[(src - co) * c1 + c] += g;
        gb += g;
      }
      grad[L.b1 + c] += gb;
    }
    t = this.tick('bwd pool1', t);
    // conv1: dW1ᵀ = x1c · dy1t (9 × C1); no gradient wrt the input.
    this.mul(m.x1c, m.dy1t, m.gw1t);
    t = this.tick('gemm conv1 bwd', t);
    const gw1t = this.gw1t;
    for (let oc = 0; oc < c1; oc++) for (let r = 0; r < 9; r++) grad[L.w1 + oc * 9 + r] += gw1t[r * c1 + oc];
    this.tick('bwd rest', t);
  }
}

/**
 * im2col of 3×3 "same" convolutions on side×side maps (28 for conv1, 14 for conv2 and its input
 * gradient): `src` is channels × n × side² (channel-major), `dst` (channels·9) × n·side², row
 * (channel, tap) holding each output position's input at that tap (0 off the map).
 */
function im2col3x3(src: Float32Array, channels: number, n: number, side: number, dst: Float32Array): void {
  const A = side * side;
  const M = n * A;
  for (let ic = 0; ic < channels; ic++) {
    for (let ky = 0; ky < 3; ky++) {
      for (let kx = 0; kx < 3; kx++) {
        const row = (ic * 9 + ky * 3 + kx) * M;
        const x0 = kx === 0 ? 1 : 0;
        const x1 = kx === 2 ? side - 1 : side;
        for (let s = 0; s < n; s++) {
          const po = (ic * n + s) * A;
          const ro = row + s * A;
          for (let y = 0; y < side; y++) {
            const sy = y + ky - 1;
            const o = ro + y * side;
            if (sy < 0 || sy >= side) {
              dst.fill(0, o, o + side);
              continue;
            }
            const from = po + sy * side + kx - 1;
            if (x0 === 1) dst[o] = 0;
            if (x1 === side - 1) dst[o + side - 1] = 0;
            for (let x = x0; x < x1; x++) dst[o + x] = src[from + x];
          }
        }
      }
    }
  }
}
