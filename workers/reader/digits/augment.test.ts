import { describe, expect, it } from 'vitest';
import { augment, elasticField } from './augment.js';
import { rng } from './cnn.js';

/** A 28×28 "1": a vertical bar. */
function bar(): Float32Array {
  const img = new Float32Array(28 * 28);
  for (let y = 5; y < 23; y++) for (let x = 13; x < 15; x++) img[y * 28 + x] = 1;
  return img;
}

describe('training augmentation', () => {
  it('without --elastic draws exactly what the session-3 recipe drew', () => {
    const a = augment(bar(), rng(11), { strength: 1, borderNoise: true });
    const b = augment(bar(), rng(11), { strength: 1, borderNoise: true, elastic: 0 });
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('an elastic field is smooth and of the size asked for', () => {
    const { dx, dy } = elasticField(rng(3), 30);
    let max = 0;
    let step = 0;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 27; x++) {
        max = Math.max(max, Math.abs(dx[y * 28 + x]!), Math.abs(dy[y * 28 + x]!));
        step = Math.max(step, Math.abs(dx[y * 28 + x + 1]! - dx[y * 28 + x]!), Math.abs(dy[y * 28 + x + 1]! - dy[y * 28 + x]!));
      }
    // A few pixels of displacement, changing by well under a pixel from one pixel to the next.
    expect(max).toBeGreaterThan(0.5);
    expect(max).toBeLessThan(8);
    expect(step).toBeLessThan(0.6);
  });

  it('with --elastic 1 bends the strokes but keeps the ink', () => {
    // Over many draws (each draw's affine part and stroke width differ), as much ink on average, and
    // a "1" no longer straight: ink outside the bar's two columns.
    const ink = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    const offBar = (a: Float32Array) => a.reduce((s, v, i) => s + (Math.abs((i % 28) - 13.5) > 3 && v > 0.5 ? 1 : 0), 0);
    const r1 = rng(5);
    const r2 = rng(5);
    let inkPlain = 0;
    let inkBent = 0;
    let offPlain = 0;
    let offBent = 0;
    for (let k = 0; k < 300; k++) {
      const a = augment(bar(), r1, { strength: 0.5 });
      const b = augment(bar(), r2, { strength: 0.5, elastic: 1 });
      inkPlain += ink(a);
      inkBent += ink(b);
      offPlain += offBar(a);
      offBent += offBar(b);
    }
    expect(inkBent / inkPlain).toBeGreaterThan(0.8);
    expect(inkBent / inkPlain).toBeLessThan(1.25);
    expect(offBent).toBeGreaterThan(1.5 * offPlain);
  });
});
