/**
 * FROZEN: normaliseBox exactly as committed in 7829dc6 (end of session 3), kept as the reference the
 * faster workers/reader/digits/preprocess.ts must match (bench/reader-same.ts). The trained weights
 * expect this function's 28×28; do not edit it. If the preprocessing is changed on purpose (a
 * retrain), replace this file with the new version in the same commit.
 */
/**
 * normaliseBox: one handwriting box (any size, colour or grey, with or without its printed border) →
 * a 28×28 MNIST-style image (ink = 1, paper = 0; the writing scaled into 20×20 and centred by its
 * centre of mass).
 *
 * Pure TypeScript on raw pixels so that it runs with or without OpenCV: the OpenCV form reader cuts
 * boxes from the warped page and passes their grey pixels here, the digit CLI passes sharp-decoded
 * crops, and training passes the real KPPS crops, MNIST and synthetic boxes. One function for all three
 * means the classifier always sees the same kind of input it was trained on.
 */

export interface RawImage {
  /** Row-major pixels, `channels` bytes per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** Defaults to data.length / (width·height). */
  channels?: number;
}

export interface NormalisedBox {
  /** 784 values in [0, 1], row-major 28×28, ink = 1. */
  pixels: Float32Array;
  /** Share of the box area covered by ink after border/guide removal (0 for an empty box). */
  inkFraction: number;
  /** No ink left after cleaning: the box is blank as far as preprocessing can tell. */
  empty: boolean;
}

export const NORM_SIZE = 28;
/** Side of the square the writing is scaled into (MNIST uses 20 in 28). */
const DIGIT_SIZE = 20;
/** Working resolution: long side of the resampled box. */
const WORK = 64;
/**
 * Absolute floors of the interior ink threshold (ink relative to the local paper). A mark counts as
 * writing only if part of it reaches the CORE floor (0.12, the single floor of sessions 1–2: it keeps
 * grain and dotted guides out of blank boxes); once it does, its strokes are drawn down to the
 * INTERIOR floor, so a pale pen (strokes at 0.07–0.11) keeps the parts that 0.12 erased (a "4"
 * losing its stem, a "6" falling apart). The noise floor (5σ) and the guide floor (30% of the border's
 * darkness) still apply to both.
 */
const INTERIOR_FLOOR = 0.06;
const CORE_FLOOR = 0.12;

export class BoxImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoxImageError';
  }
}

function checkInput(img: RawImage): number {
  if (!img || typeof img !== 'object') throw new BoxImageError('box image must be an object {data, width, height}');
  const { data, width, height } = img;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new BoxImageError('box image data must be a Uint8Array of pixels');
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 4 || height < 4) {
    throw new BoxImageError(`box image must be at least 4×4 pixels (got ${width}×${height})`);
  }
  if (width * height > 4_000_000) {
    throw new BoxImageError(`box image is too large for one box (${width}×${height})`);
  }
  const channels = img.channels ?? data.length / (width * height);
  if (![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new BoxImageError(
      `box image data length ${data.length} does not match ${width}×${height} with 1–4 channels`,
    );
  }
  return channels;
}

/** Luma in 0..255, alpha composited over white paper. */
function toGrey(img: RawImage, channels: number): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    let v: number;
    let a = 255;
    if (channels === 1) v = d[i];
    else if (channels === 2) {
      v = d[2 * i];
      a = d[2 * i + 1];
    } else {
      const o = i * channels;
      v = 0.299 * d[o] + 0.587 * d[o + 1] + 0.114 * d[o + 2];
      if (channels === 4) a = d[o + 3];
    }
    out[i] = a === 255 ? v : (v * a + 255 * (255 - a)) / 255;
  }
  return out;
}

/** Area-average (down) or bilinear (up) resampling of a float image. */
function resample(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const dst = new Float32Array(dw * dh);
  const fx = sw / dw;
  const fy = sh / dh;
  if (fx >= 1 && fy >= 1) {
    // Column spans and weights depend on x only: computed once (same expressions as the per-pixel
    // form, so the sums are bit-identical), which removes most of the per-pixel Math calls.
    const sx0 = new Int32Array(dw);
    const sx1 = new Int32Array(dw);
    const maxSpan = Math.ceil(fx) + 1;
    const wxs = new Float64Array(dw * maxSpan);
    for (let x = 0; x < dw; x++) {
      const x0 = x * fx;
      const x1 = x0 + fx;
      const a = Math.floor(x0);
      const b = Math.min(sw, Math.ceil(x1));
      sx0[x] = a;
      sx1[x] = b;
      for (let sx = a; sx < b; sx++) wxs[x * maxSpan + sx - a] = Math.min(sx + 1, x1) - Math.max(sx, x0);
    }
    for (let y = 0; y < dh; y++) {
      const y0 = y * fy;
      const y1 = y0 + fy;
      const syEnd = Math.min(sh, Math.ceil(y1));
      for (let x = 0; x < dw; x++) {
        const a = sx0[x];
        const b = sx1[x];
        const wo = x * maxSpan - a;
        let sum = 0;
        let wsum = 0;
        for (let sy = Math.floor(y0); sy < syEnd; sy++) {
          const wy = Math.min(sy + 1, y1) - Math.max(sy, y0);
          if (wy <= 0) continue;
          const row = sy * sw;
          for (let sx = a; sx < b; sx++) {
            const wx = wxs[wo + sx];
            if (wx <= 0) continue;
            sum += src[row + sx] * wx * wy;
            wsum += wx * wy;
          }
        }
        dst[y * dw + x] = wsum > 0 ? sum / wsum : 0;
      }
    }
    return dst;
  }
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.max(0, (y + 0.5) * fy - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = sy - y0;
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(sw - 1, Math.max(0, (x + 0.5) * fx - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const tx = sx - x0;
      const a = src[y0 * sw + x0] * (1 - tx) + src[y0 * sw + x1] * tx;
      const b = src[y1 * sw + x0] * (1 - tx) + src[y1 * sw + x1] * tx;
      dst[y * dw + x] = a * (1 - ty) + b * ty;
    }
  }
  return dst;
}

/**
 * Max over a (2r+1) window along one line of n values (van Herk / Gil-Werman: three comparisons per
 * value whatever r is). The line is padded with -Infinity on both sides, so windows clipped by the
 * image edge give exactly the max over their in-image part, as a naive loop would.
 */
function lineMax(src: Float32Array, at: number, stride: number, n: number, r: number, out: Float32Array, scratch: LineMaxScratch): void {
  const k = 2 * r + 1;
  const len = n + 2 * r;
  const blocks = Math.ceil(len / k);
  const padded = blocks * k;
  const { v, g, hh } = scratch.ensure(padded);
  for (let i = 0; i < padded; i++) {
    const j = i - r;
    v[i] = j >= 0 && j < n ? src[at + j * stride] : -Infinity;
  }
  for (let b = 0; b < padded; b += k) {
    let m = -Infinity;
    for (let i = b; i < b + k; i++) {
      if (v[i] > m) m = v[i];
      g[i] = m; // max of v[b..i]
    }
    m = -Infinity;
    for (let i = b + k - 1; i >= b; i--) {
      if (v[i] > m) m = v[i];
      hh[i] = m; // max of v[i..b+k-1]
    }
  }
  // Output j covers padded [j, j + 2r]: its start and end lie in the same or adjacent blocks.
  for (let j = 0; j < n; j++) {
    const a = hh[j];
    const b = g[j + 2 * r];
    out[at + j * stride] = a > b ? a : b;
  }
}

class LineMaxScratch {
  v = new Float32Array(0);
  g = new Float32Array(0);
  hh = new Float32Array(0);
  ensure(n: number): { v: Float32Array; g: Float32Array; hh: Float32Array } {
    if (this.v.length < n) {
      this.v = new Float32Array(n);
      this.g = new Float32Array(n);
      this.hh = new Float32Array(n);
    }
    return this;
  }
}
const lineMaxScratch = new LineMaxScratch();

/** Separable running max over a (2r+1)² window (clipped at the image edges). */
function maxFilter(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) lineMax(src, y * w, 1, w, r, tmp, lineMaxScratch);
  for (let x = 0; x < w; x++) lineMax(tmp, x, w, h, r, out, lineMaxScratch);
  return out;
}

/** Separable mean over a (2r+1)² window, shrunk at the edges (same summation order as a naive loop). */
function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const a = x - r > 0 ? x - r : 0;
      const b = x + r < w - 1 ? x + r : w - 1;
      let s = 0;
      for (let k = a; k <= b; k++) s += src[row + k];
      tmp[row + x] = s / (b - a + 1);
    }
  }
  for (let y = 0; y < h; y++) {
    const a = y - r > 0 ? y - r : 0;
    const b = y + r < h - 1 ? y + r : h - 1;
    const n = b - a + 1;
    const orow = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = a * w + x; k <= b * w + x; k += w) s += tmp[k];
      out[orow + x] = s / n;
    }
  }
  return out;
}

/**
 * The k-th smallest value (0-based) of values[0..n): quickselect, O(n). Reorders values[0..n) in
 * place: pass arrays that are not needed afterwards.
 */
function kthSmallest(a: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** Otsu threshold of values in [0, 1]. */
function otsu(values: Float32Array): number {
  const bins = 64;
  const hist = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor(values[i] * bins);
    hist[b < 0 ? 0 : b > bins - 1 ? bins - 1 : b]++;
  }
  const total = values.length;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i];
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestT = 0.5;
  for (let i = 0; i < bins; i++) {
    wB += hist[i];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += i * hist[i];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = (i + 1) / bins;
    }
  }
  return bestT;
}

/**
 * Removes printed box lines: ink pixels lying on a long, nearly horizontal (or vertical) run close to
 * an edge. Everything beyond the innermost such line on each side is outside the box (neighbouring
 * boxes, table rules, the desk) and is cleared too. Handwriting is kept because strokes are short or
 * slanted; the length threshold is well above the width of a blocky "0" drawn on the dotted guide.
 */
interface BoxLines {
  /** Pixels on a printed line (dilated by one pixel to swallow anti-aliased edges). */
  line: Uint8Array;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

function findBoxLines(mask: Uint8Array, w: number, h: number): BoxLines {
  const band = 0.25;
  const tol = 2; // rows (columns) of slack so that a slightly tilted line still forms one long run
  const remove = new Uint8Array(w * h);
  // Horizontal lines.
  const minH = Math.round(0.72 * w);
  let top = -1;
  let bottom = h;
  for (let y = 0; y < h; y++) {
    if (y >= band * h && y < (1 - band) * h) continue;
    const ka = (y - tol > 0 ? y - tol : 0) * w;
    const kb = (y + tol < h - 1 ? y + tol : h - 1) * w;
    let runStart = -1;
    for (let x = 0; x <= w; x++) {
      let on = false;
      if (x < w) {
        for (let k = ka + x; k <= kb + x; k += w) {
          if (mask[k] === 1) {
            on = true;
            break;
          }
        }
      }
      if (on && runStart < 0) runStart = x;
      if (!on && runStart >= 0) {
        if (x - runStart >= minH) {
          for (let xx = runStart; xx < x; xx++) remove[y * w + xx] = 1;
          if (y < h / 2) top = Math.max(top, y);
          else bottom = Math.min(bottom, y);
        }
        runStart = -1;
      }
    }
  }
  // Vertical lines.
  const minV = Math.round(0.72 * h);
  let left = -1;
  let right = w;
  for (let x = 0; x < w; x++) {
    if (x >= band * w && x < (1 - band) * w) continue;
    const ka = x - tol > 0 ? x - tol : 0;
    const kb = x + tol < w - 1 ? x + tol : w - 1;
    let runStart = -1;
    for (let y = 0; y <= h; y++) {
      let on = false;
      if (y < h) {
        const row = y * w;
        for (let k = row + ka; k <= row + kb; k++) {
          if (mask[k] === 1) {
            on = true;
            break;
          }
        }
      }
      if (on && runStart < 0) runStart = y;
      if (!on && runStart >= 0) {
        if (y - runStart >= minV) {
          for (let yy = runStart; yy < y; yy++) remove[yy * w + x] = 1;
          if (x < w / 2) left = Math.max(left, x);
          else right = Math.min(right, x);
        }
        runStart = -1;
      }
    }
  }
  const line = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const ya = y > 0 ? y - 1 : 0;
    const yb = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      if (!remove[y * w + x]) continue;
      const xa = x > 0 ? x - 1 : 0;
      const xb = x < w - 1 ? x + 1 : w - 1;
      for (let yy = ya; yy <= yb; yy++) for (let xx = xa; xx <= xb; xx++) line[yy * w + xx] = 1;
    }
  }
  return { line, top, bottom, left, right };
}

export interface Component {
  /** First pixel found (row-major): identifies the component in the label image. */
  seed: number;
  area: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  peak: number;
}

let componentStack = new Int32Array(0);

/** 8-connected components; returns the label image (1-based) and the components. */
export function components(mask: Uint8Array, ink: Float32Array, w: number, h: number): { labels: Int32Array; comps: Component[] } {
  const labels = new Int32Array(w * h);
  const comps: Component[] = [];
  // Each pixel is pushed at most once (it is labelled when pushed): w·h entries always suffice.
  if (componentStack.length < w * h) componentStack = new Int32Array(w * h);
  const stack = componentStack;
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = comps.length + 1;
    const c: Component = { seed: start, area: 0, minX: w, maxX: -1, minY: h, maxY: -1, peak: 0 };
    labels[start] = id;
    let sp = 0;
    stack[sp++] = start;
    while (sp > 0) {
      const i = stack[--sp];
      const x = i % w;
      const y = (i - x) / w;
      c.area++;
      if (x < c.minX) c.minX = x;
      if (x > c.maxX) c.maxX = x;
      if (y < c.minY) c.minY = y;
      if (y > c.maxY) c.maxY = y;
      if (ink[i] > c.peak) c.peak = ink[i];
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const j = yy * w + xx;
          if (mask[j] && !labels[j]) {
            labels[j] = id;
            stack[sp++] = j;
          }
        }
      }
    }
    comps.push(c);
  }
  return { labels, comps };
}

/**
 * Normalises one box image. Throws BoxImageError on malformed input (never returns garbage for it).
 */
export function normaliseBox(img: RawImage): NormalisedBox {
  const channels = checkInput(img);
  const grey0 = toGrey(img, channels);

  // 1. Working resolution: long side WORK px, aspect kept.
  const scale = WORK / Math.max(img.width, img.height);
  const w = Math.max(4, Math.round(img.width * scale));
  const h = Math.max(4, Math.round(img.height * scale));
  // A 3×3 blur: sensor and JPEG noise must not reach the threshold as a cloud of single pixels.
  const sharp = resample(grey0, img.width, img.height, w, h);
  const grey = boxBlur(sharp, w, h, 1);
  // Pixel noise σ from the high-frequency residual (median absolute value: strokes and edges are a
  // minority of pixels, so they barely move it). The blur divides white noise by about 3.
  const resid = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) resid[i] = Math.abs(sharp[i] - grey[i]);
  const noiseSigma = (1.4826 * kthSmallest(resid, resid.length, Math.floor(resid.length / 2))) / 0.943 / 3;

  // 2. Ink = darkness relative to the local paper (a max filter wider than any stroke), so shadows,
  //    grey photos and tinted paper all give the same ink map.
  const bg = boxBlur(maxFilter(grey, w, h, 7), w, h, 3);
  const ink = new Float32Array(w * h);
  let maxInk = 0;
  for (let i = 0; i < w * h; i++) {
    const g = grey[i];
    let b = bg[i] > g ? bg[i] : g;
    if (!(b >= 1)) b = 1;
    const v = (b - g) / b;
    ink[i] = v;
    if (v > maxInk) maxInk = v;
  }

  // 3. Binary mask: Otsu on the ink map, with an absolute floor so that paper grain in an empty box
  //    does not become "ink" just because Otsu always finds two classes.
  const tLines = Math.max(otsu(ink), 0.14);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) mask[i] = ink[i] >= tLines ? 1 : 0;

  // 4. Printed box lines and whatever lies outside them. Then threshold again inside the box only:
  //    a dark border drives the first Otsu threshold up and would erase a faint pen stroke.
  const lines = findBoxLines(mask, w, h);
  // Interior rectangle (exclusive bounds of the printed lines), as loop limits.
  const ix0 = Math.max(0, lines.left + 1);
  const ix1 = Math.min(w, lines.right);
  const iy0 = Math.max(0, lines.top + 1);
  const iy1 = Math.min(h, lines.bottom);
  const interior = new Float32Array(w * h);
  let nInterior = 0;
  for (let y = iy0; y < iy1; y++) {
    for (let x = ix0; x < ix1; x++) if (!lines.line[y * w + x]) interior[nInterior++] = ink[y * w + x];
  }
  // Noise floor: five σ of blurred pixel noise relative to the paper, so that a noisy empty box stays
  // empty instead of Otsu splitting its grain into two classes.
  let paper = 0;
  for (let i = 0; i < w * h; i++) paper += bg[i];
  paper /= w * h;
  const noiseFloor = (5 * noiseSigma) / Math.max(paper, 1);
  // Printed guides are much fainter than pen ink; the printed border is the best local reference for
  // "full ink" on this photo, so anything far fainter than it is not writing.
  const lineInk = new Float32Array(w * h);
  let nLineInk = 0;
  for (let i = 0; i < w * h; i++) if (lines.line[i] && mask[i]) lineInk[nLineInk++] = ink[i];
  const guideFloor = nLineInk > 20 ? 0.3 * kthSmallest(lineInk, nLineInk, Math.floor(nLineInk / 2)) : 0;
  // Two interior thresholds. `tCore` decides WHETHER a mark is writing (as before session 3: it keeps
  // grain, dotted guides and specks out of blank boxes); `t`, with a lower absolute floor, decides how
  // MUCH of a kept mark is drawn, so a pale pen keeps its faint strokes (hysteresis: a faint stroke
  // survives only when connected to a core component).
  const otsuInterior = nInterior ? otsu(interior.subarray(0, nInterior)) : 0;
  const tCore = nInterior ? Math.max(noiseFloor, guideFloor, Math.min(tLines, Math.max(otsuInterior, CORE_FLOOR))) : Math.max(tLines, noiseFloor, guideFloor);
  const t = nInterior ? Math.max(noiseFloor, guideFloor, Math.min(tLines, Math.max(otsuInterior, INTERIOR_FLOOR))) : tCore;

  // Printed lines fainter than the first threshold (a grey border on a photo whose darkest ink is the
  // pen) vanish from the first mask but come back at the interior threshold as bars beside the digit
  // ("|3|"): look for lines again at this threshold and treat them like the first ones.
  // (When t ≥ tLines the stroke mask is a subset of the first one, so this pass cannot find anything
  // the first did not: skipped.)
  const low = new Uint8Array(w * h);
  let lines2 = lines;
  if (t < tLines) {
    for (let i = 0; i < w * h; i++) low[i] = ink[i] >= t ? 1 : 0;
    lines2 = findBoxLines(low, w, h);
  }
  const jx0 = Math.max(ix0, lines2.left + 1);
  const jx1 = Math.min(ix1, lines2.right);
  const jy0 = Math.max(iy0, lines2.top + 1);
  const jy1 = Math.min(iy1, lines2.bottom);
  mask.fill(0);
  low.fill(0);
  for (let y = jy0; y < jy1; y++) {
    for (let x = jx0; x < jx1; x++) {
      const i = y * w + x;
      if (lines.line[i] || lines2.line[i]) continue;
      const v = ink[i];
      if (v >= tCore) mask[i] = 1;
      if (v >= t) low[i] = 1;
    }
  }

  // 5. Dotted guides, specks and line remnants: drop small or faint core components, and thin slivers
  //    hugging the crop edge (remnants of the border or a neighbouring box).
  const core = components(mask, ink, w, h);
  // Equal thresholds (a dark pen: the interior Otsu is above both floors) give equal masks.
  const { labels, comps } = t === tCore ? core : components(low, ink, w, h);
  const keepCore = new Uint8Array(core.comps.length + 1);
  const minArea = Math.max(6, Math.round(0.004 * w * h));
  for (let k = 0; k < core.comps.length; k++) {
    const c = core.comps[k];
    const cw = c.maxX - c.minX + 1;
    const ch = c.maxY - c.minY + 1;
    const extent = Math.max(cw, ch);
    if (c.area < minArea && extent < 0.12 * Math.max(w, h)) continue;
    // A faint core is a guide dot or a speck unless the stroke it belongs to (at the stroke threshold)
    // is large: a pale "1" has only a few core pixels but a long stroke.
    if (c.peak < 1.4 * tCore && comps[labels[c.seed] - 1].area < 4 * minArea) continue;
    const edge = 2;
    const touchesEdge = c.minX < edge || c.minY < edge || c.maxX >= w - edge || c.maxY >= h - edge;
    if (touchesEdge && Math.min(cw, ch) <= 3 && Math.max(cw, ch) < 0.5 * Math.max(w, h)) continue;
    keepCore[k + 1] = 1;
  }
  // The kept writing at the lower threshold: components of `low` that contain a kept core pixel.
  const keep = new Uint8Array(comps.length + 1);
  for (let i = 0; i < w * h; i++) if (keepCore[core.labels[i]]) keep[labels[i]] = 1;
  keep[0] = 0;

  let minX = w;
  let minY = h;
  let maxX = -1;
  let maxY = -1;
  let area = 0;
  const clean = new Float32Array(w * h);
  // Kept ink as a mask and as a list of values (for the percentile below).
  const kept = new Uint8Array(w * h);
  const strong = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!keep[labels[i]]) continue;
      kept[i] = 1;
      strong[area++] = ink[i];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  const pixels = new Float32Array(NORM_SIZE * NORM_SIZE);
  if (area === 0) return { pixels, inkFraction: 0, empty: true };

  // Soft ink (anti-aliased edges like MNIST): ink values in a 1-px halo of the kept mask, scaled so
  // that solid strokes reach 1.
  const ref = Math.max(kthSmallest(strong, area, Math.floor(0.75 * (area - 1))), 1e-3);
  // 1-px halo of the kept mask (3×3 dilation, separable: rows, then columns).
  const hx0 = Math.max(0, minX - 1);
  const hx1 = Math.min(w - 1, maxX + 1);
  const hy0 = Math.max(0, minY - 1);
  const hy1 = Math.min(h - 1, maxY + 1);
  const rowNear = new Uint8Array(w * h);
  for (let y = minY; y <= maxY; y++) {
    const row = y * w;
    for (let x = hx0; x <= hx1; x++) rowNear[row + x] = kept[row + x] | (x > 0 ? kept[row + x - 1] : 0) | (x < w - 1 ? kept[row + x + 1] : 0);
  }
  const lo = 0.5 * t;
  const span = ref - 0.5 * t;
  for (let y = hy0; y <= hy1; y++) {
    const row = y * w;
    for (let x = hx0; x <= hx1; x++) {
      const near = rowNear[row + x] | (y > 0 ? rowNear[row - w + x] : 0) | (y < h - 1 ? rowNear[row + w + x] : 0);
      if (near) clean[row + x] = Math.min(1, Math.max(0, (ink[row + x] - lo) / span));
    }
  }

  // 6. Scale the ink's bounding box into DIGIT_SIZE, but never blow a small mark up by more than a
  //    box-relative cap: a speck stays a speck (blank) instead of becoming a digit-sized blob.
  const bw = maxX - minX + 1;
  const bh = maxY - minY + 1;
  const maxFactor = DIGIT_SIZE / (0.45 * Math.min(w, h));
  const f = Math.min(DIGIT_SIZE / Math.max(bw, bh), maxFactor);
  const tw = Math.max(1, Math.round(bw * f));
  const th = Math.max(1, Math.round(bh * f));
  const crop = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) crop[y * bw + x] = clean[(minY + y) * w + minX + x];
  const small = resample(crop, bw, bh, tw, th);

  // 7. Centre of mass to the centre of the 28×28 frame.
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      m += v;
      mx += v * x;
      my += v * y;
    }
  }
  const cx = m > 0 ? mx / m : (tw - 1) / 2;
  const cy = m > 0 ? my / m : (th - 1) / 2;
  const ox = Math.round(NORM_SIZE / 2 - 0.5 - cx);
  const oy = Math.round(NORM_SIZE / 2 - 0.5 - cy);
  for (let y = 0; y < th; y++) {
    const yy = y + oy;
    if (yy < 0 || yy >= NORM_SIZE) continue;
    for (let x = 0; x < tw; x++) {
      const xx = x + ox;
      if (xx < 0 || xx >= NORM_SIZE) continue;
      pixels[yy * NORM_SIZE + xx] = Math.min(1, small[y * tw + x]);
    }
  }
  return { pixels, inkFraction: area / (w * h), empty: false };
}
