import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadMnist, loadMnistExtra } from './data.js';

const key = (p: Float32Array) => createHash('sha1').update(Uint8Array.from(p, (v) => Math.round(v * 255))).digest('hex');

describe('MNIST training digits beyond the mnist package', () => {
  it('holds the rest of the 60,000 and none of the digits anything is scored on', () => {
    const extra = loadMnistExtra();
    const scored = new Set(loadMnist('test').map((s) => key(s.pixels)));
    const pkgTrain = new Set(loadMnist('train').map((s) => key(s.pixels)));
    // The mnist package's 10,000 digits are all MNIST training digits: exactly those are left out.
    expect(extra.length).toBe(50_000);
    const perDigit = new Array(10).fill(0);
    for (const s of extra) {
      const k = key(s.pixels);
      expect(scored.has(k)).toBe(false);
      expect(pkgTrain.has(k)).toBe(false);
      perDigit[s.digit]++;
    }
    for (const n of perDigit) expect(n).toBeGreaterThan(4000);
    // Same convention as loadMnist: ink = 1 on a 0 background.
    const s = extra[0]!;
    expect(s.pixels.length).toBe(784);
    expect(Math.max(...s.pixels)).toBeLessThanOrEqual(1);
    expect(s.pixels[0]).toBe(0);
  }, 60_000);
});
