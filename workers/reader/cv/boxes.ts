/**
 * Per-field alignment and box cutting. The fiducial homography places the page to about a
 * millimetre; paper is not flat (folds, curl), so each field's group of boxes is located again in
 * its own neighbourhood before its boxes are cut. Locating uses 1-D profiles: in the warped frame the
 * printed box outlines are axis-aligned, so a column-darkness profile shows the vertical edges as a
 * comb and a row profile shows the horizontal edges; correlating each with the comb the template
 * predicts gives the x and y offsets and a normalised score (how much this looks like the printed
 * boxes at all). That costs microseconds where 2-D template matching per field costs milliseconds.
 *
 * A sheet that is bowed or curled is no homography: the middle of the page can sit 5 mm or more from
 * where the corners put it, beyond a field's own ±2.5 mm search, and each row of boxes tilts. So a
 * field's offset is checked against the plane its located neighbours predict (smoothOffsets), a field
 * that is off or not found is looked for again around that prediction, and (where fields sit away from
 * the homography) each box's own edges nudge its cut by up to 0.6 mm and tilt it with its row
 * (nudgeBox, rowTilt).
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

/** One search for a field's box group: the patch warped around (cx, cy) and the offset found in it. */
interface Located {
  field: FieldSpec;
  px: Uint8Array;
  pw: number;
  ph: number;
  x0: number;
  y0: number;
  /** The search's centre and the offset found (warped-frame px from where the homography puts the field). */
  cx: number;
  cy: number;
  dx: number;
  dy: number;
  score: number;
  /** The field's centre on the page (mm). */
  at: { x: number; y: number };
}

function centreOf(field: FieldSpec): { x: number; y: number } {
  const bb = bboxOf(field.boxes);
  return { x: bb.x + bb.w / 2, y: bb.y + bb.h / 2 };
}

/** Located neighbours a prediction is made from, nearest first. */
const PREDICT_NEIGHBOURS = 8;
/**
 * A neighbour further than this (mm) from the neighbours' median offset is a comb locked on the
 * wrong line (a box pitch or a row away), not paper deformation: between nearby fields a bow moves
 * the print by a millimetre or two at most.
 */
const PREDICT_OUTLIER_MM = 2;
/** Ridge on the offset's slopes, as a length (mm): neighbours spread less than this barely tilt it. */
const PREDICT_RIDGE_MM = 5;
/** A comb peak at its window's edge is followed only when it is this much like the printed boxes (junk placements peak anywhere). */
const WALK_MIN_SCORE = 0.3;
/** A comb score this high is the field's own printed outline, not a line beside it (flat bench pages score ~0.8+). */
const STRONG_LOCATED_SCORE = 0.75;
/** Rounds of re-searching: each lets a located field help the next ones towards the middle of a bow. */
const MAX_SMOOTH_ROUNDS = 6;

/**
 * The offset its located neighbours predict at `at`: a least-squares plane through their
 * offsets (intercept at `at`, slopes shrunk by a ridge), after dropping those far from their median.
 * A plane, not the median: on a bowed or curled sheet the offsets change steadily across the page, so
 * the median of a field's neighbours lags behind it, the more the nearer the bow's crest.
 * Null with fewer than three neighbours.
 */
export function predictOffset(
  at: { x: number; y: number },
  pool: { at: { x: number; y: number }; dx: number; dy: number }[],
  pxPerMm: number,
): { dx: number; dy: number } | null {
  const near = pool
    .map((n) => ({ n, d: Math.hypot(n.at.x - at.x, n.at.y - at.y) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, PREDICT_NEIGHBOURS)
    .map((e) => e.n);
  return predictFromNearest(at, near, pxPerMm);
}

/** predictOffset from the nearest neighbours, already chosen (at most PREDICT_NEIGHBOURS, nearest first). */
function predictFromNearest(
  at: { x: number; y: number },
  near: { at: { x: number; y: number }; dx: number; dy: number }[],
  pxPerMm: number,
): { dx: number; dy: number } | null {
  if (near.length < 3) return null;
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  const mx = med(near.map((n) => n.dx));
  const my = med(near.map((n) => n.dy));
  const lim = PREDICT_OUTLIER_MM * pxPerMm;
  const kept = near.filter((n) => Math.abs(n.dx - mx) <= lim && Math.abs(n.dy - my) <= lim);
  if (kept.length < 3) return { dx: mx, dy: my };
  // Normal equations for [1, u, v] (u, v: mm from `at`), ridge on the slopes only.
  const ridge = kept.length * PREDICT_RIDGE_MM * PREDICT_RIDGE_MM;
  const A = [
    [0, 0, 0],
    [0, ridge, 0],
    [0, 0, ridge],
  ];
  const bx = [0, 0, 0];
  const by = [0, 0, 0];
  for (const n of kept) {
    const r = [1, n.at.x - at.x, n.at.y - at.y];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) A[i]![j]! += r[i]! * r[j]!;
      bx[i]! += r[i]! * n.dx;
      by[i]! += r[i]! * n.dy;
    }
  }
  const sx = solve3(A, bx);
  const sy = solve3(A, by);
  return sx && sy ? { dx: sx[0]!, dy: sy[0]! } : { dx: mx, dy: my };
}

/** Cramer's rule for a 3 × 3 system; null when it is (near) singular. */
function solve3(A: number[][], b: number[]): number[] | null {
  const det = (m: number[][]) =>
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
    m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
    m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const d = det(A);
  if (!Number.isFinite(d) || Math.abs(d) < 1e-9) return null;
  return [0, 1, 2].map((k) => det(A.map((row, i) => row.map((v, j) => (j === k ? b[i]! : v)))) / d);
}

/**
 * Each field's final offset. A field keeps its own when it agrees (within `tolerance` px) with what
 * its located neighbours predict (predictOffset). One that does not, or was not located, is looked for
 * again around the prediction when that moves its search window: paper that is bowed or curled moves
 * the middle of the page several millimetres from where the corners' homography puts it, beyond the
 * first ±2.5 mm search, while each field is still within a millimetre or two of its neighbours. Fields
 * located near the corners predict their neighbours, which once located predict theirs, towards the
 * crest. What still disagrees takes the prediction and is marked not located.
 */
function smoothOffsets(
  found: Located[],
  relocate: (f: Located, cx: number, cy: number) => Located,
  tolerance: number,
  pxPerMm: number,
): { f: Located; dx: number; dy: number; located: boolean }[] {
  const cur = found.slice();
  // good[i]: field i's own offset is trusted as evidence for its neighbours.
  const good = cur.map((f) => f.score >= MIN_LOCATED_SCORE);
  // Within `tolerance` of the prediction; or, for a field whose own outline the comb found clearly, within
  // the 2 mm a bow moves the print between nearby fields: where the bow is steepest (a sheet bowed
  // sideways by 2%: the top of the administrasi page, a perolehan page's paslon rows) the plane through
  // the fields located so far misses by 8–11 px, and a strongly located field taking the plane's offset
  // instead of its own is cut over a millimetre off, with a box line inside its boxes (session 11).
  const lim = PREDICT_OUTLIER_MM * pxPerMm;
  const agrees = (f: Located, p: { dx: number; dy: number }) => {
    const ex = Math.abs(f.dx - p.dx);
    const ey = Math.abs(f.dy - p.dy);
    return (ex <= tolerance && ey <= tolerance) || (f.score >= STRONG_LOCATED_SCORE && ex <= lim && ey <= lim);
  };
  // The other fields, nearest first (the layout is fixed: sorted once per page).
  const order = cur.map((f, i) =>
    cur
      .map((g, j) => ({ j, d: Math.hypot(g.at.x - f.at.x, g.at.y - f.at.y) }))
      .filter((e) => e.j !== i)
      .sort((a, b) => a.d - b.d)
      .map((e) => e.j),
  );
  const predict = (i: number) => {
    const near: Located[] = [];
    for (const j of order[i]!) {
      if (good[j]) near.push(cur[j]!);
      if (near.length === PREDICT_NEIGHBOURS) break;
    }
    return predictFromNearest(cur[i]!.at, near, pxPerMm);
  };
  // A placement that is simply wrong (a false checker, another page) leaves most fields unlocated and
  // would re-search them round after round: a bow needs about one new search per field.
  let budget = cur.length;
  let preds = cur.map((_, i) => predict(i));
  for (let round = 0; round < MAX_SMOOTH_ROUNDS; round++) {
    let changed = false;
    cur.forEach((f, i) => {
      const p = preds[i];
      if (!p || (good[i] && agrees(f, p))) return;
      const cx = Math.round(p.dx);
      const cy = Math.round(p.dy);
      if (Math.abs(cx - f.cx) > tolerance || Math.abs(cy - f.cy) > tolerance) {
        if (budget <= 0) return;
        budget--;
        const again = relocate(f, cx, cy);
        cur[i] = again;
        const ok = again.score >= MIN_LOCATED_SCORE && agrees(again, p);
        if (ok !== good[i] || ok) changed = true;
        good[i] = ok;
      } else if (good[i]) {
        good[i] = false;
        changed = true;
      }
    });
    if (!changed) break;
    preds = cur.map((_, i) => predict(i));
  }
  return cur.map((f, i) => {
    const p = preds[i];
    if (good[i] && (!p || agrees(f, p))) return { f, dx: f.dx, dy: f.dy, located: true };
    if (p) {
      const dx = Math.round(p.dx);
      const dy = Math.round(p.dy);
      // The boxes are cut from the patch: it must be the one warped around where they are cut (past
      // the budget the placement is junk: its cut is clamped to the patch and the field scores low).
      if ((Math.abs(dx - f.cx) > tolerance || Math.abs(dy - f.cy) > tolerance) && budget-- > 0) {
        f = relocate(f, dx, dy);
        if (f.score >= MIN_LOCATED_SCORE && agrees(f, p)) return { f, dx: f.dx, dy: f.dy, located: true };
      }
      return { f, dx, dy, located: false };
    }
    // Fewer than three located neighbours: the median of those there are, else the field's own.
    const near = order[i]!.filter((j) => good[j]).map((j) => cur[j]!);
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    if (!near.length) return { f, dx: f.dx, dy: f.dy, located: good[i]! };
    return good[i] ? { f, dx: f.dx, dy: f.dy, located: true } : { f, dx: med(near.map((n) => n.dx)), dy: med(near.map((n) => n.dy)), located: false };
  });
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
  /**
   * The field's box group looked for ±range around (cx, cy), an offset in warped-frame px from where
   * the homography puts it. The patch it cuts from is the one warped around that centre.
   */
  const locate = (field: FieldSpec, cx: number, cy: number): Located => {
    const bb = bboxOf(field.boxes);
    const x0 = Math.floor(bb.x * P) - range + cx;
    const y0 = Math.floor(bb.y * P) - range + cy;
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
      // Comb positions are relative to the window at shift 0, i.e. range before the search's centre.
      const bx = b.x * P - (x0 - cx + range);
      vLines.push([bx, bx + lw], [bx + b.w * P - lw, bx + b.w * P]);
    }
    const by = field.boxes[0]!.y * P - (y0 - cy + range);
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
      const cx2 = bestShift(sTop, nx, combRuns(nx, grow(vLines)), range);
      const cy2 = bestShift(rTop, ny, combRuns(ny, grow(hLines)), range);
      if (cx2.ncc > sx.ncc) sx = cx2;
      if (cy2.ncc > sy.ncc) sy = cy2;
    }
    return { field, px, pw: w, ph: h, x0, y0, cx, cy, dx: cx + sx.shift, dy: cy + sy.shift, score: Math.min(sx.ncc, sy.ncc), at: centreOf(field) };
  };
  // A comb peak at the very edge of the window is a slope, not a peak: the outline is further on (a
  // bowed sheet's crest). Walk the window there, twice at most.
  const walk = (field: FieldSpec, cx: number, cy: number): Located => {
    let f = locate(field, cx, cy);
    for (let step = 0; step < 2 && f.score >= WALK_MIN_SCORE && (Math.abs(f.dx - f.cx) >= range - 1 || Math.abs(f.dy - f.cy) >= range - 1); step++) {
      const next = locate(field, f.dx, f.dy);
      if (next.score < f.score) break;
      f = next;
    }
    return f;
  };
  const found = template.fields.map((field) => walk(field, 0, 0));
  const tolerance = Math.max(2, Math.round(lineMm * P * 1.5));
  // Each field's final offset: its own, when it agrees with what its located neighbours predict;
  // else the prediction (a field full of ink can hide its own outline; a blurred double edge can
  // make the comb peak twice). See smoothOffsets.
  const final = opts.keepOwnOffsets
    ? found.map((f) => ({ f, dx: f.dx, dy: f.dy, located: f.score >= MIN_LOCATED_SCORE }))
    : smoothOffsets(found, (f, cx, cy) => walk(f.field, cx, cy), tolerance, P);
  // Boxes are nudged one by one only where the page is not where its homography puts it: a bow or a
  // curl moves fields by several pixels (and tilts their rows, even where a column of fields moves as
  // one); on a flat page placed from its four checkers every field sits within a pixel of it (60 of
  // 60 bench photos), and each box's own search would cost ~1.5 ms a page for nothing.
  const nudgeBoxes = !opts.keepOwnOffsets && final.some((x) => x.located && (Math.abs(x.dx) > NUDGE_FROM_PX || Math.abs(x.dy) > NUDGE_FROM_PX));
  // Each field's patch as the fold finder sees it (findCreases needs every field first).
  const placed = final.map(({ f, dx, dy, located }) => {
    // The box group's rectangle in the patch.
    const group: [number, number, number, number] = [
      Math.min(...f.field.boxes.map((b) => Math.round(b.x * P) + dx)) - f.x0,
      Math.min(...f.field.boxes.map((b) => Math.round(b.y * P) + dy)) - f.y0,
      Math.max(...f.field.boxes.map((b) => Math.round((b.x + b.w) * P) + dx)) - f.x0,
      Math.max(...f.field.boxes.map((b) => Math.round((b.y + b.h) * P) + dy)) - f.y0,
    ];
    // Where the printed vertical outlines run (patch px): their blurred flanks are faint lines too.
    const outlineX = f.field.boxes.flatMap((b) => [Math.round(b.x * P) + dx - f.x0, Math.round((b.x + b.w) * P) + dx - f.x0]);
    return { f, dx, dy, located, patch: { px: f.px, w: f.pw, h: f.ph, x0: f.x0, y0: f.y0, group, outlineX } as CreasePatch };
  });
  const creases = findCreases(placed.map((p) => p.patch), Math.ceil(lineMm * P) + 1);
  const out: CutField[] = [];
  placed.forEach(({ f, dx, dy, located }, k) => {
    const crease = creases[k];
    const boxes: GrayImage[] = [];
    const roi: CutField['roi'] = [];
    // Just past the printed outline: strokes that touch the box edge (the bar of a 7) keep their ends.
    const inset = Math.round((lineMm + INSET_MM) * P);
    const nudges = f.field.boxes.map((b) => !nudgeBoxes ? { x: 0, y: 0, okY: false } : nudgeBox(f, Math.round(b.x * P) + dx, Math.round(b.y * P) + dy, Math.round(b.w * P), Math.round(b.h * P), lineMm * P, P));
    // The row's tilt (rows per column) from the boxes whose own top and bottom edges were found: on a
    // bowed sheet a box's edges slope too, by up to half a millimetre across it at a 1.5% bow.
    const centres = f.field.boxes.map((b, k) => ({ x: (b.x + b.w / 2) * P, y: nudges[k]!.y, ok: nudges[k]!.okY }));
    const tilt = rowTilt(centres, f.field.boxes[0]!.w * P);
    // A box whose own edges did not show (ink over them, a table rule beside it) sits on its row's line.
    const ok = centres.filter((c) => c.ok);
    if (tilt !== 0) {
      const mx = ok.reduce((a, c) => a + c.x, 0) / ok.length;
      const my = ok.reduce((a, c) => a + c.y, 0) / ok.length;
      centres.forEach((c, k) => {
        if (!c.ok) nudges[k]!.y = Math.round(my + tilt * (c.x - mx));
      });
    }
    const cut = (b: RectMm, insetPx: number, k: number): GrayImage => {
      const rx = Math.round(b.x * P) + dx + nudges[k]!.x;
      const ry = Math.round(b.y * P) + dy + nudges[k]!.y;
      const rw = Math.round(b.w * P);
      const rh = Math.round(b.h * P);
      const cw = Math.max(4, rw - 2 * insetPx);
      const ch = Math.max(4, rh - 2 * insetPx);
      const sx0 = clamp(rx + insetPx - f.x0, 0, f.pw - cw);
      const sy0 = clamp(ry + insetPx - f.y0, 0, f.ph - ch);
      const data = new Uint8Array(cw * ch);
      if (tilt === 0) {
        for (let y = 0; y < ch; y++) data.set(f.px.subarray((sy0 + y) * f.pw + sx0, (sy0 + y) * f.pw + sx0 + cw), y * cw);
      } else {
        // Each column read from rows shifted by the tilt about the box's centre (its nudge is its mean).
        for (let x = 0; x < cw; x++) {
          const sh = Math.round(tilt * (x - (cw - 1) / 2));
          for (let y = 0; y < ch; y++) data[y * cw + x] = f.px[clamp(sy0 + y + sh, 0, f.ph - 1) * f.pw + sx0 + x]!;
        }
      }
      if (crease) liftCreases(data, cw, ch, sx0, sy0, crease);
      const levels = greyLevels(data);
      eraseEdgeLines(data, cw, ch, levels);
      return padWithPaper(data, cw, ch, PAD_SHARE, levels.paper);
    };
    f.field.boxes.forEach((b, k) => {
      roi.push([Math.round(b.x * P) + dx + nudges[k]!.x, Math.round(b.y * P) + dy + nudges[k]!.y, Math.round(b.w * P), Math.round(b.h * P)]);
      boxes.push(cut(b, inset, k));
    });
    const recut = (box: number, insetDeltaPx: number) => cut(f.field.boxes[box]!, Math.max(0, inset + insetDeltaPx), box);
    out.push({ key: f.field.key, dx, dy, score: f.score, located, boxes, roi, recut });
  });
  return out;
}

/** How far (mm) one box's own outline may sit from its field's: a bow or curl tilts a row of boxes. */
const BOX_NUDGE_MM = 0.6;
/** A field further than this (px) from where the homography puts it: the sheet is not flat, and boxes are nudged. */
const NUDGE_FROM_PX = 2;
/** The comb score a box's own edges need before its cut moves (its field's offset scored ≥ 0.45 over all its boxes). */
const BOX_NUDGE_SCORE = 0.6;

/**
 * One box's own outline near where its field's offset puts it, as [x, y] px to add. A field's offset is
 * one shift for its whole row of boxes; on a sheet that is not flat the row is tilted or bent, and its
 * end boxes are then cut a few tenths of a millimetre off, with a strip of printed line inside. Each
 * axis moves only when the box's own two edges show (their comb scores well); else it stays.
 */
function nudgeBox(f: Located, rx: number, ry: number, rw: number, rh: number, lineW: number, P: number): { x: number; y: number; okY: boolean } {
  const margin = Math.round(P); // keep the other axis' lines (and the corners) out of a profile
  const lx = rx - f.x0;
  const ly = ry - f.y0;
  // As far as the patch allows on both sides (a field found near its window's edge has less room).
  const want = Math.max(1, Math.round(BOX_NUDGE_MM * P));
  const rX = Math.min(want, lx, f.pw - lx - rw);
  const rY = Math.min(want, ly, f.ph - ly - rh);
  if (rw <= 2 * margin || rh <= 2 * margin || lx < 0 || ly < 0 || lx + rw > f.pw || ly + rh > f.ph) return { x: 0, y: 0, okY: false };
  const edges = (n: number): [number, number][] => [
    [0, lineW],
    [n - lineW, n],
  ];
  const best = (profile: Float64Array, n: number, r: number) => {
    const pre = prefixSums(tophat(profile, 2 * P));
    let b = { shift: 0, ncc: -1 };
    for (const widen of [0, 1, 2]) {
      const c = bestShift(pre, n, combRuns(n, edges(n).map(([a, e]) => [a - widen, e + widen] as [number, number])), r);
      if (c.ncc > b.ncc) b = c;
    }
    return b.ncc >= BOX_NUDGE_SCORE ? b.shift : null;
  };
  let x: number | null = null;
  let y: number | null = null;
  if (rX >= 1) {
    const col = new Float64Array(rw + 2 * rX);
    for (let yy = ly + margin; yy < ly + rh - margin; yy++) {
      const o = yy * f.pw + lx - rX;
      for (let i = 0; i < col.length; i++) col[i]! += 255 - f.px[o + i]!;
    }
    x = best(col, rw, rX);
  }
  if (rY >= 1) {
    const row = new Float64Array(rh + 2 * rY);
    for (let i = 0; i < row.length; i++) {
      const o = (ly - rY + i) * f.pw + lx + margin;
      let sum = 0;
      for (let xx = 0; xx < rw - 2 * margin; xx++) sum += 255 - f.px[o + xx]!;
      row[i] = sum;
    }
    y = best(row, rh, rY);
  }
  return { x: x ?? 0, y: y ?? 0, okY: y !== null };
}

/** Steepest row tilt believed (rows per column): ~6° — more is a comb locked on something else. */
const MAX_TILT = 0.1;

/**
 * A field's row tilt: the least-squares slope of its boxes' own vertical offsets against their
 * centres, from at least two boxes whose edges were found; 0 when under a pixel across a box.
 */
function rowTilt(boxes: { x: number; y: number; ok: boolean }[], boxWidth: number): number {
  const ok = boxes.filter((b) => b.ok);
  if (ok.length < 2) return 0;
  const mx = ok.reduce((a, b) => a + b.x, 0) / ok.length;
  const my = ok.reduce((a, b) => a + b.y, 0) / ok.length;
  let sxx = 0;
  let sxy = 0;
  for (const b of ok) {
    sxx += (b.x - mx) ** 2;
    sxy += (b.x - mx) * (b.y - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  // Under a pixel across one box is the nudges' own rounding (a flat row reads 0, 0, 1), not a tilt.
  return Math.abs(slope) > MAX_TILT || Math.abs(slope) * boxWidth < 1 ? 0 : slope;
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
  const bandX = Math.max(1, Math.round(w * 0.1));
  const bandY = Math.max(1, Math.round(h * 0.1));
  // A blank box's whole band is paper now: the line pass below would find nothing in it.
  if (eraseFlanks(data, w, h, bandX, bandY, paper)) return;
  if (paper - ink < 40) return; // nothing dark enough to be a line
  const dark = paper - (paper - ink) * 0.45;
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

/** Darker than the paper by this many grey levels (after flattenPaper) is ink, not grain. */
const INK_DARKNESS = 40;
/** An interior with at most this share of such pixels (JPEG specks, dust) holds no writing. */
const BLANK_INTERIOR_SHARE = 0.004;

/**
 * A box with nothing written in its interior is blank: whatever is left in the outer 10% band along
 * its sides is the printed outline's flank, and is whitened. A line blurred by the lens, bled by the
 * printer or bent with the sheet is wider than the template's; the cut starts just past its core, and
 * what is left is a pale strip along a side. In a box with no writing that strip is all there is, and
 * the digit normaliser stretches the crop's contrast into a stroke: on a sheet bowed sideways blank
 * leading boxes read "1" at p 0.98 (DECODER §10, session 11). A written box is left alone: its ink
 * sets the contrast, and a stroke near the edge (the bar of a 7, a blocky 3) is writing. True when
 * the band was cleared.
 */
function eraseFlanks(data: Uint8Array, w: number, h: number, bandX: number, bandY: number, paper: number): boolean {
  const ink = paper - INK_DARKNESS;
  let inked = 0;
  for (let y = bandY; y < h - bandY; y++) for (let x = bandX; x < w - bandX; x++) if (data[y * w + x]! < ink) inked++;
  if (inked > BLANK_INTERIOR_SHARE * (w - 2 * bandX) * (h - 2 * bandY)) return false;
  for (let y = 0; y < h; y++) {
    if (y < bandY || y >= h - bandY) data.fill(paper, y * w, (y + 1) * w);
    else {
      data.fill(paper, y * w, y * w + bandX);
      data.fill(paper, (y + 1) * w - bandX, (y + 1) * w);
    }
  }
  return true;
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
