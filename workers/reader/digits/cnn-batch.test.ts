import { describe, expect, it } from 'vitest';
import { loadCv, type Cv } from '../cv/opencv.js';
import { BatchCnn, dropoutMask } from './cnn-batch.js';
import { Cnn, crossEntropyGrad, gaussian, initParams, layoutOf, rng, type CnnShape } from './cnn.js';

let cv: Cv | null = null;
try {
  cv = loadCv();
} catch (err) {
  console.warn(`[cnn-batch] OpenCV unavailable, batched-training tests SKIPPED: ${(err as Error).message}`);
}

const SHAPES: CnnShape[] = [
  { c1: 16, c2: 32, hidden: 128, classes: 12 }, // train.ts DEFAULT_SHAPE
  { c1: 32, c2: 64, hidden: 256, classes: 12 },
];

/** He-initialised weights plus non-zero biases (so every bias gradient and ReLU boundary is exercised). */
function randomParams(shape: CnnShape, seed: number): Float32Array {
  const p = initParams(shape, seed);
  const L = layoutOf(shape);
  const rand = rng(seed + 1);
  for (const [at, n] of [[L.b1, shape.c1], [L.b2, shape.c2], [L.b3, shape.hidden], [L.b4, shape.classes]] as const) {
    for (let i = 0; i < n; i++) p[at + i] = 0.1 * gaussian(rand);
  }
  return p;
}

/** Box-like inputs: ink in [0, 1], a third of the pixels exactly 0 (as normalised boxes have). */
function randomImages(n: number, rand: () => number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from({ length: 784 }, () => (rand() < 0.33 ? 0 : rand())));
}

/** ∂loss/∂logits as train.ts computes it (crossEntropyGrad: each sample scaled by 1/n). */
function dLogitsOf(logits: Float32Array[], targets: number[]): Float32Array {
  const n = logits.length;
  const K = logits[0].length;
  const dl = new Float32Array(n * K);
  logits.forEach((l, s) => crossEntropyGrad(l, targets[s], n, dl, s * K));
  return dl;
}

/** The scalar reference without dropout: per-sample logits, ∂loss/∂logits, and the summed Cnn.backward gradient. */
function scalarPass(net: Cnn, xs: Float32Array[], targets: number[]) {
  const K = net.shape.classes;
  const logits = xs.map((x) => Float32Array.from(net.forward(x)));
  const dl = dLogitsOf(logits, targets);
  const grad = new Float32Array(net.params.length);
  // Cnn keeps one sample's activations: forward each sample again right before its backward.
  xs.forEach((x, s) => {
    net.forward(x);
    net.backward(dl.subarray(s * K, (s + 1) * K), grad);
  });
  return { logits, dl, grad };
}

/** Relative L2 error of each parameter tensor, and the largest. */
function tensorErrors(shape: CnnShape, got: Float32Array, want: Float32Array) {
  const L = layoutOf(shape);
  const parts = { w1: [L.w1, L.b1], b1: [L.b1, L.w2], w2: [L.w2, L.b2], b2: [L.b2, L.w3], w3: [L.w3, L.b3], b3: [L.b3, L.w4], w4: [L.w4, L.b4], b4: [L.b4, L.size] };
  const out: Record<string, number> = {};
  for (const [name, [a, b]] of Object.entries(parts)) {
    let d = 0;
    let r = 0;
    for (let i = a; i < b; i++) {
      d += (got[i] - want[i]) ** 2;
      r += want[i] ** 2;
    }
    expect(r, `${name}: the reference gradient is zero, the check would be vacuous`).toBeGreaterThan(0);
    out[name] = Math.sqrt(d / r);
  }
  return out;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array): number {
  let m = 0;
  const K = a[0].length;
  a.forEach((l, s) => {
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(l[k] - b[s * K + k]));
  });
  return m;
}

describe.skipIf(!cv)('BatchCnn (batched forward/backward through OpenCV)', () => {
  for (const shape of SHAPES) {
    it(`matches Cnn.forward and the summed Cnn.backward gradients (c1 ${shape.c1}, c2 ${shape.c2}, hidden ${shape.hidden})`, () => {
      const params = randomParams(shape, 11 + shape.c1);
      const net = new Cnn(shape, params);
      const fast = new BatchCnn(cv!, shape, params, 32);
      const rand = rng(5 + shape.hidden);
      // A full batch, then a short one (the last batch of an epoch) on the same instance; conv2's
      // backward both ways (BatchCnn picks one per batch by sparsity).
      for (const [n, mode] of [[32, 'dense'], [32, 'sparse'], [7, 'sparse'], [7, 'dense'], [32, 'auto']] as const) {
        fast.conv2Backward = mode;
        const xs = randomImages(n, rand);
        const targets = xs.map(() => Math.floor(rand() * shape.classes));
        const ref = scalarPass(net, xs, targets);
        const logits = fast.forward(xs);
        const scale = Math.max(...ref.logits.map((l) => Math.max(...l.map(Math.abs))));
        expect(maxAbsDiff(ref.logits, logits)).toBeLessThan(1e-5 * (1 + scale));
        // Gradients are added into grad: start from a non-zero vector to check that too.
        const base = Float32Array.from({ length: params.length }, () => rand() - 0.5);
        const grad = Float32Array.from(base);
        fast.backward(ref.dl, grad);
        for (let i = 0; i < grad.length; i++) grad[i] -= base[i];
        const errs = tensorErrors(shape, grad, ref.grad);
        for (const [name, e] of Object.entries(errs)) expect(e, `${name} (batch ${n}, conv2 backward ${mode})`).toBeLessThan(1e-5);
      }
    });
  }

  it('applies a given dropout mask as the scalar inverted dropout does, and draws it the same way', () => {
    const shape = SHAPES[0];
    const params = randomParams(shape, 3);
    const net = new Cnn(shape, params);
    const fast = new BatchCnn(cv!, shape, params, 32);
    const rand = rng(8);
    const n = 16;
    const rate = 0.25;
    const xs = randomImages(n, rand);
    const targets = xs.map(() => Math.floor(rand() * shape.classes));
    // The scalar network draws one rand() per hidden unit, sample after sample; dropoutMask the same.
    const mask = dropoutMask(n, shape.hidden, rate, rng(99));
    const kept = mask.filter((v) => v !== 0);
    expect(new Set(mask)).toEqual(new Set([0, Math.fround(1 / (1 - rate))]));
    expect(kept.length / mask.length).toBeGreaterThan(0.7);
    expect(kept.length / mask.length).toBeLessThan(0.8);
    const scalarRand = rng(99);
    const logitsRef: Float32Array[] = [];
    const grad = new Float32Array(params.length);
    const K = shape.classes;
    // Scalar: forward with dropout, then backward at once (Cnn keeps the sample's mask).
    const dl = new Float32Array(n * K);
    for (let s = 0; s < n; s++) {
      const l = Float32Array.from(net.forward(xs[s], rate, scalarRand));
      logitsRef.push(l);
      crossEntropyGrad(l, targets[s], n, dl, s * K);
      net.backward(dl.subarray(s * K, (s + 1) * K), grad);
    }
    const logits = fast.forward(xs, mask);
    expect(maxAbsDiff(logitsRef, logits)).toBeLessThan(1e-4);
    // Dropout changes the answer (the comparison is not vacuous).
    const noDrop = Float32Array.from(new BatchCnn(cv!, shape, params, 32).forward(xs));
    expect(maxAbsDiff(logitsRef, noDrop)).toBeGreaterThan(1e-2);
    for (const mode of ['dense', 'sparse'] as const) {
      fast.conv2Backward = mode;
      const g = new Float32Array(params.length);
      fast.backward(dl, g);
      for (const [name, e] of Object.entries(tensorErrors(shape, g, grad))) expect(e, `${name} (${mode})`).toBeLessThan(1e-5);
    }
  });

  it('rejects weights of the wrong size and batches larger than it was built for', () => {
    const shape = SHAPES[0];
    expect(() => new BatchCnn(cv!, shape, new Float32Array(10))).toThrow(/weights/);
    const fast = new BatchCnn(cv!, shape, randomParams(shape, 1), 4);
    expect(() => fast.forward(randomImages(5, rng(1)))).toThrow(/batch/);
  });
});
