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
}

/** Search this far (mm) around the fiducial-predicted position. */
const SEARCH_MM = 2.5;
const MIN_LOCATED_SCORE = 0.45;

function bboxOf(rects: RectMm[]): RectMm {
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.w));
  const y1 = Math.max(...rects.map((r) => r.y + r.h));
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Expected darkness profile of the outlines along one axis (1 on a printed line, else 0). */
function combProfile(len: number, lines: [number, number][]): Float64Array {
  const p = new Float64Array(len);
  for (const [a, b] of lines) for (let i = Math.max(0, Math.floor(a)); i < Math.min(len, Math.ceil(b)); i++) p[i] = 1;
  return p;
}

/** Thin-line emphasis: darkness minus its local mean over ~2 mm, clipped at 0 (drops shading, keeps lines). */
function tophat(p: Float64Array, win: number): Float64Array {
  const out = new Float64Array(p.length);
  const half = Math.max(2, Math.round(win / 2));
  for (let i = 0; i < p.length; i++) {
    let s = 0;
    let n = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(p.length - 1, i + half); j++) {
      s += p[j]!;
      n++;
    }
    out[i] = Math.max(0, p[i]! - s / n);
  }
  return out;
}

/** Best shift of comb inside signal (signal is longer by 2·range) by normalised correlation. */
function bestShift(signal: Float64Array, comb: Float64Array, range: number): { shift: number; ncc: number } {
  let best = { shift: 0, ncc: -1 };
  const n = comb.length;
  let cm = 0;
  for (let i = 0; i < n; i++) cm += comb[i]!;
  cm /= n;
  let cv2 = 0;
  for (let i = 0; i < n; i++) cv2 += (comb[i]! - cm) ** 2;
  for (let s = 0; s <= 2 * range; s++) {
    let sm = 0;
    for (let i = 0; i < n; i++) sm += signal[s + i] ?? 0;
    sm /= n;
    let num = 0;
    let sv2 = 0;
    for (let i = 0; i < n; i++) {
      const a = (signal[s + i] ?? 0) - sm;
      num += a * (comb[i]! - cm);
      sv2 += a * a;
    }
    const ncc = sv2 > 0 && cv2 > 0 ? num / Math.sqrt(sv2 * cv2) : -1;
    // Prefer the smaller displacement among near-equal peaks (a comb is periodic).
    if (ncc > best.ncc + 1e-6 || (Math.abs(ncc - best.ncc) <= 1e-6 && Math.abs(s - range) < Math.abs(best.shift))) best = { shift: s - range, ncc };
  }
  return best;
}

export function cutFields(cv: Cv, gray: Mat, mmToImage: H3, template: FormTemplate, pxPerMm: number): CutField[] {
  const P = pxPerMm;
  const lineMm = template.boxLineMm ?? 0.4;
  const range = Math.round(SEARCH_MM * P);
  const found: { field: FieldSpec; patch: Mat; x0: number; y0: number; dx: number; dy: number; score: number }[] = [];
  for (const field of template.fields) {
    const bb = bboxOf(field.boxes);
    const x0 = Math.floor(bb.x * P) - range;
    const y0 = Math.floor(bb.y * P) - range;
    const w = Math.ceil(bb.w * P) + 2 * range;
    const h = Math.ceil(bb.h * P) + 2 * range;
    const patch = warpRegion(cv, gray, mmToImage, P, x0, y0, w, h);
    const px = patch.getData();
    // Column profile over the boxes' rows, row profile over the boxes' columns (± search).
    const col = new Float64Array(w);
    const row = new Float64Array(h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d = 255 - px[y * w + x]!;
        col[x]! += d;
        row[y]! += d;
      }
    }
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
    const combX = combProfile(Math.ceil(bb.w * P), vLines);
    const combY = combProfile(Math.ceil(bb.h * P), hLines);
    const sx = bestShift(tophat(col, 2 * P), combX, range);
    const sy = bestShift(tophat(row, 2 * P), combY, range);
    found.push({ field, patch, x0, y0, dx: sx.shift, dy: sy.shift, score: Math.min(sx.ncc, sy.ncc) });
  }
  // Fields whose outline was not found borrow the median offset of the located ones: paper
  // deformation is smooth, and a field full of ink can hide its own outline.
  const good = found.filter((f) => f.score >= MIN_LOCATED_SCORE);
  const med = (a: number[]) => (a.length ? [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]! : 0);
  const out: CutField[] = [];
  for (const f of found) {
    let { dx, dy } = f;
    const located = f.score >= MIN_LOCATED_SCORE;
    if (!located) {
      const near = [...good]
        .sort((a, b) => dist(a.field, f.field) - dist(b.field, f.field))
        .slice(0, 4);
      dx = med(near.map((n) => n.dx));
      dy = med(near.map((n) => n.dy));
    }
    const boxes: GrayImage[] = [];
    const roi: CutField['roi'] = [];
    const inset = Math.round((lineMm + 0.35) * P);
    for (const b of f.field.boxes) {
      const rx = Math.round(b.x * P) + dx;
      const ry = Math.round(b.y * P) + dy;
      const rw = Math.round(b.w * P);
      const rh = Math.round(b.h * P);
      roi.push([rx, ry, rw, rh]);
      const cx = rx + inset - f.x0;
      const cy = ry + inset - f.y0;
      const cw = rw - 2 * inset;
      const ch = rh - 2 * inset;
      const crop = f.patch.getRegion(new cv.Rect(clamp(cx, 0, f.patch.cols - cw), clamp(cy, 0, f.patch.rows - ch), cw, ch)).copy();
      boxes.push({ data: new Uint8Array(crop.getData()), width: cw, height: ch, channels: 1 });
    }
    out.push({ key: f.field.key, dx, dy, score: f.score, located, boxes, roi });
  }
  return out;
}

function dist(a: FieldSpec, b: FieldSpec): number {
  return Math.hypot(a.boxes[0]!.x - b.boxes[0]!.x, a.boxes[0]!.y - b.boxes[0]!.y);
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
