import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasRealCrops } from '../digits/data.js';
import { isHeldOut, splitPart } from '../digits/split.js';
import { cropInk, loadGlyphLibrary, realToInk } from './handwriting.js';

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
    // Nor the same image under another name: one crop with no TPS code (a test crop) has byte-identical
    // copies filed under a training TPS; the copies must not carry it into training-side forms.
    const sha = (b: Buffer) => createHash('sha1').update(b).digest('hex');
    const heldBytes = new Set([...held.real.values()].flat().map((g) => sha(g.bytes)));
    for (const list of train.real.values()) for (const g of list) expect(heldBytes.has(sha(g.bytes))).toBe(false);
    for (let d = 1; d <= 9; d++) expect(train.real.get(d)!.length).toBeGreaterThan(300);
    // MNIST: the training part (8,000) for training-side forms, the test part (2,000) for held-out ones.
    const count = (m: Map<number, Float32Array[]>) => [...m.values()].reduce((s, l) => s + l.length, 0);
    expect(count(train.mnist) + count(held.mnist)).toBe(10_000);
    expect(count(held.mnist)).toBeGreaterThan(1900);
    expect(count(held.mnist)).toBeLessThan(2100);
    // 'calibration': only the calibration TPS's writers (part of the held-out side), MNIST's test part.
    const cal = await loadGlyphLibrary({ part: 'calibration' });
    expect(cal.part).toBe('calibration');
    let calCrops = 0;
    for (const list of cal.real.values())
      for (const g of list) {
        expect(splitPart(g.tpsCode)).toBe('calibration');
        expect(heldTps.has(g.tpsCode)).toBe(true);
        calCrops++;
      }
    expect(calCrops).toBeGreaterThan(300);
    expect(calCrops).toBeLessThan([...held.real.values()].reduce((s, l) => s + l.length, 0));
    expect(count(cal.mnist)).toBe(count(held.mnist));
  }, 120_000);
});

/** A grey crop like the real ones: paper 200, a printed border at the edge (2 px unless told), and strokes (value 40). */
function crop(w: number, h: number, strokes: [x: number, y: number, w: number, h: number][], border = 2) {
  const data = new Uint8Array(w * h).fill(200);
  const rect = ([x, y, rw, rh]: [number, number, number, number]) => {
    for (let yy = y; yy < y + rh; yy++) for (let xx = x; xx < x + rw; xx++) data[yy * w + xx] = 40;
  };
  rect([0, 0, w, border]);
  rect([0, h - border, w, border]);
  rect([0, 0, border, h]);
  rect([w - border, 0, border, h]);
  strokes.forEach(rect);
  return { data, width: w, height: h, channels: 1 };
}

/** Share of inked pixels per row, within the glyph's own ink bounding box. */
function inkRows(c: ReturnType<typeof realToInk>) {
  if (!c) throw new Error('no ink');
  const { data, width, height } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
  const on = (x: number, y: number) => data[(y * width + x) * 4 + 3]! > 128;
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (on(x, y)) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  const rows: number[] = [];
  for (let y = y0; y <= y1; y++) {
    let n = 0;
    for (let x = x0; x <= x1; x++) if (on(x, y)) n++;
    rows.push(n / (x1 - x0 + 1));
  }
  return rows;
}

describe('real crop → ink', () => {
  it('removes the printed border but keeps a blocky 7 whose bar runs just inside it', () => {
    // 48 × 48 box: the 7's bar 3 px below the border, two thirds of the width; its stem down the right.
    const ink = realToInk(crop(48, 48, [[10, 5, 32, 3], [39, 5, 3, 36]]), [0, 0, 0]);
    const rows = inkRows(ink);
    // The bar survives as a long row of ink near the top of what is kept…
    expect(Math.max(...rows.slice(0, Math.ceil(rows.length / 3)))).toBeGreaterThan(0.6);
    // …and no border is left: the bottom rows hold only the stem.
    expect(Math.max(...rows.slice(-3))).toBeLessThan(0.2);
  });

  it('keeps the bottom bar of a blocky 2 next to the lower border', () => {
    const ink = realToInk(crop(44, 50, [[8, 6, 28, 3], [33, 6, 3, 20], [8, 24, 28, 3], [8, 24, 3, 20], [8, 41, 30, 3]]), [0, 0, 0]);
    const rows = inkRows(ink);
    expect(Math.max(...rows.slice(-Math.ceil(rows.length / 4)))).toBeGreaterThan(0.55);
  });

  it('draws a thin pale stroke at full pen strength, not at the crop\'s half darkness', () => {
    // A 2 whose uprights photographed at half the darkness of its bars (value 120 against 40, paper 200):
    // our own camera model blurs and darkens the page again, so drawn at half alpha they vanished.
    const img = crop(44, 50, [[8, 6, 28, 3], [8, 24, 28, 3], [8, 41, 30, 3]]);
    for (const [x0, y0, h] of [[34, 6, 20], [8, 24, 20]] as const)
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + 2; x++) img.data[y * 44 + x] = 120;
    const c = realToInk(img, [0, 0, 0])!;
    const { data, width, height } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    // The peak alpha in the middle rows between the bars (only the pale uprights are there).
    let peak = 0;
    for (let y = Math.round(height * 0.25); y < Math.round(height * 0.4); y++)
      for (let x = 0; x < width; x++) peak = Math.max(peak, data[(y * width + x) * 4 + 3]!);
    expect(peak).toBeGreaterThan(240);
  });

  it('keeps the bottom bar of a blocky 3 that the border cut leaves touching the edge', () => {
    // 42 × 54 box with a 4 px border; bars 26 px long, the last one 10 px above the border. The cut
    // inside the border ends at the bar, and a bar two thirds as long as the box used to be taken for
    // a border remnant and cleared, turning the 3 into a 7 while the ground truth still said 3.
    const ink = realToInk(crop(42, 54, [[10, 8, 26, 3], [10, 25, 26, 3], [10, 40, 26, 3], [33, 8, 3, 35]], 4), [0, 0, 0]);
    const rows = inkRows(ink);
    // Three separate bands of rows inked across the glyph: the three bars.
    const bars = rows.filter((r, i) => r > 0.8 && !(rows[i - 1]! > 0.8)).length;
    expect(bars).toBe(3);
    // …and the glyph reaches down to the last bar: the upright spans the whole height.
    expect(rows.length).toBeGreaterThan(30);
  });

  it('gives no glyph for a crop that holds only its printed border', () => {
    expect(realToInk(crop(44, 50, []), [0, 0, 0])).toBeNull();
  });

  it('drops an inner printed frame around the writing', () => {
    // A second, inner box (1 px lines 5 px inside the border) around a 1.
    const frame: [number, number, number, number][] = [[7, 7, 30, 1], [7, 42, 30, 1], [7, 7, 1, 36], [36, 7, 1, 36]];
    const rows = inkRows(realToInk(crop(44, 50, [...frame, [20, 14, 3, 22]]), [0, 0, 0]));
    expect(rows.length).toBeGreaterThan(10);
    expect(Math.min(...rows.slice(1, -1))).toBeGreaterThan(0.6);
  });

  it('does not carry an underline from the crop into the glyph', () => {
    // A 1 (stem) with a printed rule a few px above the bottom border, as some crops show.
    const ink = realToInk(crop(44, 50, [[20, 8, 3, 30], [2, 42, 40, 2]]), [0, 0, 0]);
    const rows = inkRows(ink);
    // The glyph is the stem alone: tall and narrow, so every row is inked across its whole width
    // (an underline would make the glyph wide and leave the stem's rows mostly empty).
    expect(rows.length).toBeGreaterThan(10);
    expect(Math.min(...rows.slice(1, -1))).toBeGreaterThan(0.6);
  });

  /**
   * A colour crop: paper (225, 222, 215), a grey printed box 2 px at the edge, a grey "Π" remnant (top
   * bar and two short sides, 6–8 px inside the border: too far in for the row/column cuts, one piece too tall
   * for a rule and open below, so not a frame),
   * and the given strokes in `pen`.
   */
  function colourCrop(pen: [number, number, number], strokes: [number, number, number, number][], grey: [number, number, number][] = []) {
    const w = 40;
    const h = 46;
    const data = new Uint8Array(w * h * 3);
    const put = (x: number, y: number, c: [number, number, number]) => data.set(c, (y * w + x) * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) put(x, y, [225, 222, 215]);
    const rect = ([x, y, rw, rh]: [number, number, number, number], c: [number, number, number]) => {
      for (let yy = y; yy < y + rh; yy++) for (let xx = x; xx < x + rw; xx++) put(xx, yy, c);
    };
    const print: [number, number, number] = [70, 70, 70];
    for (const r of [[0, 0, w, 2], [0, h - 2, w, 2], [0, 0, 2, h], [w - 2, 0, 2, h]] as const) rect([...r], print);
    for (const r of [[7, 8, 26, 2], [7, 8, 2, 12], [31, 8, 2, 12]] as const) rect([...r], print);
    strokes.forEach((r) => rect(r, pen));
    grey.forEach((r) => rect([r[0], r[1], r[2], 3], print));
    return { data, width: w, height: h, channels: 3 };
  }
  const inkAt = (c: { alpha: number[]; w: number }, x: number, y: number) => c.alpha[y * c.w + x]!;
  const blue: [number, number, number] = [40, 60, 170];

  it('drops grey print beside a blue pen\'s writing (a "Π" over a 1), keeps the writing', () => {
    const img = colourCrop(blue, [[19, 12, 3, 26]]);
    const withColour = cropInk(img);
    const without = cropInk(img, { colour: false });
    // Without colour the remnant's top bar is still ink (the geometry rules do not reach it)…
    const barRow = (c: { alpha: number[]; w: number; h: number }) => {
      let best = 0;
      for (let y = 0; y < c.h; y++) {
        let n = 0;
        for (let x = 0; x < c.w; x++) if (c.alpha[y * c.w + x]! > 0.3) n++;
        best = Math.max(best, n / c.w);
      }
      return best;
    };
    expect(barRow(without)).toBeGreaterThan(0.5);
    // …with it, only the stem is left: no row is inked across more than a fifth of the cut.
    expect(barRow(withColour)).toBeLessThan(0.2);
    const stem = withColour.alpha.filter((a) => a > 0.3).length;
    expect(stem).toBeGreaterThan(0.8 * 3 * 26);
  });

  it('leaves a black pen\'s crop to the geometry rules: colour says nothing there', () => {
    const img = colourCrop([30, 30, 30], [[19, 12, 3, 26]]);
    expect(cropInk(img).alpha).toEqual(cropInk(img, { colour: false }).alpha);
  });

  it('keeps a grey stroke in the middle of blue writing (print sits at the edges, not inside the digit)', () => {
    // A blue stem with a grey bar across its middle, away from the edges.
    const img = colourCrop(blue, [[19, 12, 3, 26]], [[12, 24, 16]]);
    const c = cropInk(img);
    const mid = Math.round(c.h / 2);
    let inked = 0;
    for (let y = mid - 4; y <= mid + 4; y++) for (let x = 0; x < c.w; x++) if (inkAt(c, x, y) > 0.3) inked++;
    // The grey bar (16 × 3 px) is still there.
    expect(inked).toBeGreaterThan(16 * 3);
  });
});
