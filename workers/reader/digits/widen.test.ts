import { describe, expect, it } from 'vitest';
import { Cnn, layoutOf, rng, type CnnShape } from './cnn.js';
import { loadDigitModel } from './model.js';
import { widenParams } from './widen.js';

const small: CnnShape = { c1: 4, c2: 6, hidden: 10, classes: 12 };
const wide: CnnShape = { c1: 8, c2: 11, hidden: 25, classes: 12 };

function images(n: number, seed: number): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: 784 }, () => (r() < 0.3 ? r() : 0)));
}

function maxLogitGap(a: Cnn, b: Cnn, xs: Float32Array[]): number {
  let gap = 0;
  for (const x of xs) {
    const la = Array.from(a.forward(x));
    const lb = Array.from(b.forward(x));
    for (let k = 0; k < la.length; k++) gap = Math.max(gap, Math.abs(la[k]! - lb[k]!));
  }
  return gap;
}

describe('widenParams (Net2WiderNet)', () => {
  it('computes the same function without noise, for uneven copy counts too', () => {
    const net = new Cnn(small, undefined, 7);
    const widened = new Cnn(wide, widenParams(small, net.params, wide));
    expect(widened.params.length).toBe(layoutOf(wide).size);
    expect(maxLogitGap(net, widened, images(20, 3))).toBeLessThan(1e-4);
  });

  it('keeps the committed weights\' readings when doubling every layer', () => {
    const model = loadDigitModel();
    const shape = model.nets[0]!.shape;
    const to = { ...shape, c1: 2 * shape.c1, c2: 2 * shape.c2, hidden: 2 * shape.hidden };
    const net = model.nets[0]!;
    const widened = new Cnn(to, widenParams(shape, net.params, to));
    expect(maxLogitGap(net, widened, images(10, 5))).toBeLessThan(1e-3);
  });

  it('with noise, copies differ from their originals while the function barely moves', () => {
    const net = new Cnn(small, undefined, 7);
    const w = widenParams(small, net.params, wide, { noise: 0.01, seed: 2 });
    const L = layoutOf(wide);
    // conv1 channel 4 copies channel 0: same bias, nearby but different weights; channel 0 itself is exact.
    expect(w[L.b1 + 4]).toBe(w[L.b1]);
    const diff = Array.from({ length: 9 }, (_, t) => Math.abs(w[L.w1 + 4 * 9 + t]! - w[L.w1 + t]!));
    expect(Math.max(...diff)).toBeGreaterThan(0);
    const exact = widenParams(small, net.params, wide);
    for (let t = 0; t < 9; t++) expect(w[L.w1 + t]).toBe(exact[L.w1 + t]);
    const gap = maxLogitGap(new Cnn(wide, exact), new Cnn(wide, w), images(20, 3));
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(0.5);
  });

  it('refuses to narrow, to change the classes or to read weights of another shape', () => {
    const net = new Cnn(small, undefined, 7);
    expect(() => widenParams(wide, net.params, small)).toThrow(/only adds units/);
    expect(() => widenParams(small, net.params, { ...wide, classes: 10 })).toThrow(/keeps the classes/);
    expect(() => widenParams(small, net.params.subarray(1), wide)).toThrow(/needs/);
  });
});
