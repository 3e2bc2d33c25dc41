/**
 * The sheet's outline: the fallback page finder for photos in which fewer than three corner
 * checkerboards can be seen (two corners under the fingers holding the form, glare on a laminated
 * desk, a checker printed faint). The paper is the largest bright region of the photo; its convex
 * hull, simplified to a polygon, has four long sides. A corner hidden by a thumb only cuts a short
 * side off the polygon, so the sheet's corners are taken where the four longest sides' lines meet,
 * not from the polygon's vertices.
 *
 * The outline is good to about a millimetre (the paper's edge is soft in a photo, and a sheet is not
 * perfectly flat), so it is only a starting point: page.ts looks for the checkers again where the
 * outline puts them, reads the page mark (which tolerates ±1 cell, 2.5 mm), and fits the final
 * homography to the checkers it found plus the located fields.
 */
import type { Cv, Mat } from './opencv.js';
import { WORK_LONG_SIDE, workFactor, type Pt } from './fiducials.js';

/** A sheet outline in photo pixels: four corners in clockwise order on screen (y down). */
export type Quad = [Pt, Pt, Pt, Pt];

/** The sheet must cover at least this share of the photo to be looked for by its outline. */
const MIN_AREA_SHARE = 0.12;
/** Hull simplification tolerance (approxPolyDP's epsilon), as a share of the hull's perimeter. */
const SIMPLIFY = 0.012;

/**
 * Candidate sheet outlines in photo pixels, largest first (at most `limit`). Empty when nothing in
 * the photo looks like a sheet lying fully inside the frame: an outline that runs along the photo's
 * edge is the frame, not the paper, and is left out (a cut-off page is rejected elsewhere, with its
 * own reason).
 */
export function findSheetOutlines(cv: Cv, gray: Mat, limit = 2): Quad[] {
  const factor = workFactor(Math.max(gray.rows, gray.cols), WORK_LONG_SIDE);
  const k = Math.round(1 / factor);
  // An integer shrink on a whole number of blocks keeps INTER_AREA on its fast path (fiducials.ts).
  const wk = Math.floor(gray.cols / k);
  const hk = Math.floor(gray.rows / k);
  const whole = k > 1 && (wk * k !== gray.cols || hk * k !== gray.rows) ? gray.getRegion(new cv.Rect(0, 0, wk * k, hk * k)) : gray;
  const small = k > 1 ? whole.resize(hk, wk, 0, 0, cv.INTER_AREA) : gray;
  // Blur away the print (text, box lines) so the sheet is one bright region, then split paper from
  // background at Otsu's level, and close the gaps a dark checker or a ruled line leaves at the edge.
  const blurred = small.gaussianBlur(new cv.Size(0, 0), 2);
  const mask = blurred
    .threshold(0, 255, cv.THRESH_BINARY | cv.THRESH_OTSU)
    .morphologyEx(cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(7, 7)), cv.MORPH_CLOSE);
  const contours = mask.findContours(cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE);
  const minArea = MIN_AREA_SHARE * wk * hk;
  const out: { quad: Quad; area: number }[] = [];
  for (const c of contours) {
    if (c.area < minArea) continue;
    const hull = c.convexHull();
    const poly = hull.approxPolyDP(SIMPLIFY * hull.arcLength(true), true).map((p) => ({ x: p.x, y: p.y }));
    const quad = quadOfPolygon(poly, wk, hk);
    if (!quad) continue;
    out.push({ quad: quad.map((p) => ({ x: (p.x + 0.5) * k - 0.5, y: (p.y + 0.5) * k - 0.5 })) as Quad, area: c.area });
  }
  out.sort((a, b) => b.area - a.area);
  return out.slice(0, limit).map((o) => o.quad);
}

/**
 * Four corners from the simplified hull of a bright region (its vertices in order, either way round):
 * keep the four longest sides and meet their lines. Null when it is not a plausible sheet in the
 * frame: fewer than four sides, a vertex on the image border, four sides that do not carry the
 * outline, a corner far outside the image, or a shape that is not convex.
 */
export function quadOfPolygon(polygon: Pt[], w: number, h: number): Quad | null {
  if (polygon.length < 4) return null;
  // Clockwise on screen (y down), the order of the template's corners TL, TR, BR, BL.
  let twiceArea = 0;
  for (let i = 0; i < polygon.length; i++) {
    const p = polygon[i]!;
    const q = polygon[(i + 1) % polygon.length]!;
    twiceArea += p.x * q.y - q.x * p.y;
  }
  const poly = twiceArea > 0 ? polygon : [...polygon].reverse();
  let perimeter = 0;
  for (let i = 0; i < poly.length; i++) perimeter += dist(poly[i]!, poly[(i + 1) % poly.length]!);
  // The region must lie inside the frame: where it touches the photo's edge, the page runs out of the
  // photo (or the light splits it there), and its outline is the frame's, not the sheet's.
  if (poly.some((p) => p.x <= 2 || p.y <= 2 || p.x >= w - 3 || p.y >= h - 3)) return null;
  const sides = poly.map((p, i) => ({ a: p, b: poly[(i + 1) % poly.length]!, i }));
  const longest = [...sides].sort((s, t) => dist(t.a, t.b) - dist(s.a, s.b)).slice(0, 4).sort((s, t) => s.i - t.i);
  // The four kept sides must carry the outline: a round or ragged blob has no four dominant sides.
  const kept = longest.reduce((sum, s) => sum + dist(s.a, s.b), 0);
  if (kept < 0.8 * perimeter) return null;
  const corners: Pt[] = [];
  for (let j = 0; j < 4; j++) {
    const p = meet(longest[(j + 3) % 4]!, longest[j]!);
    if (!p) return null;
    if (p.x < -0.1 * w || p.y < -0.1 * h || p.x > 1.1 * w || p.y > 1.1 * h) return null;
    corners.push(p);
  }
  for (let j = 0; j < 4; j++) {
    const [o, p, q] = [corners[j]!, corners[(j + 1) % 4]!, corners[(j + 2) % 4]!];
    if ((p.x - o.x) * (q.y - p.y) - (p.y - o.y) * (q.x - p.x) <= 0) return null;
  }
  return corners as Quad;
}

const dist = (p: Pt, q: Pt) => Math.hypot(q.x - p.x, q.y - p.y);

/** Intersection of the lines through two sides (null when nearly parallel). */
function meet(s: { a: Pt; b: Pt }, t: { a: Pt; b: Pt }): Pt | null {
  const d1 = { x: s.b.x - s.a.x, y: s.b.y - s.a.y };
  const d2 = { x: t.b.x - t.a.x, y: t.b.y - t.a.y };
  const den = d1.x * d2.y - d1.y * d2.x;
  if (Math.abs(den) < 1e-6 * Math.hypot(d1.x, d1.y) * Math.hypot(d2.x, d2.y) + 1e-12) return null;
  const u = ((t.a.x - s.a.x) * d2.y - (t.a.y - s.a.y) * d2.x) / den;
  return { x: s.a.x + u * d1.x, y: s.a.y + u * d1.y };
}
