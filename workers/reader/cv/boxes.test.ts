import { describe, expect, it } from 'vitest';
import { eraseEdgeLines, findCreases, liftCreases, predictOffset, type CreasePatch } from './boxes.js';

/**
 * Flattened field patches (paper 255), 120 × 80 each, box group at [15, 15, 105, 65] (three 30 px
 * boxes, 3 px outlines), stacked down the page (vertical folds) or side by side (horizontal ones).
 */
const W = 120;
const H = 80;
const GROUP: [number, number, number, number] = [15, 15, 105, 65];
const LINE = 3;
function field(k: number, across: boolean, paint: (x: number, y: number, k: number) => number = () => 0): CreasePatch {
  const px = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = 255 - paint(x, y, k);
  return { px, w: W, h: H, x0: across ? 200 * k : 0, y0: across ? 0 : 100 * k, group: GROUP, outlineX: [15, 45, 75, 105] };
}
const column = (n: number, paint: (x: number, y: number, k: number) => number) => Array.from({ length: n }, (_, k) => field(k, false, paint));
const inGroup = (x: number, y: number) => x >= GROUP[0] && x < GROUP[2] && y >= GROUP[1] && y < GROUP[3];

describe('paper folds across the page', () => {
  it('finds a fold running through four fields at one page column, and lifts it out of their cuts', () => {
    const patches = column(4, (x) => (x === 60 ? 35 : x === 61 ? 15 : 0));
    const found = findCreases(patches, LINE);
    for (const c of found) {
      expect(c).not.toBeNull();
      expect(c!.col[60]).toBe(35);
      expect(c!.col[61]).toBe(15);
      expect(c!.col[59]).toBe(0);
      expect(Math.max(...c!.row)).toBe(0);
    }
    // A cut of the middle box: the crease is paper again.
    const cut = new Uint8Array(24 * 44);
    for (let y = 0; y < 44; y++) for (let x = 0; x < 24; x++) cut[y * 24 + x] = patches[0]!.px[(18 + y) * W + 48 + x]!;
    liftCreases(cut, 24, 44, 48, 18, found[0]!);
    expect(Math.min(...cut)).toBeGreaterThanOrEqual(254);
  });

  it('finds a horizontal fold through three fields side by side', () => {
    const found = findCreases(Array.from({ length: 3 }, (_, k) => field(k, true, (_x, y) => (y === 40 ? 30 : 0))), LINE);
    for (const c of found) {
      expect(c!.row[40]).toBe(30);
      expect(Math.max(...c!.col)).toBe(0);
    }
  });

  it('keeps a pen stroke that crosses the fold darker than paper', () => {
    const patches = column(3, (x, y) => (x === 60 ? 35 : 0) + (y === 40 && inGroup(x, y) ? 150 : 0));
    const c = findCreases(patches, LINE)[0]!;
    const cut = patches[0]!.px.slice();
    liftCreases(cut, W, H, 0, 0, c);
    expect(cut[40 * W + 60]).toBeLessThan(150);
    expect(cut[30 * W + 60]).toBeGreaterThanOrEqual(254);
  });

  it('takes no line seen in only two fields for a fold', () => {
    expect(findCreases(column(4, (x, _y, k) => (x === 60 && k < 2 ? 35 : 0)), LINE).every((c) => c === null)).toBe(true);
  });

  it('takes no writing for a fold: dark strokes, or uneven ones, lined up in every field', () => {
    // A dark stem in the same place in four fields (a units digit written the same way).
    expect(findCreases(column(4, (x, y) => (x === 60 && inGroup(x, y) ? 150 : 0)), LINE).every((c) => c === null)).toBe(true);
    // A pale stroke whose darkness changes along it (20 and 60 in turns of 6 rows).
    expect(findCreases(column(4, (x, y) => (x === 60 && inGroup(x, y) ? (Math.floor(y / 6) % 2 ? 20 : 60) : 0)), LINE).every((c) => c === null)).toBe(true);
  });

  it('takes no printed outline\'s blurred flank for a fold', () => {
    expect(findCreases(column(4, (x) => (x === 47 ? 40 : 0)), LINE).every((c) => c === null)).toBe(true);
  });
});

describe('a field offset predicted from its located neighbours', () => {
  const grid = (f: (x: number, y: number) => { dx: number; dy: number }) =>
    [20, 50, 80].flatMap((x) => [40, 70, 100].map((y) => ({ at: { x, y }, ...f(x, y) })));

  it('follows a bow across the page, where the median of the neighbours lags behind', () => {
    // Offsets growing towards the middle of the page, 0.15 px per mm (a bow's flank): at x = 110 mm,
    // beyond the located fields, the truth is 16.5 px; their median says 7.5.
    const pool = grid((x) => ({ dx: 0, dy: 0.15 * x }));
    const p = predictOffset({ x: 110, y: 70 }, pool, 6)!;
    expect(p.dy).toBeGreaterThan(15.5);
    expect(p.dy).toBeLessThan(16.6);
    expect(Math.abs(p.dx)).toBeLessThan(0.2);
  });

  it('ignores a neighbour whose comb locked a box pitch away', () => {
    const pool = grid(() => ({ dx: 3, dy: -2 }));
    pool[4] = { ...pool[4]!, dx: 3 + 48 };
    const p = predictOffset({ x: 50, y: 85 }, pool, 6)!;
    expect(p.dx).toBeCloseTo(3, 6);
    expect(p.dy).toBeCloseTo(-2, 6);
  });

  it('leaves the slope across a single column of fields at zero instead of guessing it', () => {
    const pool = [40, 70, 100, 130].map((y) => ({ at: { x: 60, y }, dx: 5, dy: 0.1 * y }));
    const p = predictOffset({ x: 140, y: 85 }, pool, 6)!;
    expect(p.dx).toBeCloseTo(5, 6);
    expect(p.dy).toBeCloseTo(8.5, 1);
  });

  it('predicts nothing from fewer than three neighbours', () => {
    expect(predictOffset({ x: 0, y: 0 }, grid(() => ({ dx: 1, dy: 1 })).slice(0, 2), 6)).toBeNull();
  });
});

describe('what is left of the printed outline inside a cut', () => {
  /** A 46 × 48 cut on paper 250, painted: paint(x, y) is the darkness at (x, y). */
  const cut = (paint: (x: number, y: number) => number) => {
    const w = 46;
    const h = 48;
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 250 - paint(x, y);
    return { data, w, h };
  };
  const darkest = (c: ReturnType<typeof cut>, x0: number, x1: number, y0 = 0, y1 = c.h) => {
    let m = 255;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m = Math.min(m, c.data[y * c.w + x]!);
    return m;
  };

  it('whitens the pale flanks along the sides of a box with nothing written in it', () => {
    // A blurred outline's flanks, a px or two wide, 40–90 levels darker than the paper along most of
    // each side (a bowed sheet's blank box, read "1" at p 0.98 before), plus JPEG specks inside.
    const c = cut((x, y) => (x === 0 || x === 45 ? 60 + (y % 3) * 15 : x === 44 && y > 20 ? 40 : y === 47 ? 45 : (x * 7 + y * 13) % 97 === 0 ? 30 : 0));
    eraseEdgeLines(c.data, c.w, c.h);
    expect(darkest(c, 0, c.w)).toBeGreaterThan(215); // only the specks (30 levels) are left
  });

  it('leaves a written box alone: its strokes near the edge are writing', () => {
    // A 7: its bar along the very top of the cut, its stem down the middle, and a pale flank on the left.
    const seven = (x: number, y: number) => (y <= 1 && x >= 4 && x <= 37 ? 160 : Math.abs(x - (40 - (y * 20) / 48)) < 2 && y > 1 ? 170 : x === 0 ? 50 : 0);
    const c = cut(seven);
    const before = Uint8Array.from(c.data);
    eraseEdgeLines(c.data, c.w, c.h);
    expect(Array.from(c.data)).toEqual(Array.from(before));
  });

  it('whitens a dark remnant of the outline hugging a side, also in a written box', () => {
    // The rule from before: a column in the outer 10% dark along ≥ 85% of its length is a box line.
    const c = cut((x, y) => (x === 45 ? 200 : Math.abs(x - 23) < 2 && y > 8 && y < 40 ? 180 : 0));
    eraseEdgeLines(c.data, c.w, c.h);
    expect(darkest(c, 44, 46)).toBe(250);
    expect(darkest(c, 20, 26)).toBeLessThan(100); // the 1 stays
  });
});
