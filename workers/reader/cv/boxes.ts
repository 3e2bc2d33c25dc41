/**
 * Per-field alignment and box cutting. The fiducial homography places the page to about a
 * millimetre; paper is not flat (folds, curl), so each field's group of boxes is located again in
 * its own neighbourhood before its boxes are cut. Locating uses 1-D profiles: in the warped frame the
 * printed box outlines are axis-aligned, so a column-darkness profile shows the vertical edges as a
 * comb and a row profile shows the horizontal edges; correlating each with the comb the template
 * predicts gives the x and y offsets and a normalised score (how much this looks like the printed
 * boxes at all). That costs microseconds where 2-D template matching per field costs milliseconds.
 *
 * Cutting takes each box's interior, inset past the printed outline, so box lines never reach the
 * digit reader; residual guides and specks are the digit normaliser's job (digits/preprocess.ts).
 */
import type { Cv, Mat } from './opencv.js';
import type { FieldSpec, FormTemplate, RectMm } from '../template/types.js';
import { warpRegion, type H3 } from './geometry.js';

export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1;
}

export interface CutField {
  key: string;
  /** Offset (warped-frame px) found by local alignment, and its score (−1..1; ~0.8+ on a clean print). */
  dx: number;
  dy: number;
  score: number;
  /** Whether the offset came from this field's own outline (true) or from its neighbours. */
  located: boolean;
  boxes: GrayImage[];
  /** Box rectangles [x, y, w, h] in the warped page frame at pxPerMm. */
  roi: [number, number, number, number][];
  /**
   * The same box cut again with the inset changed by `insetDeltaPx` (negative: closer to the printed
   * outline): a second look at a box the digit reader was unsure of.
   */
  recut(box: number, insetDeltaPx: number): GrayImage;
}

/** Search this far (mm) around the fiducial-predicted position. */
const SEARCH_MM = 2.5;
const MIN_LOCATED_SCORE = 0.45;
/** Cut this far inside the printed outline (mm). */
const INSET_MM = 0.15;
/** Paper margin added around each cut, as a share of its side (see padWithPaper). */
const PAD_SHARE = 0.2;

function bboxOf(rects: RectMm[]): RectMm {
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.w));
  const y1 = Math.max(...rects.map((r) => r.y + r.h));
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * The outline comb as merged integer pixel runs [from, to) inside [0, len): the pixels a printed line
 * covers (1 on a line, 0 elsewhere).
 */
function combRuns(len: number, lines: [number, number][]): [number, number][] {
  const runs = lines
    .map(([a, b]) => [Math.max(0, Math.floor(a)), Math.min(len, Math.ceil(b))] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  const out: [number, number][] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Thin-line emphasis: darkness minus its local mean over ~2 mm, clipped at 0 (drops shading, keeps lines). */
function tophat(p: Float64Array, win: number): Float64Array {
  const n = p.length;
  const out = new Float64Array(n);
  const half = Math.max(2, Math.round(win / 2));
  const pre = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) pre[i + 1] = pre[i]! + p[i]!;
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n - 1, i + half);
    out[i] = Math.max(0, p[i]! - (pre[hi + 1]! - pre[lo]!) / (hi - lo + 1));
  }
  return out;
}

/** Prefix sums of a signal and of its square (for windowed means and variances in O(1)). */
function prefixSums(signal: Float64Array): { s1: Float64Array; s2: Float64Array } {
  const s1 = new Float64Array(signal.length + 1);
  const s2 = new Float64Array(signal.length + 1);
  for (let i = 0; i < signal.length; i++) {
    s1[i + 1] = s1[i]! + signal[i]!;
    s2[i + 1] = s2[i]! + signal[i]! * signal[i]!;
  }
  return { s1, s2 };
}

/**
 * Best shift of a binary comb of length n inside signal (longer by 2·range) by normalised
 * correlation. The comb is 0/1 on a few runs, so with prefix sums each shift costs O(runs), not O(n):
 * Σ(a−ā)(c−c̄) = Σ_runs a − c̄·Σa, and Σ(a−ā)² = Σa² − n·ā².
 */
function bestShift(pre: { s1: Float64Array; s2: Float64Array }, n: number, runs: [number, number][], range: number): { shift: number; ncc: number } {
  let best = { shift: 0, ncc: -1 };
  let count = 0;
  for (const [a, b] of runs) count += b - a;
  const cm = count / n;
  const cv2 = count * (1 - cm) * (1 - cm) + (n - count) * cm * cm;
  const { s1, s2 } = pre;
  for (let s = 0; s <= 2 * range; s++) {
    const sum = s1[s + n]! - s1[s]!;
    const sm = sum / n;
    const sv2 = s2[s + n]! - s2[s]! - n * sm * sm;
    let onLines = 0;
    for (const [a, b] of runs) onLines += s1[s + b]! - s1[s + a]!;
    const num = onLines - cm * sum;
    // sv2 is a difference of large sums: treat a flat window (rounding noise) as no signal.
    const ncc = sv2 > 1e-9 * Math.max(1, s2[s + n]! - s2[s]!) && cv2 > 0 ? num / Math.sqrt(sv2 * cv2) : -1;
    // Prefer the smaller displacement among near-equal peaks (a comb is periodic).
    if (ncc > best.ncc + 1e-6 || (Math.abs(ncc - best.ncc) <= 1e-6 && Math.abs(s - range) < Math.abs(best.shift))) best = { shift: s - range, ncc };
  }
  return best;
}

export function cutFields(
  cv: Cv,
  gray: Mat,
  mmToImage: H3,
  template: FormTemplate,
  pxPerMm: number,
  opts: { searchMm?: number; keepOwnOffsets?: boolean } = {},
): CutField[] {
  const P = pxPerMm;
  const lineMm = template.boxLineMm ?? 0.4;
  const range = Math.round((opts.searchMm ?? SEARCH_MM) * P);
  const found: { field: FieldSpec; px: Uint8Array; pw: number; ph: number; x0: number; y0: number; dx: number; dy: number; score: number }[] = [];
  for (const field of template.fields) {
    const bb = bboxOf(field.boxes);
    const x0 = Math.floor(bb.x * P) - range;
    const y0 = Math.floor(bb.y * P) - range;
    const w = Math.ceil(bb.w * P) + 2 * range;
    const h = Math.ceil(bb.h * P) + 2 * range;
    const patch = warpRegion(cv, gray, mmToImage, P, x0, y0, w, h);
    // One copy out of the addon per field; the boxes are cut from it as typed-array rows. Column
    // profile over the boxes' rows, row profile over the boxes' columns (± search), summed in the
    // same pass (integer sums: the same numbers in any order).
    const col = new Float64Array(w);
    const row = new Float64Array(h);
    const px = flattenPaper(cv, patch, P, col, row);
    patch.release();
    for (let x = 0; x < w; x++) col[x]! /= h;
    for (let y = 0; y < h; y++) row[y]! /= w;
    const lw = lineMm * P;
    const vLines: [number, number][] = [];
    const hLines: [number, number][] = [];
    for (const b of field.boxes) {
      const bx = b.x * P - (x0 + range);
      vLines.push([bx, bx + lw], [bx + b.w * P - lw, bx + b.w * P]);
    }
    const by = field.boxes[0]!.y * P - (y0 + range);
    hLines.push([by, by + lw], [by + field.boxes[0]!.h * P - lw, by + field.boxes[0]!.h * P]);
    // Blur (focus or motion) widens a printed line into a plateau: a thin comb then fits anywhere
    // on the plateau, so combs with widened lines are tried too and the best fit taken.
    const sTop = prefixSums(tophat(col, 2 * P));
    const rTop = prefixSums(tophat(row, 2 * P));
    const nx = Math.ceil(bb.w * P);
    const ny = Math.ceil(bb.h * P);
    let sx = { shift: 0, ncc: -1 };
    let sy = { shift: 0, ncc: -1 };
    for (const widen of [0, 1, 2, 4]) {
      const grow = (l: [number, number][]) => l.map(([a, b]) => [a - widen, b + widen] as [number, number]);
      const cx = bestShift(sTop, nx, combRuns(nx, grow(vLines)), range);
      const cy = bestShift(rTop, ny, combRuns(ny, grow(hLines)), range);
      if (cx.ncc > sx.ncc) sx = cx;
      if (cy.ncc > sy.ncc) sy = cy;
    }
    found.push({ field, px, pw: w, ph: h, x0, y0, dx: sx.shift, dy: sy.shift, score: Math.min(sx.ncc, sy.ncc) });
  }
  // Fields whose outline was not found borrow the median offset of the located ones: paper
  // deformation is smooth, and a field full of ink can hide its own outline. A located field whose
  // offset disagrees with its neighbours by more than a line width (a blurred double edge can make
  // the comb peak twice) is pulled to the neighbours too.
  const good = found.filter((f) => f.score >= MIN_LOCATED_SCORE);
  const med = (a: number[]) => (a.length ? [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]! : 0);
  const tolerance = Math.max(2, Math.round(lineMm * P * 1.5));
  // Each field's final offset, and its patch as the fold finder sees it (findCreases needs every field first).
  const placed: { f: (typeof found)[number]; dx: number; dy: number; located: boolean; patch: CreasePatch }[] = [];
  for (const f of found) {
    let { dx, dy } = f;
    let located = f.score >= MIN_LOCATED_SCORE;
    const near = good
      .filter((g) => g !== f)
      .sort((a, b) => dist(a.field, f.field) - dist(b.field, f.field))
      .slice(0, 6);
    if (opts.keepOwnOffsets) {
      // Caller wants each field's own measurement (to fit a better page map).
    } else if (near.length >= 3) {
      const mx = med(near.map((n) => n.dx));
      const my = med(near.map((n) => n.dy));
      if (!located || Math.abs(dx - mx) > tolerance || Math.abs(dy - my) > tolerance) {
        dx = mx;
        dy = my;
        located = false;
      }
    } else if (!located && near.length) {
      dx = med(near.map((n) => n.dx));
      dy = med(near.map((n) => n.dy));
    }
    // The box group's rectangle in the patch.
    const group: [number, number, number, number] = [
      Math.min(...f.field.boxes.map((b) => Math.round(b.x * P) + dx)) - f.x0,
      Math.min(...f.field.boxes.map((b) => Math.round(b.y * P) + dy)) - f.y0,
      Math.max(...f.field.boxes.map((b) => Math.round((b.x + b.w) * P) + dx)) - f.x0,
      Math.max(...f.field.boxes.map((b) => Math.round((b.y + b.h) * P) + dy)) - f.y0,
    ];
    // Where the printed vertical outlines run (patch px): their blurred flanks are faint lines too.
    const outlineX = f.field.boxes.flatMap((b) => [Math.round(b.x * P) + dx - f.x0, Math.round((b.x + b.w) * P) + dx - f.x0]);
    placed.push({ f, dx, dy, located, patch: { px: f.px, w: f.pw, h: f.ph, x0: f.x0, y0: f.y0, group, outlineX } });
  }
  const creases = findCreases(placed.map((p) => p.patch), Math.ceil(lineMm * P) + 1);
  const out: CutField[] = [];
  placed.forEach(({ f, dx, dy, located }, k) => {
    const crease = creases[k];
    const boxes: GrayImage[] = [];
    const roi: CutField['roi'] = [];
    // Just past the printed outline: strokes that touch the box edge (the bar of a 7) keep their ends.
    const inset = Math.round((lineMm + INSET_MM) * P);
    const cut = (b: RectMm, insetPx: number): GrayImage => {
      const rx = Math.round(b.x * P) + dx;
      const ry = Math.round(b.y * P) + dy;
      const rw = Math.round(b.w * P);
      const rh = Math.round(b.h * P);
      const cw = Math.max(4, rw - 2 * insetPx);
      const ch = Math.max(4, rh - 2 * insetPx);
      const sx0 = clamp(rx + insetPx - f.x0, 0, f.pw - cw);
      const sy0 = clamp(ry + insetPx - f.y0, 0, f.ph - ch);
      const data = new Uint8Array(cw * ch);
      for (let y = 0; y < ch; y++) data.set(f.px.subarray((sy0 + y) * f.pw + sx0, (sy0 + y) * f.pw + sx0 + cw), y * cw);
      if (crease) liftCreases(data, cw, ch, sx0, sy0, crease);
      const levels = greyLevels(data);
      eraseEdgeLines(data, cw, ch, levels);
      return padWithPaper(data, cw, ch, PAD_SHARE, levels.paper);
    };
    for (const b of f.field.boxes) {
      roi.push([Math.round(b.x * P) + dx, Math.round(b.y * P) + dy, Math.round(b.w * P), Math.round(b.h * P)]);
      boxes.push(cut(b, inset));
    }
    const recut = (box: number, insetDeltaPx: number) => cut(f.field.boxes[box]!, Math.max(0, inset + insetDeltaPx));
    out.push({ key: f.field.key, dx, dy, score: f.score, located, boxes, roi, recut });
  });
  return out;
}

/** Darkness (of 255, after flattenPaper, above the group's own paper) from which a line may be a crease. */
const CREASE_MIN = 10;
/** Darker than this (the line's median) is print or pen, not a crease. */
const CREASE_MAX = 70;
/** A crease is evenly dark along its length: the spread (interquartile) of its darkness at most this share of its median, or 12 levels. */
const CREASE_EVEN = 0.5;
/** Share of a box group's height (or width) a crease must cross without a gap. */
const CREASE_RUN = 0.9;
/** Fields a line must cross, at the same place on the page, to be a fold. */
const CREASE_FIELDS = 3;

/** How much darker than paper a crease makes each patch column (vertical folds) and row (horizontal). */
export interface Creases {
  col: Float32Array;
  row: Float32Array;
}

export interface CreasePatch {
  /** Flattened patch (paper ≈ 255), w × h, whose pixel (0, 0) is page pixel (x0, y0). */
  px: Uint8Array;
  w: number;
  h: number;
  x0: number;
  y0: number;
  /** The box group [x0, y0, x1, y1] in patch pixels. */
  group: [number, number, number, number];
  /** Patch columns of the printed box outlines' vertical lines (their flanks are never taken for a fold); the horizontal ones are the group's top and bottom. */
  outlineX: number[];
}

/**
 * Paper folds, found across the page. A crease through a box is a thin straight line as dark as a
 * pale pen (across an empty leading box it was read as "1" at p 0.98), and within one box nothing
 * tells it from writing; its own field's margins do not either, as table rules and the neighbouring
 * fields' outlines run through them. What does: a fold crosses the whole sheet, so the same faint,
 * unbroken line runs through the full height (or width) of the box groups of several fields at one
 * page column (or row). Writing does not line up like that, and print is far darker.
 * Returns, per patch, the darkness to lift per column and row, or null where no fold crosses it.
 * `line` is the printed outline's width in pixels (its rows are not part of the interior).
 */
export function findCreases(patches: CreasePatch[], line: number): (Creases | null)[] {
  // Each group's own paper level, the median darkness of its interior (flattening leaves a few
  // levels of grain and JPEG noise): a 256-bin histogram of every other pixel, no sorting.
  const hist = new Uint32Array(256);
  const paper = patches.map(({ px, w, group: [gx0, gy0, gx1, gy1] }) => {
    hist.fill(0);
    let n = 0;
    for (let y = gy0 + line; y < gy1 - line; y += 2)
      for (let x = gx0 + line; x < gx1 - line; x += 2) {
        hist[255 - px[y * w + x]!]!++;
        n++;
      }
    let level = 0;
    for (let seen = hist[0]!; seen * 2 < n && level < 255; ) seen += hist[++level]!;
    return level;
  });
  // Per patch, per interior column (row): the line's median darkness above paper, if it runs unbroken.
  const profile = (p: CreasePatch, paperLevel: number, vertical: boolean): Map<number, number> => {
    const { px, w, h } = p;
    const [gx0, gy0, gx1, gy1] = p.group;
    const found = new Map<number, number>();
    // i runs across the lines (columns for vertical folds), j along them, inside the outline.
    const i0 = Math.max(1, vertical ? gx0 : gy0);
    const i1 = Math.min(vertical ? w : h, vertical ? gx1 : gy1) - 1;
    const j0 = Math.max(0, (vertical ? gy0 : gx0) + line);
    const j1 = Math.min(vertical ? h : w, (vertical ? gy1 : gx1) - line);
    const n = j1 - j0;
    if (n < 4 || i1 <= i0) return found;
    // Pixel (i, j) is px[i·si + j·sj]; its neighbours across the line are ±si away.
    const si = vertical ? 1 : w;
    const sj = vertical ? w : 1;
    const on = paperLevel + CREASE_MIN;
    const maxOff = Math.floor((1 - CREASE_RUN) * n);
    const values = new Float32Array(n);
    const outline = vertical ? p.outlineX : [gy0, gy1];
    for (let i = i0; i < i1; i++) {
      if (outline.some((o) => Math.abs(i - o) <= line + 2)) continue;
      // Unbroken: dark (the pixel or a neighbour across the line, as a fold may lean by a pixel) on
      // all but 10% of the line. Most lines fail within a few pixels, so this runs first.
      let off = 0;
      let k = 0;
      for (let j = j0; j < j1 && off <= maxOff; j++, k++) {
        const at = i * si + j * sj;
        const d = 255 - px[at]!;
        values[k] = d;
        if (d < on && 255 - px[at - si]! < on && 255 - px[at + si]! < on) off++;
      }
      if (off > maxOff) continue;
      values.sort();
      const median = values[n >> 1]! - paperLevel;
      const spread = values[Math.floor(n * 0.75)]! - values[Math.floor(n * 0.25)]!;
      // Pen strokes that happen to run a whole box are darker and uneven (a 9's stem thins and
      // leaves the column); a crease keeps one shade from edge to edge.
      if (median >= CREASE_MIN && median <= CREASE_MAX && spread <= Math.max(12, CREASE_EVEN * median)) found.set(i + (vertical ? p.x0 : p.y0), median);
    }
    return found;
  };
  const col = patches.map((p, k) => profile(p, paper[k]!, true));
  const row = patches.map((p, k) => profile(p, paper[k]!, false));
  // Page columns (rows) that at least CREASE_FIELDS fields show, ±1 px.
  const confirmed = (lines: Map<number, number>[]) => {
    const votes = new Map<number, number>();
    for (const m of lines) {
      const seen = new Set<number>();
      for (const at of m.keys()) for (const a of [at - 1, at, at + 1]) seen.add(a);
      for (const a of seen) votes.set(a, (votes.get(a) ?? 0) + 1);
    }
    return new Set([...votes].filter(([, n]) => n >= CREASE_FIELDS).map(([a]) => a));
  };
  const cols = confirmed(col);
  const rows = confirmed(row);
  return patches.map((p, k) => {
    // Most photos have no fold: no per-column arrays for a patch no confirmed line crosses.
    const onCols = [...col[k]!].filter(([at]) => cols.has(at));
    const onRows = [...row[k]!].filter(([at]) => rows.has(at));
    if (!onCols.length && !onRows.length) return null;
    const c: Creases = { col: new Float32Array(p.w), row: new Float32Array(p.h) };
    for (const [at, d] of onCols) c.col[at - p.x0] = d;
    for (const [at, d] of onRows) c.row[at - p.y0] = d;
    return c;
  });
}

/**
 * Takes a fold's darkness back out of a cut (x0, y0: its place in the patch): each pixel on a crease
 * column or row is divided by the crease's own shade, so the paper under it is paper again and a pen
 * stroke crossing it stays as dark, relative to the paper, as it was.
 */
export function liftCreases(data: Uint8Array, w: number, h: number, x0: number, y0: number, c: Creases): void {
  for (let y = 0; y < h; y++) {
    const r = c.row[y0 + y] ?? 0;
    for (let x = 0; x < w; x++) {
      const d = Math.max(r, c.col[x0 + x] ?? 0);
      if (d <= 0) continue;
      const i = y * w + x;
      data[i] = Math.min(255, Math.round((data[i]! * 255) / (255 - d)));
    }
  }
}

/** Width (mm) of the max filter that estimates the paper under the ink: wider than any pen stroke or printed line. */
const PAPER_WINDOW_MM = 1.5;

/**
 * The patch's grey levels divided by the paper's own brightness around each pixel (a max filter
 * wider than any stroke, then smoothed): paper becomes ~255 everywhere and ink keeps its contrast.
 * A shadow's soft edge or a light falloff can darken one side of a 9 mm box by a quarter; read flat,
 * the darker half then looks like ink and a "1" turns into a "4" (bench photo, shadow edge through
 * the row). Dividing removes the gradient before any threshold sees it.
 */
export function flattenPaper(cv: Cv, patch: Mat, pxPerMm: number, colDark?: Float64Array, rowDark?: Float64Array): Uint8Array {
  const k = Math.max(3, Math.round(PAPER_WINDOW_MM * pxPerMm) | 1);
  // Native buffers are freed here, not at some later garbage collection (V8 does not see their size).
  const dilated = patch.dilate(cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(k, k)));
  const bgMat = dilated.blur(new cv.Size(k, k));
  dilated.release();
  const bg: Uint8Array = bgMat.getData();
  bgMat.release();
  const px: Uint8Array = patch.getData();
  const out = new Uint8Array(px.length);
  const lut = flatLut();
  if (!colDark || !rowDark) {
    for (let i = 0; i < px.length; i++) out[i] = lut[(bg[i]! << 8) | px[i]!]!;
    return out;
  }
  // With profile arrays: also Σ (255 − flattened) per column and per row (added to what they hold).
  const w = patch.cols;
  const h = patch.rows;
  const cs = new Int32Array(w);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let r = 0;
    for (let x = 0; x < w; x++) {
      const v = lut[(bg[o + x]! << 8) | px[o + x]!]!;
      out[o + x] = v;
      const d = 255 - v;
      cs[x]! += d;
      r += d;
    }
    rowDark[y]! += r;
  }
  for (let x = 0; x < w; x++) colDark[x]! += cs[x]!;
  return out;
}

let flatTable: Uint8Array | null = null;
/**
 * flattenPaper's quotient for every (paper b, pixel p) pair, index b·256 + p: 255 where b ≤ p, else
 * round(255·p / b). The same numbers the division gives, without a division per pixel (~0.5 MP per page).
 */
function flatLut(): Uint8Array {
  if (flatTable) return flatTable;
  const t = new Uint8Array(65536);
  for (let b = 0; b < 256; b++) for (let p = 0; p < 256; p++) t[(b << 8) | p] = b <= p ? 255 : Math.round((p * 255) / b);
  flatTable = t;
  return t;
}

function dist(a: FieldSpec, b: FieldSpec): number {
  return Math.hypot(a.boxes[0]!.x - b.boxes[0]!.x, a.boxes[0]!.y - b.boxes[0]!.y);
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * Paper (90th percentile) and ink (2nd percentile) grey levels of a crop, from a histogram: the
 * same order statistics a sort gives, in one pass.
 */
export function greyLevels(data: Uint8Array): { paper: number; ink: number } {
  const hist = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) hist[data[i]!]!++;
  const at = (rank: number) => {
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += hist[v]!;
      if (seen > rank) return v;
    }
    return 255;
  };
  return { paper: at(Math.floor(data.length * 0.9)), ink: at(Math.floor(data.length * 0.02)) };
}

/**
 * Whitens what is left of a printed outline inside a cut: a row or column in the outer 10% of the
 * crop that is dark along ≥ 85% of its length is a box line. The cut already starts past the located
 * outline, so a remnant hugs the edge and runs the full side; the band and length are kept that
 * tight because blocky KPPS digits put the bar of a 7, 2 or 5 close to the box edge and nearly as
 * long (a wider band turned such 7s into 1s). Rows/columns are judged against the crop's own paper
 * and ink levels, so shadow and dim light do not matter.
 */
export function eraseEdgeLines(data: Uint8Array, w: number, h: number, levels = greyLevels(data)): void {
  const { paper, ink } = levels;
  if (paper - ink < 40) return; // nothing dark enough to be a line
  const dark = paper - (paper - ink) * 0.45;
  const bandX = Math.max(1, Math.round(w * 0.1));
  const bandY = Math.max(1, Math.round(h * 0.1));
  const isDark = (v: number) => v < dark;
  const whiten = (idx: number) => {
    data[idx] = paper;
  };
  for (let x = 0; x < w; x++) {
    if (x >= bandX && x < w - bandX) continue;
    let n = 0;
    for (let y = 0; y < h; y++) if (isDark(data[y * w + x]!)) n++;
    if (n >= h * 0.85) for (let y = 0; y < h; y++) whiten(y * w + x);
  }
  for (let y = 0; y < h; y++) {
    if (y >= bandY && y < h - bandY) continue;
    let n = 0;
    for (let x = 0; x < w; x++) if (isDark(data[y * w + x]!)) n++;
    if (n >= w * 0.85) for (let x = 0; x < w; x++) whiten(y * w + x);
  }
}

/**
 * Surrounds the cut with a margin of its own paper colour. Writing often touches the box edge (the
 * bar of a 7, the top of a 5); the digit normaliser strips border-like strokes at the edges of a
 * crop, so ink must not sit on the edge of what it receives.
 */
export function padWithPaper(data: Uint8Array, w: number, h: number, share: number, paper = greyLevels(data).paper): GrayImage {
  const m = Math.round(Math.max(w, h) * share);
  if (m <= 0) return { data, width: w, height: h, channels: 1 };
  const W = w + 2 * m;
  const H = h + 2 * m;
  const out = new Uint8Array(W * H).fill(paper);
  for (let y = 0; y < h; y++) out.set(data.subarray(y * w, (y + 1) * w), (y + m) * W + m);
  return { data: out, width: W, height: H, channels: 1 };
}
