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

/*
 * Speed (session 4). normaliseBox runs ~60–100 times per photo in the form reader, so its passes work
 * in place on scratch buffers that live as long as the module (the working image is never larger than
 * WORK × WORK; one process runs one call at a time) instead of allocating ~25 typed arrays per box,
 * and every pass keeps the exact arithmetic of the straightforward version — the same float32
 * roundings and, for every sum, the same terms added in the same order — so the output is
 * bit-identical to it (bench/normalise-same.ts compares the two on real crops and on boxes cut from
 * bench photos). Maxima and order statistics are exact whatever the algorithm.
 */

const WN = WORK * WORK;
/** Scratch buffers of the working image (WORK × WORK at most); see normaliseBox for who uses which. */
const S = {
  sharp: new Float32Array(WN),
  grey: new Float32Array(WN),
  tmp: new Float32Array(WN),
  tmpT: new Float32Array(WN),
  maxed: new Float32Array(WN),
  bg: new Float32Array(WN),
  ink: new Float32Array(WN),
  lineInk: new Float32Array(WN),
  strong: new Float32Array(WN),
  clean: new Float32Array(WN),
  mask: new Uint8Array(WN),
  low: new Uint8Array(WN),
  remove: new Uint8Array(WN),
  rowOr: new Uint8Array(WN),
  line1: new Uint8Array(WN),
  line2: new Uint8Array(WN),
  kept: new Uint8Array(WN),
  labelsCore: new Int32Array(WN),
  labelsLow: new Int32Array(WN),
  stack: new Int32Array(WN),
  /** Row accumulators (double, as the scalar sums were). */
  acc: new Float64Array(WORK),
  wacc: new Float64Array(WORK),
  /** A padded line for the running max (WORK + 2·7 at most, rounded up to blocks of 15), and its block maxima. */
  pad: new Float32Array(WORK + 64),
  m2: new Float32Array(WORK + 64),
  m4: new Float32Array(WORK + 64),
  hist: new Int32Array(64),
  /** Radix-select counts (kthNonNegative). */
  radix: new Int32Array(2048),
  /** Input-sized buffers (the crop before resampling), grown on demand. */
  input: new Float32Array(0),
};

/** Luma in 0..255, alpha composited over white paper (into a reused buffer). */
function toGrey(img: RawImage, channels: number): Float32Array {
  const n = img.width * img.height;
  if (S.input.length < n) S.input = new Float32Array(Math.max(n, 2 * S.input.length));
  const out = S.input;
  const d = img.data;
  if (channels === 1) {
    out.set(d);
    return out;
  }
  for (let i = 0; i < n; i++) {
    let v: number;
    let a = 255;
    if (channels === 2) {
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

/**
 * Area-average (down) or bilinear (up) resampling of a float image into dst. Per output pixel the
 * area sum adds its terms in the order of the plain per-pixel loop (source rows outer, columns inner),
 * kept in a row of double accumulators.
 */
function resample(src: Float32Array, sw: number, sh: number, dw: number, dh: number, dst: Float32Array): Float32Array {
  const fx = sw / dw;
  const fy = sh / dh;
  if (fx >= 1 && fy >= 1) {
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
    const acc = dw <= S.acc.length ? S.acc : new Float64Array(dw);
    const wacc = dw <= S.wacc.length ? S.wacc : new Float64Array(dw);
    for (let y = 0; y < dh; y++) {
      const y0 = y * fy;
      const y1 = y0 + fy;
      const syEnd = Math.min(sh, Math.ceil(y1));
      acc.fill(0, 0, dw);
      wacc.fill(0, 0, dw);
      for (let sy = Math.floor(y0); sy < syEnd; sy++) {
        const wy = Math.min(sy + 1, y1) - Math.max(sy, y0);
        if (wy <= 0) continue;
        const row = sy * sw;
        for (let x = 0; x < dw; x++) {
          const a = sx0[x];
          const b = sx1[x];
          const wo = x * maxSpan - a;
          let sum = acc[x];
          let wsum = wacc[x];
          for (let sx = a; sx < b; sx++) {
            const wx = wxs[wo + sx];
            if (wx <= 0) continue;
            sum += src[row + sx] * wx * wy;
            wsum += wx * wy;
          }
          acc[x] = sum;
          wacc[x] = wsum;
        }
      }
      const o = y * dw;
      for (let x = 0; x < dw; x++) dst[o + x] = wacc[x] > 0 ? acc[x] / wacc[x] : 0;
    }
    return dst;
  }
  const xs0 = new Int32Array(dw);
  const xs1 = new Int32Array(dw);
  const txs = new Float64Array(dw);
  for (let x = 0; x < dw; x++) {
    const sx = Math.min(sw - 1, Math.max(0, (x + 0.5) * fx - 0.5));
    const x0 = Math.floor(sx);
    xs0[x] = x0;
    xs1[x] = Math.min(sw - 1, x0 + 1);
    txs[x] = sx - x0;
  }
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.max(0, (y + 0.5) * fy - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const ty = sy - y0;
    const r0 = y0 * sw;
    const r1 = y1 * sw;
    const o = y * dw;
    for (let x = 0; x < dw; x++) {
      const x0 = xs0[x];
      const x1 = xs1[x];
      const tx = txs[x];
      const a = src[r0 + x0] * (1 - tx) + src[r0 + x1] * tx;
      const b = src[r1 + x0] * (1 - tx) + src[r1 + x1] * tx;
      dst[o + x] = a * (1 - ty) + b * ty;
    }
  }
  return dst;
}

/**
 * Max over a 15-wide window (r = 7) along each row of src, written transposed (out[x·h + y]), so
 * that two calls make the separable 15×15 max filter. Windows are clipped at the image edges (the
 * line is padded with −∞): exactly the max over the in-image part. Van Herk / Gil-Werman: prefix and
 * suffix maxima inside blocks of 15, then one comparison per output.
 */
function rowMax15T(src: Float32Array, w: number, h: number, out: Float32Array): void {
  const r = 7;
  const k = 15;
  const len = w + 2 * r;
  const padded = Math.ceil(len / k) * k;
  const p = S.pad;
  const g = S.m2;
  const hh = S.m4;
  for (let i = 0; i < r; i++) p[i] = -Infinity;
  for (let i = r + w; i < padded; i++) p[i] = -Infinity;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) p[r + x] = src[row + x];
    for (let b = 0; b < padded; b += k) {
      let m = p[b];
      g[b] = m;
      for (let i = b + 1; i < b + k; i++) {
        const v = p[i];
        if (v > m) m = v;
        g[i] = m; // max of p[b..i]
      }
      m = p[b + k - 1];
      hh[b + k - 1] = m;
      for (let i = b + k - 2; i >= b; i--) {
        const v = p[i];
        if (v > m) m = v;
        hh[i] = m; // max of p[i..b+k−1]
      }
    }
    // Output x covers p[x .. x + 14]: its start and end lie in the same or adjacent blocks.
    for (let x = 0; x < w; x++) {
      const a = hh[x];
      const c = g[x + 2 * r];
      out[x * h + y] = a > c ? a : c;
    }
  }
}

/** Separable max over a 15×15 window (clipped at the image edges). */
function maxFilter15(src: Float32Array, w: number, h: number, out: Float32Array): Float32Array {
  rowMax15T(src, w, h, S.tmpT);
  rowMax15T(S.tmpT, h, w, out);
  return out;
}

/**
 * Separable mean over a (2r+1)² window, shrunk at the edges. Each output is the plain loop's sum:
 * s = 0, then src[a], src[a+1] … src[b] added in order (rows first, into a float32 image, then columns).
 */
function boxBlur(src: Float32Array, w: number, h: number, r: number, out: Float32Array): Float32Array {
  const tmp = S.tmp;
  const k = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const a = x - r > 0 ? x - r : 0;
      const b = x + r < w - 1 ? x + r : w - 1;
      if (b - a + 1 === k) {
        // The full window (the common case), unrolled for the two radii used; 0 + src[a] is src[a],
        // so starting from src[a] is the same sum.
        const i = row + a;
        if (r === 1) tmp[row + x] = (src[i] + src[i + 1] + src[i + 2]) / 3;
        else if (r === 3) tmp[row + x] = (src[i] + src[i + 1] + src[i + 2] + src[i + 3] + src[i + 4] + src[i + 5] + src[i + 6]) / 7;
        else {
          let s = src[i];
          for (let j = i + 1; j <= i + 2 * r; j++) s += src[j];
          tmp[row + x] = s / k;
        }
        continue;
      }
      let s = 0;
      for (let j = a; j <= b; j++) s += src[row + j];
      tmp[row + x] = s / (b - a + 1);
    }
  }
  const acc = S.acc;
  for (let y = 0; y < h; y++) {
    const a = y - r > 0 ? y - r : 0;
    const b = y + r < h - 1 ? y + r : h - 1;
    const n = b - a + 1;
    const orow = y * w;
    const i0 = a * w;
    if (n === k && r === 1) {
      for (let x = 0; x < w; x++) out[orow + x] = (tmp[i0 + x] + tmp[i0 + w + x] + tmp[i0 + 2 * w + x]) / 3;
      continue;
    }
    if (n === k && r === 3) {
      const w2 = 2 * w;
      const w3 = 3 * w;
      const i4 = i0 + 4 * w;
      for (let x = 0; x < w; x++) {
        const j = i0 + x;
        const l = i4 + x;
        out[orow + x] = (tmp[j] + tmp[j + w] + tmp[j + w2] + tmp[j + w3] + tmp[l] + tmp[l + w] + tmp[l + w2]) / 7;
      }
      continue;
    }
    // Column sums for a whole output row at once: per pixel the rows are still added a, a+1, … b.
    for (let x = 0; x < w; x++) acc[x] = tmp[i0 + x];
    for (let j = a + 1; j <= b; j++) {
      const base = j * w;
      for (let x = 0; x < w; x++) acc[x] += tmp[base + x];
    }
    for (let x = 0; x < w; x++) out[orow + x] = acc[x] / n;
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

/**
 * The k-th smallest (0-based) of values[0..n), all ≥ +0 (no −0, no NaN): for such floats the bit
 * pattern orders like the value, so three counting passes over 11, 11 and 10 bits find it (exactly the
 * value a sort or quickselect gives) without quickselect's data-dependent swaps. Leaves a unchanged.
 */
function kthNonNegative(a: Float32Array, n: number, k: number): number {
  const bits = new Uint32Array(a.buffer, a.byteOffset, n);
  const count = S.radix;
  let prefix = 0; // the bits above `shift` fixed so far
  let rank = k;
  for (const [shift, width] of [
    [21, 11],
    [10, 11],
    [0, 10],
  ] as const) {
    const buckets = 1 << width;
    const mask = buckets - 1;
    count.fill(0, 0, buckets);
    const top = shift + width; // bits at and above `top` must equal the prefix
    if (top >= 32) for (let i = 0; i < n; i++) count[bits[i]! >>> shift]!++;
    else for (let i = 0; i < n; i++) if (bits[i]! >>> top === prefix) count[(bits[i]! >>> shift) & mask]!++;
    let b = 0;
    while (rank >= count[b]!) rank -= count[b++]!;
    prefix = (prefix << width) | b;
  }
  return new Float32Array(new Uint32Array([prefix >>> 0]).buffer)[0]!;
}

const OTSU_BINS = 64;

/**
 * Otsu's bin of an ink value (clamped to the last bin). Ink is never negative (the paper estimate is
 * never below the pixel), so truncation is the floor.
 */
function otsuBin(v: number): number {
  const b = (v * OTSU_BINS) | 0;
  return b > OTSU_BINS - 1 ? OTSU_BINS - 1 : b;
}

/** Otsu threshold from a histogram of OTSU_BINS bins over [0, 1] holding `total` values. */
function otsuOfHist(hist: Int32Array, total: number): number {
  const bins = OTSU_BINS;
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
  /** Whether any line was found (else `line` is all zero). */
  any: boolean;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** `line` receives the line pixels (a w·h scratch buffer; it is cleared first). */
function findBoxLines(mask: Uint8Array, w: number, h: number, line: Uint8Array): BoxLines {
  const band = 0.25;
  const tol = 2; // rows (columns) of slack so that a slightly tilted line still forms one long run
  const n = w * h;
  const remove = S.remove;
  remove.fill(0, 0, n);
  let any = false;
  // Horizontal lines: a column is "on" in row y when any row within ±tol has ink there.
  const minH = Math.round(0.72 * w);
  let top = -1;
  let bottom = h;
  for (let y = 0; y < h; y++) {
    if (y >= band * h && y < (1 - band) * h) continue;
    const ka = y - tol > 0 ? y - tol : 0;
    const kb = y + tol < h - 1 ? y + tol : h - 1;
    let runStart = -1;
    for (let x = 0; x <= w; x++) {
      let on = 0;
      if (x < w) for (let k = ka * w + x; k <= kb * w + x; k += w) on |= mask[k];
      if (on && runStart < 0) runStart = x;
      if (!on && runStart >= 0) {
        if (x - runStart >= minH) {
          any = true;
          remove.fill(1, y * w + runStart, y * w + x);
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
      let on = 0;
      if (y < h) {
        const row = y * w;
        for (let k = row + ka; k <= row + kb; k++) on |= mask[k];
      }
      if (on && runStart < 0) runStart = y;
      if (!on && runStart >= 0) {
        if (y - runStart >= minV) {
          any = true;
          for (let yy = runStart; yy < y; yy++) remove[yy * w + x] = 1;
          if (x < w / 2) left = Math.max(left, x);
          else right = Math.min(right, x);
        }
        runStart = -1;
      }
    }
  }
  if (!any) {
    line.fill(0, 0, n);
    return { line, any, top, bottom, left, right };
  }
  // 3×3 dilation of `remove`, separable: rows, then columns.
  const rowOr = S.rowOr;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) rowOr[row + x] = remove[row + x] | (x > 0 ? remove[row + x - 1] : 0) | (x < w - 1 ? remove[row + x + 1] : 0);
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = y > 0 ? row - w : row;
    const down = y < h - 1 ? row + w : row;
    for (let x = 0; x < w; x++) line[row + x] = rowOr[up + x] | rowOr[row + x] | rowOr[down + x];
  }
  return { line, any, top, bottom, left, right };
}

/** Components in struct-of-arrays form (index k is label k + 1), for normaliseBox's own passes. */
interface Comps {
  n: number;
  seed: Int32Array;
  area: Int32Array;
  minX: Int32Array;
  maxX: Int32Array;
  minY: Int32Array;
  maxY: Int32Array;
  peak: Float64Array;
}
const newComps = (): Comps => ({
  n: 0,
  seed: new Int32Array(WN),
  area: new Int32Array(WN),
  minX: new Int32Array(WN),
  maxX: new Int32Array(WN),
  minY: new Int32Array(WN),
  maxY: new Int32Array(WN),
  peak: new Float64Array(WN),
});
const compsCore = newComps();
const compsLow = newComps();

/**
 * 8-connected components of mask (the same labelling, scan order and statistics as `components`),
 * into scratch: labels (1-based, cleared first) and the struct-of-arrays `out`.
 */
function componentsInto(mask: Uint8Array, ink: Float32Array, w: number, h: number, labels: Int32Array, out: Comps): void {
  const n = w * h;
  labels.fill(0, 0, n);
  const stack = S.stack;
  let id = 0;
  for (let start = 0; start < n; start++) {
    if (!mask[start] || labels[start]) continue;
    const k = id++;
    let area = 0;
    let minX = w;
    let maxX = -1;
    let minY = h;
    let maxY = -1;
    let peak = 0;
    labels[start] = id;
    let sp = 0;
    stack[sp++] = start;
    while (sp > 0) {
      const i = stack[--sp];
      const x = i % w;
      const y = (i - x) / w;
      area++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (ink[i] > peak) peak = ink[i];
      const ya = y > 0 ? y - 1 : 0;
      const yb = y < h - 1 ? y + 1 : h - 1;
      const xa = x > 0 ? x - 1 : 0;
      const xb = x < w - 1 ? x + 1 : w - 1;
      for (let yy = ya; yy <= yb; yy++) {
        const row = yy * w;
        for (let xx = xa; xx <= xb; xx++) {
          const j = row + xx;
          if (mask[j] && !labels[j]) {
            labels[j] = id;
            stack[sp++] = j;
          }
        }
      }
    }
    out.seed[k] = start;
    out.area[k] = area;
    out.minX[k] = minX;
    out.maxX[k] = maxX;
    out.minY[k] = minY;
    out.maxY[k] = maxY;
    out.peak[k] = peak;
  }
  out.n = id;
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
  const n = w * h;
  // A 3×3 blur: sensor and JPEG noise must not reach the threshold as a cloud of single pixels.
  const sharp = resample(grey0, img.width, img.height, w, h, S.sharp);
  const grey = boxBlur(sharp, w, h, 1, S.grey);
  // Pixel noise σ from the high-frequency residual (median absolute value: strokes and edges are a
  // minority of pixels, so they barely move it). The blur divides white noise by about 3.
  const resid = S.strong; // free until step 5
  for (let i = 0; i < n; i++) resid[i] = Math.abs(sharp[i] - grey[i]);
  const noiseSigma = (1.4826 * kthNonNegative(resid, n, Math.floor(n / 2))) / 0.943 / 3;

  // 2. Ink = darkness relative to the local paper (a max filter wider than any stroke), so shadows,
  //    grey photos and tinted paper all give the same ink map.
  const bg = boxBlur(maxFilter15(grey, w, h, S.maxed), w, h, 3, S.bg);
  const ink = S.ink;
  // The same pass sums the paper level (for the noise floor) and bins the ink for Otsu.
  const hist = S.hist;
  hist.fill(0);
  let paper = 0;
  for (let i = 0; i < n; i++) {
    const g = grey[i];
    const bi = bg[i];
    let b = bi > g ? bi : g;
    if (!(b >= 1)) b = 1;
    const v = Math.fround((b - g) / b);
    ink[i] = v;
    hist[otsuBin(v)]++;
    paper += bi;
  }

  // 3. Binary mask: Otsu on the ink map, with an absolute floor so that paper grain in an empty box
  //    does not become "ink" just because Otsu always finds two classes.
  const tLines = Math.max(otsuOfHist(hist, n), 0.14);
  const mask = S.mask;
  for (let i = 0; i < n; i++) mask[i] = ink[i] >= tLines ? 1 : 0;

  // 4. Printed box lines and whatever lies outside them. Then threshold again inside the box only:
  //    a dark border drives the first Otsu threshold up and would erase a faint pen stroke.
  const lines = findBoxLines(mask, w, h, S.line1);
  const line1 = lines.line;
  // Interior rectangle (exclusive bounds of the printed lines), as loop limits.
  const ix0 = Math.max(0, lines.left + 1);
  const ix1 = Math.min(w, lines.right);
  const iy0 = Math.max(0, lines.top + 1);
  const iy1 = Math.min(h, lines.bottom);
  // Only the interior's Otsu threshold is needed: bin it directly.
  hist.fill(0);
  let nInterior = 0;
  for (let y = iy0; y < iy1; y++) {
    const row = y * w;
    if (!lines.any) {
      for (let x = ix0; x < ix1; x++) hist[otsuBin(ink[row + x])]++;
      nInterior += ix1 - ix0 > 0 ? ix1 - ix0 : 0;
      continue;
    }
    for (let x = ix0; x < ix1; x++) {
      if (line1[row + x]) continue;
      hist[otsuBin(ink[row + x])]++;
      nInterior++;
    }
  }
  // Noise floor: five σ of blurred pixel noise relative to the paper, so that a noisy empty box stays
  // empty instead of Otsu splitting its grain into two classes.
  paper /= n;
  const noiseFloor = (5 * noiseSigma) / Math.max(paper, 1);
  // Printed guides are much fainter than pen ink; the printed border is the best local reference for
  // "full ink" on this photo, so anything far fainter than it is not writing.
  const lineInk = S.lineInk;
  let nLineInk = 0;
  if (lines.any) for (let i = 0; i < n; i++) if (line1[i] && mask[i]) lineInk[nLineInk++] = ink[i];
  const guideFloor = nLineInk > 20 ? 0.3 * kthSmallest(lineInk, nLineInk, Math.floor(nLineInk / 2)) : 0;
  // Two interior thresholds. `tCore` decides WHETHER a mark is writing (as before session 3: it keeps
  // grain, dotted guides and specks out of blank boxes); `t`, with a lower absolute floor, decides how
  // MUCH of a kept mark is drawn, so a pale pen keeps its faint strokes (hysteresis: a faint stroke
  // survives only when connected to a core component).
  const otsuInterior = nInterior ? otsuOfHist(hist, nInterior) : 0;
  const tCore = nInterior ? Math.max(noiseFloor, guideFloor, Math.min(tLines, Math.max(otsuInterior, CORE_FLOOR))) : Math.max(tLines, noiseFloor, guideFloor);
  const t = nInterior ? Math.max(noiseFloor, guideFloor, Math.min(tLines, Math.max(otsuInterior, INTERIOR_FLOOR))) : tCore;

  // Printed lines fainter than the first threshold (a grey border on a photo whose darkest ink is the
  // pen) vanish from the first mask but come back at the interior threshold as bars beside the digit
  // ("|3|"): look for lines again at this threshold and treat them like the first ones.
  // (When t ≥ tLines the stroke mask is a subset of the first one, so this pass cannot find anything
  // the first did not: skipped.)
  const low = S.low;
  let lines2 = lines;
  if (t < tLines) {
    for (let i = 0; i < n; i++) low[i] = ink[i] >= t ? 1 : 0;
    lines2 = findBoxLines(low, w, h, S.line2);
  }
  const line2 = lines2.line;
  const jx0 = Math.max(ix0, lines2.left + 1);
  const jx1 = Math.min(ix1, lines2.right);
  const jy0 = Math.max(iy0, lines2.top + 1);
  const jy1 = Math.min(iy1, lines2.bottom);
  mask.fill(0, 0, n);
  low.fill(0, 0, n);
  for (let y = jy0; y < jy1; y++) {
    for (let x = jx0; x < jx1; x++) {
      const i = y * w + x;
      if (line1[i] || line2[i]) continue;
      const v = ink[i];
      if (v >= tCore) mask[i] = 1;
      if (v >= t) low[i] = 1;
    }
  }

  // 5. Dotted guides, specks and line remnants: drop small or faint core components, and thin slivers
  //    hugging the crop edge (remnants of the border or a neighbouring box).
  const coreLabels = S.labelsCore;
  componentsInto(mask, ink, w, h, coreLabels, compsCore);
  // Equal thresholds (a dark pen: the interior Otsu is above both floors) give equal masks.
  let labels = coreLabels;
  let comps = compsCore;
  if (t !== tCore) {
    labels = S.labelsLow;
    comps = compsLow;
    componentsInto(low, ink, w, h, labels, comps);
  }
  const keepCore = new Uint8Array(compsCore.n + 1);
  const minArea = Math.max(6, Math.round(0.004 * w * h));
  const cc = compsCore;
  for (let k = 0; k < cc.n; k++) {
    const cw = cc.maxX[k] - cc.minX[k] + 1;
    const ch = cc.maxY[k] - cc.minY[k] + 1;
    const extent = Math.max(cw, ch);
    if (cc.area[k] < minArea && extent < 0.12 * Math.max(w, h)) continue;
    // A faint core is a guide dot or a speck unless the stroke it belongs to (at the stroke threshold)
    // is large: a pale "1" has only a few core pixels but a long stroke.
    if (cc.peak[k] < 1.4 * tCore && comps.area[labels[cc.seed[k]] - 1] < 4 * minArea) continue;
    const edge = 2;
    const touchesEdge = cc.minX[k] < edge || cc.minY[k] < edge || cc.maxX[k] >= w - edge || cc.maxY[k] >= h - edge;
    if (touchesEdge && Math.min(cw, ch) <= 3 && Math.max(cw, ch) < 0.5 * Math.max(w, h)) continue;
    keepCore[k + 1] = 1;
  }
  // The kept writing at the lower threshold: components of `low` that contain a kept core pixel.
  // (The core mask lies inside the stroke mask, t ≤ tCore, so a core component lies in one stroke
  // component: the one holding its seed.)
  const keep = new Uint8Array(comps.n + 1);
  // Bounding box of the kept components (the kept pixels are looked for only there).
  let bx0 = w;
  let by0 = h;
  let bx1 = -1;
  let by1 = -1;
  for (let k = 0; k < cc.n; k++) {
    if (!keepCore[k + 1]) continue;
    const l = labels[cc.seed[k]];
    if (keep[l]) continue;
    keep[l] = 1;
    if (comps.minX[l - 1] < bx0) bx0 = comps.minX[l - 1];
    if (comps.maxX[l - 1] > bx1) bx1 = comps.maxX[l - 1];
    if (comps.minY[l - 1] < by0) by0 = comps.minY[l - 1];
    if (comps.maxY[l - 1] > by1) by1 = comps.maxY[l - 1];
  }

  let minX = w;
  let minY = h;
  let maxX = -1;
  let maxY = -1;
  let area = 0;
  // Kept ink as a mask and as a list of values (for the percentile below).
  const kept = S.kept;
  kept.fill(0, 0, n);
  const strong = S.strong;
  for (let y = by0; y <= by1; y++) {
    const row = y * w;
    for (let x = bx0; x <= bx1; x++) {
      const i = row + x;
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
  const rowNear = S.rowOr;
  rowNear.fill(0, 0, n);
  for (let y = minY; y <= maxY; y++) {
    const row = y * w;
    for (let x = hx0; x <= hx1; x++) rowNear[row + x] = kept[row + x] | (x > 0 ? kept[row + x - 1] : 0) | (x < w - 1 ? kept[row + x + 1] : 0);
  }
  const clean = S.clean;
  clean.fill(0, 0, n);
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
  const crop = S.tmp; // free after the blurs
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) crop[y * bw + x] = clean[(minY + y) * w + minX + x];
  const small = resample(crop, bw, bh, tw, th, new Float32Array(tw * th));

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
