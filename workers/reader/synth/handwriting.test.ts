import { describe, expect, it } from 'vitest';
import { hasRealCrops } from '../digits/data.js';
import { isHeldOut } from '../digits/split.js';
import { loadGlyphLibrary } from './handwriting.js';

describe('glyph library', () => {
  it.runIf(hasRealCrops())('uses only training-side writers by default, only held-out writers on request, never label 0', async () => {
    const train = await loadGlyphLibrary();
    const held = await loadGlyphLibrary({ part: 'heldout' });
    expect(train.part).toBe('train');
    expect(held.part).toBe('heldout');
    const trainTps = new Set<string>();
    const heldTps = new Set<string>();
    for (const [label, list] of train.real) {
      expect(label).toBeGreaterThanOrEqual(1);
      for (const g of list) {
        expect(isHeldOut(g.tpsCode)).toBe(false);
        trainTps.add(g.tpsCode);
      }
    }
    for (const [label, list] of held.real) {
      expect(label).toBeGreaterThanOrEqual(1);
      for (const g of list) {
        expect(isHeldOut(g.tpsCode)).toBe(true);
        heldTps.add(g.tpsCode);
      }
    }
    expect(trainTps.size).toBeGreaterThan(1000);
    expect(heldTps.size).toBeGreaterThan(200);
    for (const code of heldTps) expect(trainTps.has(code)).toBe(false);
    for (let d = 1; d <= 9; d++) expect(train.real.get(d)!.length).toBeGreaterThan(300);
    // MNIST: the training part (8,000) for training-side forms, the test part (2,000) for held-out ones.
    const count = (m: Map<number, Float32Array[]>) => [...m.values()].reduce((s, l) => s + l.length, 0);
    expect(count(train.mnist) + count(held.mnist)).toBe(10_000);
    expect(count(held.mnist)).toBeGreaterThan(1900);
    expect(count(held.mnist)).toBeLessThan(2100);
  }, 120_000);
});
