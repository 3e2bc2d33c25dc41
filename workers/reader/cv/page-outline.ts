/**
 * The sheet's outline: the fallback page finder for photos in which fewer than three corner
 * checkerboards can be seen (two corners under the fingers holding the form, glare on a laminated
 * desk, a checker printed faint). The paper is a large bright region of the photo, looked for at a
 * few grey levels; its outline, simplified to a polygon, has four long straight sides. A finger over
 * a corner only adds short sides (a bite, or a bulge where the finger is as light as the paper), so
 * the sheet's corners are taken where the four longest sides' lines meet, each line refitted to the
 * outline's points, not from the polygon's vertices.
 *
 * The outline is good to about a millimetre (the paper's edge is soft in a photo, and a sheet is not
 * perfectly flat), so it is only a starting point: page.ts looks for the checkers again where the
 * outline puts them, reads the page mark (which tolerates ±1 cell, 2.5 mm), and fits the final
 * homography to the checkers it found plus the located fields.
 */
import type { Cv, Mat } from './opencv.js';
import { shrinkToWork, type Pt } from './fiducials.js';

/** A sheet outline in photo pixels: four corners in clockwise order on screen (y down). */
export type Quad = [Pt, Pt, Pt, Pt];

/** The sheet must cover at least this share of the photo to be looked for by its outline. */
const MIN_AREA_SHARE = 0.12;
/** Outline simplification tolerance (approxPolyDP's epsilon), as a share of its perimeter. */
const SIMPLIFY = 0.004;
/** The four sides kept must make up at least this share of the outline (the rest: fingers, bites). */
const SIDES_SHARE = 0.5;

/**
 * Candidate sheet outlines in photo pixels (at most `limit`), those at Otsu's level first. Empty when nothing in
 * the photo looks like a sheet lying fully inside the frame: an outline that runs along the photo's
 * edge is the frame, not the paper, and is left out (a cut-off page is rejected elsewhere, with its
 * own reason).
 */
export function findSheetOutlines(cv: Cv, gray: Mat, limit = 4): Quad[] {
  const { img: small, factor } = shrinkToWork(cv, gray);
  const k = Math.round(1 / factor);
  const wk = small.cols;
  const hk = small.rows;
  // Blur away the print (text, box lines) so that the sheet is one bright region.
  const blurred = small.gaussianBlur(new cv.Size(0, 0), 2);
  if (small !== gray) small.release();
  const close = cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(7, 7));
  const minArea = MIN_AREA_SHARE * wk * hk;
  const found: { quad: Quad; area: number }[] = [];
  const near = (a: Quad, b: Quad) => a.every((p, i) => Math.hypot(p.x - b[i]!.x, p.y - b[i]!.y) < 0.02 * Math.max(wk, hk));
  // Paper against background at several grey levels: Otsu's first, then lower ones (a shadow over
  // part of the sheet puts that part below Otsu's level) and a higher one (a bright desk or fingers as
  // light as the paper). The page mark decides between the outlines found.
  for (const level of sheetLevels(blurred.getData(), wk * hk)) {
    const mask = blurred.threshold(level, 255, cv.THRESH_BINARY).morphologyEx(close, cv.MORPH_CLOSE);
    for (const c of mask.findContours(cv.RETR_EXTERNAL, cv.CHAIN_APPROX_SIMPLE)) {
      if (c.area < minArea) continue;
      // The outline itself, not its convex hull: fingers as light as the paper join the region, and
      // a hull would run round them; the sheet's sides stay long straight runs of the outline.
      const poly = c.approxPolyDP(SIMPLIFY * c.arcLength(true), true).map((p) => ({ x: p.x, y: p.y }));
      const quad = quadOfPolygon(poly, wk, hk, c.getPoints());
      if (quad && !found.some((f) => near(f.quad, quad))) found.push({ quad, area: c.area });
    }
    if (found.length >= limit) break;
  }
  return found.slice(0, limit).map((o) => o.quad.map((p) => ({ x: (p.x + 0.5) * k - 0.5, y: (p.y + 0.5) * k - 0.5 })) as Quad);
}

/**
 * Grey levels to split paper from background at: Otsu's, two between it and the typical darker pixel
 * (the median below Otsu's level), and one between it and the typical brighter pixel.
 */
function sheetLevels(px: Uint8Array | Buffer, n: number): number[] {
  const hist = new Float64Array(256);
  for (let i = 0; i < n; i++) hist[px[i]!]!++;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) sumAll += v * hist[v]!;
  let wB = 0;
  let sumB = 0;
  let best = -1;
  let otsu = 128;
  for (let v = 0; v < 256; v++) {
    wB += hist[v]!;
    if (wB === 0 || wB === n) continue;
    sumB += v * hist[v]!;
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / (n - wB);
    const between = wB * (n - wB) * (mB - mF) ** 2;
    if (between > best) {
      best = between;
      otsu = v;
    }
  }
  const median = (from: number, to: number) => {
    let total = 0;
    for (let v = from; v < to; v++) total += hist[v]!;
    let seen = 0;
    for (let v = from; v < to; v++) if ((seen += hist[v]!) >= total / 2) return v;
    return (from + to) / 2;
  };
  const dark = median(0, otsu + 1);
  const bright = median(otsu + 1, 256);
  const levels = [otsu, otsu - (otsu - dark) / 3, otsu - (2 * (otsu - dark)) / 3, otsu + (bright - otsu) / 3].map(Math.round);
  return [...new Set(levels)];
}

/**
 * Four corners from the simplified outline of a bright region (its vertices in order, either way
 * round): keep the four longest sides and meet their lines, each line fitted to the outline's own
 * points along that side when `points` (the unsimplified outline) is given. Null when it is not a
 * plausible sheet in the frame: fewer than four sides, a vertex on the image border, four sides that
 * do not carry the outline, a corner far outside the image, or corners that are not a convex quad.
 */
export function quadOfPolygon(polygon: Pt[], w: number, h: number, points: Pt[] = []): Quad | null {
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
  const longest = [...sides]
    .sort((s, t) => dist(t.a, t.b) - dist(s.a, s.b))
    .slice(0, 4)
    .sort((s, t) => s.i - t.i)
    .map((s) => fitSide(s, points));
  // The four kept sides must carry the outline: a round or ragged blob has no four dominant sides.
  const kept = longest.reduce((sum, s) => sum + dist(s.a, s.b), 0);
  if (kept < SIDES_SHARE * perimeter) return null;
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

/**
 * A side refitted to the outline points within 2 px of it and between its ends (total least
 * squares), as a segment of the fitted line with the side's length; the side itself when too few
 * points are near. The simplified polygon's vertices can sit a pixel or two off the true edge.
 */
function fitSide(s: { a: Pt; b: Pt }, points: Pt[]): { a: Pt; b: Pt } {
  const len = dist(s.a, s.b);
  const ux = (s.b.x - s.a.x) / len;
  const uy = (s.b.y - s.a.y) / len;
  const near = points.filter((p) => {
    const t = (p.x - s.a.x) * ux + (p.y - s.a.y) * uy;
    const d = Math.abs(-(p.x - s.a.x) * uy + (p.y - s.a.y) * ux);
    return t >= 0 && t <= len && d <= 2;
  });
  if (near.length < 8) return s;
  const mx = near.reduce((sum, p) => sum + p.x, 0) / near.length;
  const my = near.reduce((sum, p) => sum + p.y, 0) / near.length;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of near) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  // Direction of the largest spread (the line), oriented like the side.
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  let dx = Math.cos(angle);
  let dy = Math.sin(angle);
  if (dx * ux + dy * uy < 0) {
    dx = -dx;
    dy = -dy;
  }
  return { a: { x: mx - (dx * len) / 2, y: my - (dy * len) / 2 }, b: { x: mx + (dx * len) / 2, y: my + (dy * len) / 2 } };
}

/** Intersection of the lines through two sides (null when nearly parallel). */
function meet(s: { a: Pt; b: Pt }, t: { a: Pt; b: Pt }): Pt | null {
  const d1 = { x: s.b.x - s.a.x, y: s.b.y - s.a.y };
  const d2 = { x: t.b.x - t.a.x, y: t.b.y - t.a.y };
  const den = d1.x * d2.y - d1.y * d2.x;
  if (Math.abs(den) < 1e-6 * Math.hypot(d1.x, d1.y) * Math.hypot(d2.x, d2.y) + 1e-12) return null;
  const u = ((t.a.x - s.a.x) * d2.y - (t.a.y - s.a.y) * d2.x) / den;
  return { x: s.a.x + u * d1.x, y: s.a.y + u * d1.y };
}
