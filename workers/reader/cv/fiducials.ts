/**
 * Finding the four corner checkerboards (2 × 2, black top-left and bottom-right) in a photo.
 *
 * Detector: a normalised checker response. At scale s, for every pixel, the four s×s quadrants around
 * it are summed with signs (+TL −TR −BL +BR) and divided by 4·s²·σ, σ being the grey-level standard
 * deviation over the 2s×2s window. A perfect checker scores ±1 whatever its contrast (shadow, dim
 * light); a single straight edge or a line crossing scores 0; the corner of a solid block scores
 * ≈ 0.58; a checker turned 15° still scores ≈ 0.75. The sign tells a checker from one turned 90°.
 * The kernel is separable, so each scale costs two 1-D filters on a ~1 MP working image.
 *
 * Selection: the strongest peaks are combined four at a time; a combination must be a convex quad
 * with plausible angles and side ratios for a page seen in perspective, and peaks whose scale agrees
 * with the quad's size. The page mark then decides which way up the page is.
 */
import type { Cv, Mat } from './opencv.js';

export interface Pt { x: number; y: number }

export interface FiducialCandidate extends Pt {
  /** Normalised checker response, signed: + upright (or 180°), − turned 90°. */
  score: number;
  /** Quadrant side (working px) of the scale that found it. */
  scale: number;
  contrast: number;
}

export interface CandidateSearch {
  candidates: FiducialCandidate[];
  /** Checker score at a working-image point for quadrant side s (0 where the window leaves the image). */
  scoreAt(x: number, y: number, s: number): number;
  /** Scale of the working image relative to the decoded photo. */
  factor: number;
}

/**
 * Long side of the fine working image: a 600 × 900 mm plano or an A4 page at this size keeps a 10 mm
 * checker ≥ 10 px. The page is first looked for at COARSE_LONG_SIDE (a page filling ≥ ~40% of the
 * photo, i.e. nearly every phone photo, shows 3+ px checker quadrants there); only when that finds no
 * page is the fine level searched.
 */
export const WORK_LONG_SIDE = 1200;
export const COARSE_LONG_SIDE = 600;
const MIN_SCORE = 0.62;

/**
 * Working-image scale for a photo whose long side is `long` px: 1/k with k the power of two that
 * brings the long side nearest `side` (in [side/√2, side·√2]). Powers of two keep INTER_AREA on its
 * fast block-averaging path: a 12 MP shrink by 4 or 8 costs ~5 ms, by 3 or 7 up to 20 ms.
 */
export function workFactor(long: number, side = WORK_LONG_SIDE): number {
  return 1 / 2 ** Math.max(0, Math.round(Math.log2(long / side)));
}

/**
 * The photo shrunk by workFactor (the photo itself when that is 1). An integer shrink lets INTER_AREA
 * take its fast block-averaging path (~3× cheaper on 12 MP); it is exact only on a whole number of
 * blocks, so the last few rows/columns are dropped. The caller releases `img` unless it is `gray`.
 */
export function shrinkToWork(cv: Cv, gray: Mat, longSide = WORK_LONG_SIDE): { img: Mat; factor: number } {
  const factor = workFactor(Math.max(gray.rows, gray.cols), longSide);
  const k = Math.round(1 / factor);
  if (k === 1) return { img: gray, factor };
  const wk = Math.floor(gray.cols / k);
  const hk = Math.floor(gray.rows / k);
  const whole = wk * k !== gray.cols || hk * k !== gray.rows ? gray.getRegion(new cv.Rect(0, 0, wk * k, hk * k)) : gray;
  return { img: whole.resize(hk, wk, 0, 0, cv.INTER_AREA), factor };
}
/**
 * Grey levels (σ over the window) below which a window is too flat to hold a checker. The response
 * is normalised by σ, so this only keeps paper grain and sensor noise (σ ≈ 2–3) out; it was 12 until
 * session 8, which lost the checkers in the dim corners of a photo taken in evening light (two stops
 * under: 5 of 60 bench photos refused; with 6, none, and both 1,000-photo benches read identically).
 */
const MIN_CONTRAST = 6;

// Integral images are reused between photos: a reader process reads thousands of photos, and fresh
// multi-megabyte typed arrays per photo kept the garbage collector busy (~15% of a read).
let integralBuf = new Float64Array(0);
let integral2Buf = new Float64Array(0);

export function findCheckerCandidates(cv: Cv, gray: Mat, opts: { minQuadrant: number; maxQuadrant: number; longSide?: number }): CandidateSearch {
  const { img: work, factor } = shrinkToWork(cv, gray, opts.longSide);
  const w = work.cols;
  const h = work.rows;
  // Integral images of grey and grey²: any window sum in four look-ups, at any scale. Built in JS
  // from the 8-bit pixels: copying OpenCV's 64-bit integral out of the addon costs more.
  const px = work.getData();
  // The working image lives on only as its integral; the caller keeps the photo.
  if (work !== gray) work.release();
  const W1 = w + 1;
  const size = W1 * (h + 1);
  if (integralBuf.length < size) {
    integralBuf = new Float64Array(size);
    integral2Buf = new Float64Array(size);
  }
  const I = integralBuf;
  const I2 = integral2Buf;
  I.fill(0, 0, W1);
  I2.fill(0, 0, W1);
  for (let y = 0; y < h; y++) {
    let row = 0;
    let row2 = 0;
    const o = (y + 1) * W1;
    const p = y * W1;
    I[o] = 0;
    I2[o] = 0;
    for (let x = 0; x < w; x++) {
      const v = px[y * w + x]!;
      row += v;
      row2 += v * v;
      I[o + x + 1] = I[p + x + 1]! + row;
      I2[o + x + 1] = I2[p + x + 1]! + row2;
    }
  }
  const all: FiducialCandidate[] = [];
  // Score at the saddle between pixel columns x-1|x and rows y-1|y, quadrant side s; sets lastSigma.
  let lastSigma = 0;
  const scoreAt = (x: number, y: number, s: number): number => {
    const ya = (y - s) * W1, yb = y * W1, yc = (y + s) * W1;
    const xa = x - s, xc = x + s;
    const a = I[ya + xa]!, b = I[ya + x]!, c = I[ya + xc]!;
    const d = I[yb + xa]!, e = I[yb + x]!, f = I[yb + xc]!;
    const g = I[yc + xa]!, hh = I[yc + x]!, k = I[yc + xc]!;
    const tl = e - b - d + a;
    const tr = f - c - e + b;
    const bl = hh - e - g + d;
    const br = k - f - hh + e;
    const n = 4 * s * s;
    const mean = (tl + tr + bl + br) / n;
    const v = (I2[yc + xc]! - I2[ya + xc]! - I2[yc + xa]! + I2[ya + xa]!) / n - mean * mean;
    lastSigma = v > 0 ? Math.sqrt(v) : 0;
    if (lastSigma < MIN_CONTRAST) return 0;
    // Upright checker: TL and BR dark, so (TR + BL) − (TL + BR) > 0.
    return (tr + bl - tl - br) / (n * lastSigma);
  };
  const inside = (x: number, y: number, s: number) => x >= s && y >= s && x <= w - s && y <= h - s;
  // A window smaller than the real checker still scores 1 (all four quadrants lie inside it), so
  // scales need only be coarse; each scale is sampled on a grid half its size, then the peaks are
  // refined by hill-climbing with a halving step (the response is a cone about s wide around the
  // saddle, so the climb cannot stop on a false summit; an exhaustive ±step search cost 100× more
  // at the large scales).
  let grid = new Float32Array(0);
  for (let s = Math.max(3, Math.floor(opts.minQuadrant * 0.7)); s <= Math.max(4, opts.maxQuadrant); s = Math.ceil(s * 1.6)) {
    const step = Math.max(2, Math.floor(s / 2));
    const gw = Math.floor((w - 2 * s) / step) + 1;
    const gh = Math.floor((h - 2 * s) / step) + 1;
    if (gw < 1 || gh < 1) break;
    if (grid.length < gw * gh) grid = new Float32Array(gw * gh);
    for (let gy = 0; gy < gh; gy++) for (let gx = 0; gx < gw; gx++) grid[gy * gw + gx] = scoreAt(s + gx * step, s + gy * step, s);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        const v0 = Math.abs(grid[gy * gw + gx]!);
        if (v0 < MIN_SCORE * 0.8) continue;
        // Only coarse local maxima are refined: plateaus around a big checker would otherwise
        // be refined point by point.
        let isMax = true;
        for (let dy = -1; dy <= 1 && isMax; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = gx + dx, yy = gy + dy;
            if ((dx || dy) && xx >= 0 && yy >= 0 && xx < gw && yy < gh) {
              const v = Math.abs(grid[yy * gw + xx]!);
              if (v > v0 || (v === v0 && (dy < 0 || (dy === 0 && dx < 0)))) {
                isMax = false;
                break;
              }
            }
          }
        }
        if (!isMax) continue;
        let bx = s + gx * step;
        let by = s + gy * step;
        let bs = grid[gy * gw + gx]!;
        scoreAt(bx, by, s);
        let bc = lastSigma;
        for (let d = Math.max(1, step >> 1); d >= 1; d >>= 1) {
          // Climb at this step until no neighbour is better, then halve.
          for (let moved = true, guard = 0; moved && guard < 8; guard++) {
            moved = false;
            const cx = bx, cy = by;
            for (let dy = -d; dy <= d; dy += d) {
              for (let dx = -d; dx <= d; dx += d) {
                if (!(dx || dy)) continue;
                const xx = cx + dx, yy = cy + dy;
                if (!inside(xx, yy, s)) continue;
                const v = scoreAt(xx, yy, s);
                if (Math.abs(v) > Math.abs(bs)) {
                  bs = v;
                  bx = xx;
                  by = yy;
                  bc = lastSigma;
                  moved = true;
                }
              }
            }
          }
          if (d === 1) break;
        }
        if (Math.abs(bs) >= MIN_SCORE) all.push({ x: bx, y: by, score: bs, contrast: bc, scale: s });
      }
    }
  }
  // Keep the strongest response per checker (the same checker is found at several scales and
  // grid points).
  all.sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || b.scale - a.scale);
  const kept: FiducialCandidate[] = [];
  for (const c of all) {
    if (kept.some((k) => Math.hypot(k.x - c.x, k.y - c.y) < Math.max(k.scale, c.scale))) continue;
    kept.push(c);
    if (kept.length >= 40) break;
  }
  const safeScore = (x: number, y: number, s: number) => {
    const xi = Math.round(x);
    const yi = Math.round(y);
    const si = Math.max(2, Math.round(s));
    return xi < si || yi < si || xi > w - si || yi > h - si ? 0 : scoreAt(xi, yi, si);
  };
  return { candidates: kept, factor, scoreAt: safeScore };
}

/** A real checker turned ≤ 15° scores ≥ 0.75; the corner of a solid block (a thumb, a shadow) ≈ 0.58. */
export const SEEN_CHECKER = 0.7;

/**
 * The strongest checker response at quadrant size `sc` within ±radius of `at` (working px, sampled
 * every `step` px): polarity +1 or −1 counts only checkers of that sign, 0 either sign.
 */
export function seekChecker(search: Pick<CandidateSearch, 'scoreAt'>, at: Pt, radius: number, sc: number, polarity: number, step = 1): Pt & { score: number } {
  let best = { x: at.x, y: at.y, score: 0 };
  for (let y = at.y - radius; y <= at.y + radius; y += step) {
    for (let x = at.x - radius; x <= at.x + radius; x += step) {
      const s = search.scoreAt(x, y, sc);
      const v = polarity === 0 ? Math.abs(s) : s * polarity;
      if (v > best.score) best = { x, y, score: v };
    }
  }
  return best;
}

/** The weakest, over the points, of the best |response| within ±2 px at quadrant size sc: are all of them checkers of that size? */
export function weakestChecker(search: Pick<CandidateSearch, 'scoreAt'>, pts: Pt[], sc: number): number {
  return Math.min(...pts.map((p) => seekChecker(search, p, 2, sc, 0).score));
}

export interface QuadChoice {
  /** Image points in cyclic order, starting from the one nearest the image's top-left. */
  points: [FiducialCandidate, FiducialCandidate, FiducialCandidate, FiducialCandidate];
  rank: number;
}

/**
 * Plausible quads of four candidates, best first. aspect = template width/height between fiducial
 * centres; quadrantMm/sideMm give the expected checker size for the scale check.
 */
export function rankQuads(
  search: Pick<CandidateSearch, 'candidates' | 'scoreAt'>,
  geom: { widthMm: number; heightMm: number; quadrantMm: number },
  limit = 8,
): QuadChoice[] {
  const top = search.candidates.slice(0, 18);
  const out: QuadChoice[] = [];
  const n = top.length;
  for (let a = 0; a < n; a++)
    for (let b = a + 1; b < n; b++)
      for (let c = b + 1; c < n; c++)
        for (let d = c + 1; d < n; d++) {
          const pts = [top[a]!, top[b]!, top[c]!, top[d]!];
          // All four checkers of one page have the same polarity.
          const sign = Math.sign(pts[0]!.score);
          if (pts.some((p) => Math.sign(p.score) !== sign)) continue;
          const ordered = convexOrder(pts);
          if (!ordered) continue;
          const rank = quadRank(ordered, geom, search.scoreAt);
          if (rank > 0) out.push({ points: ordered, rank });
        }
  out.sort((x, y) => y.rank - x.rank);
  return out.slice(0, limit);
}

function convexOrder(pts: FiducialCandidate[]): QuadChoice['points'] | null {
  const cx = pts.reduce((s, p) => s + p.x, 0) / 4;
  const cy = pts.reduce((s, p) => s + p.y, 0) / 4;
  const sorted = [...pts].sort((p, q) => Math.atan2(p.y - cy, p.x - cx) - Math.atan2(q.y - cy, q.x - cx));
  // atan2 with y down sorts clockwise on screen. Check strict convexity.
  for (let i = 0; i < 4; i++) {
    const p = sorted[i]!;
    const q = sorted[(i + 1) % 4]!;
    const r = sorted[(i + 2) % 4]!;
    const cross = (q.x - p.x) * (r.y - q.y) - (q.y - p.y) * (r.x - q.x);
    if (cross <= 0) return null;
  }
  // Start from the point nearest the image's top-left corner.
  let start = 0;
  for (let i = 1; i < 4; i++) if (sorted[i]!.x + sorted[i]!.y < sorted[start]!.x + sorted[start]!.y) start = i;
  return [0, 1, 2, 3].map((k) => sorted[(start + k) % 4]!) as QuadChoice['points'];
}

function quadRank(
  q: QuadChoice['points'],
  geom: { widthMm: number; heightMm: number; quadrantMm: number },
  scoreAt: CandidateSearch['scoreAt'],
): number {
  const side = (i: number) => Math.hypot(q[(i + 1) % 4]!.x - q[i]!.x, q[(i + 1) % 4]!.y - q[i]!.y);
  const s = [side(0), side(1), side(2), side(3)];
  // Opposite sides: perspective shrinks one end, but not by half.
  if (Math.max(s[0]!, s[2]!) / Math.min(s[0]!, s[2]!) > 1.6) return 0;
  if (Math.max(s[1]!, s[3]!) / Math.min(s[1]!, s[3]!) > 1.6) return 0;
  for (let i = 0; i < 4; i++) {
    const p = q[(i + 3) % 4]!;
    const o = q[i]!;
    const r = q[(i + 1) % 4]!;
    const cos = ((p.x - o.x) * (r.x - o.x) + (p.y - o.y) * (r.y - o.y)) / (Math.hypot(p.x - o.x, p.y - o.y) * Math.hypot(r.x - o.x, r.y - o.y));
    if (Math.abs(cos) > 0.6) return 0; // angle outside ~53°..127°
  }
  // The page may be upright or turned a quarter: compare with both aspect readings.
  const w = (s[0]! + s[2]!) / 2;
  const h = (s[1]! + s[3]!) / 2;
  const aspect = geom.widthMm / geom.heightMm;
  const upright = Math.abs(Math.log(w / h / aspect));
  const turned = Math.abs(Math.log(h / w / aspect));
  const ratio = Math.min(upright, turned);
  if (ratio > Math.log(1.45)) return 0;
  // Re-score every corner at the checker size this quad implies there (local px/mm from the two
  // sides that meet at it). A pattern of the wrong size — the page mark's cells, a letter — scores
  // low at the fiducial's size even when it scored high at its own.
  const [mmA, mmB] = upright <= turned ? [geom.widthMm, geom.heightMm] : [geom.heightMm, geom.widthMm];
  let minScore = Infinity;
  let sumScore = 0;
  for (let i = 0; i < 4; i++) {
    const pxPerMm = (s[i]! / (i % 2 === 0 ? mmA : mmB) + s[(i + 3) % 4]! / (i % 2 === 0 ? mmB : mmA)) / 2;
    const quadrant = geom.quadrantMm * pxPerMm;
    const best = seekChecker({ scoreAt }, q[i]!, 2, Math.max(2, quadrant * 0.75), 0).score;
    minScore = Math.min(minScore, best);
    sumScore += best;
  }
  if (minScore < 0.5) return 0;
  // Fiducials are the outermost marks: between equally good quads prefer the larger one.
  return minScore * 2 + sumScore / 4 + 0.15 * Math.log(w * h) - ratio;
}

/** Sub-pixel saddle points in the full-resolution image. */
export function refineCorners(cv: Cv, gray: Mat, pts: Pt[], halfWindow: number): Pt[] {
  const hw = Math.max(3, Math.min(20, Math.round(halfWindow)));
  const out: Pt[] = [];
  for (const p of pts) {
    // Work on a small region so cornerSubPix's window never leaves the image.
    const x0 = Math.max(0, Math.round(p.x) - 3 * hw);
    const y0 = Math.max(0, Math.round(p.y) - 3 * hw);
    const x1 = Math.min(gray.cols, Math.round(p.x) + 3 * hw);
    const y1 = Math.min(gray.rows, Math.round(p.y) + 3 * hw);
    if (x1 - x0 < 2 * hw + 3 || y1 - y0 < 2 * hw + 3) {
      out.push(p);
      continue;
    }
    const roi = gray.getRegion(new cv.Rect(x0, y0, x1 - x0, y1 - y0));
    try {
      const [r] = roi.cornerSubPix(
        [new cv.Point2(p.x - x0, p.y - y0)],
        new cv.Size(hw, hw),
        new cv.Size(-1, -1),
        new cv.TermCriteria(cv.termCriteria.EPS + cv.termCriteria.MAX_ITER, 30, 0.05),
      );
      const q = { x: r!.x + x0, y: r!.y + y0 };
      // A refinement that wanders away means the saddle was not there: keep the coarse point.
      out.push(Math.hypot(q.x - p.x, q.y - p.y) <= hw ? q : p);
    } catch {
      out.push(p);
    }
  }
  return out;
}

