import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASS_X } from '../types.js';
import { hasRealCrops, loadRealCrops, realCropsDir } from './data.js';
import { LABEL_REVIEW, reviewedClass } from './label-review.js';
import { reviewedTarget } from './labels.js';
import { loadGlyphLibrary } from '../synth/handwriting.js';

describe('label review', () => {
  it('maps a reviewed crop to the class it shows, only under the upstream label that was reviewed', () => {
    expect(reviewedClass('2_C_5108061023005_2_2.jpg', 2)).toBe(9);
    expect(reviewedClass('1_C_5202032005009_2_1.jpg', 1)).toBe(CLASS_X);
    // A dataset that re-labelled the crop is not silently re-mapped.
    expect(reviewedClass('2_C_5108061023005_2_2.jpg', 9)).toBeUndefined();
    expect(reviewedClass('2_C_0000000000000_1_2.jpg', 2)).toBeUndefined();
  });

  it('gives the reviewed class as the only target, and the upstream 0/X rule otherwise', () => {
    const empty = new Float32Array(28 * 28);
    expect(reviewedTarget({ label: 2, shows: 9 }, empty)).toEqual({ target: 9, accept: [9] });
    expect(reviewedTarget({ label: 2 }, empty)).toEqual({ target: 2, accept: [2] });
    // Upstream 0 with an empty centre is a written zero (labels.ts).
    expect(reviewedTarget({ label: 0 }, empty)).toEqual({ target: 0, accept: [0] });
  });

  it.runIf(hasRealCrops())('names crops that exist upstream with the labels it says, and the loaders apply it', async () => {
    const csv = readFileSync(join(realCropsDir(), 'labels.csv'), 'utf8').trim().split(/\r?\n/);
    const head = csv[0]!.split(',');
    const label = new Map(csv.slice(1).map((l) => l.split(',')).map((r) => [r[head.indexOf('file')]!, Number(r[head.indexOf('label')])]));
    for (const r of LABEL_REVIEW) {
      expect(label.get(r.file), r.file).toBe(r.label);
      expect(String(r.label)).not.toBe(r.shows);
    }
    const test = await loadRealCrops(['test']);
    const nine = test.find((c) => c.file === '2_C_5108061023005_2_2.jpg')!;
    expect(nine.label).toBe(2);
    expect(nine.shows).toBe(9);
    expect(test.filter((c) => c.shows !== undefined).length).toBe(LABEL_REVIEW.filter((r) => test.some((c) => c.file === r.file)).length);
    // The synthetic handwriting draws the crop as the 9 it shows; one that shows an X is no digit glyph.
    const held = await loadGlyphLibrary({ part: 'heldout' });
    const files = (d: number) => (held.real.get(d) ?? []).map((g) => g.file);
    expect(files(9)).toContain('2_C_5108061023005_2_2.jpg');
    expect(files(2)).not.toContain('2_C_5108061023005_2_2.jpg');
    const train = await loadGlyphLibrary({ part: 'train' });
    for (const list of train.real.values()) expect(list.map((g) => g.file)).not.toContain('1_C_5202032005009_2_1.jpg');
  }, 120_000);
});
