/**
 * The digit model's logits of one image do not depend on the batch it rides in. The reader relies on
 * it twice: all boxes of a page go through the network in one batch, and blank boxes (normaliseBox
 * found no ink: all zeros) get one cached logits vector instead of a forward pass (model.ts).
 */
import { describe, expect, it } from 'vitest';
import { loadDigitModel } from '../workers/reader/digits/model.js';
import { loadMnist } from '../workers/reader/digits/data.js';

const images = (): Float32Array[] => {
  const test = loadMnist('test');
  // Two of each digit 0–5, so the batch holds different classes (the samples come sorted by digit).
  const digits = [0, 1, 2, 3, 4, 5].flatMap((d) => test.filter((s) => s.digit === d).slice(0, 2)).map((s) => Float32Array.from(s.pixels));
  const zero = () => new Float32Array(784);
  // Blanks first, in the middle and last: every position of the cache's bookkeeping.
  return [zero(), ...digits.slice(0, 6), zero(), ...digits.slice(6), zero()];
};

describe('digit model batches', () => {
  for (const backend of ['opencv', 'ts'] as const) {
    it(`${backend}: an image's logits are the same alone and inside a batch, blanks included`, () => {
      const model = loadDigitModel();
      const before = model.backend;
      model.backend = backend;
      try {
        const batch = images();
        const together = model.logitsBatch(batch);
        expect(together).toHaveLength(batch.length);
        batch.forEach((img, i) => {
          const alone = model.logitsBatch([img])[0]!;
          expect(Array.from(together[i]!)).toEqual(Array.from(alone));
        });
        // The cached blank logits are what the network itself gives an all-zero image (the TypeScript
        // reference forward pass; OpenCV's dnn agrees with it to float rounding).
        const reference = model.logits(new Float32Array(784));
        for (const i of [0, 7, batch.length - 1]) {
          together[i]!.forEach((v, k) => expect(Math.abs(v - reference[k]!)).toBeLessThan(1e-4));
        }
        // Each call hands out fresh arrays: a caller may scale them in place.
        expect(together[0]).not.toBe(together[7]);
        together[0]![0] = 1e9;
        expect(model.logitsBatch([batch[0]!])[0]![0]).not.toBe(1e9);
        // Not all the same: the digits really went through the network.
        expect(new Set(together.map((l) => l.indexOf(Math.max(...l)))).size).toBeGreaterThan(3);
      } finally {
        model.backend = before;
      }
    });
  }
});
