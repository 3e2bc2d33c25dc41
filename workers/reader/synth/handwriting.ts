/**
 * Handwriting for synthetic forms: real KPPS digit crops (training-side TPS only, see digits/split.ts,
 * so held-out evaluation stays honest), MNIST training digits, and drawn X fillers and zeros.
 *
 * Real crops labelled 0 are never used: upstream label 0 mixes written zeros with struck-through X
 * fillers, and a synthetic box whose ground truth might be wrong is worse than none. Zeros come from
 * MNIST or are drawn.
 */
import { createCanvas, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { RectMm } from '../template/types.js';
import type { BoxClass } from '../types.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Image } from '@napi-rs/canvas';
import { hasRealCrops, loadMnist, realCropIndex } from '../digits/data.js';
import { components } from '../digits/preprocess.js';
import type { Rng } from './random.js';

export interface InkGlyph {
  /** Ink as alpha on a transparent canvas, coloured. */
  canvas: Canvas;
  source: string;
}

interface RawSource { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels: number }

export interface RealGlyph { file: string; tpsCode: string; bytes: Buffer }

/**
 * 'train' (default, what the issue asks for synthetic forms): training-side TPS crops and MNIST's
 * training part. 'heldout': only writers the digit model never saw (held-out TPS crops, MNIST's test
 * part), for an end-to-end figure on unseen handwriting. 'calibration': only the calibration TPS's
 * writers (a subset of 'heldout', never trained on; digit weights are already chosen on their raw
 * crops) with MNIST's test part, for choosing weights on photographed boxes without rewarding a
 * model for remembering training-side writers. (MNIST's test part is also what mnistTop1 scores:
 * choosing on these photos leans on it a little.)
 */
export type HandwritingPart = 'train' | 'heldout' | 'calibration';

export interface GlyphLibrary {
  part: HandwritingPart;
  real: Map<number, RealGlyph[]>;
  mnist: Map<number, Float32Array[]>;
}

const libraries = new Map<HandwritingPart, Promise<GlyphLibrary>>();

/**
 * Real crops of one side of the TPS split (labels 1–9), bytes only: decoding happens when a crop is
 * drawn, so a run that writes ten photos does not decode eight thousand crops. The dataset's index
 * (duplicates, conflicting labels, the label review) is data.ts realCropIndex.
 */
function realCrops(part: HandwritingPart): (RealGlyph & { label: number })[] {
  const out: (RealGlyph & { label: number })[] = [];
  for (const c of realCropIndex()) {
    // Held-out TPS (and crops of unknown TPS) never enter training-side forms: the digit evaluation uses them.
    if (part === 'calibration' ? c.part !== 'calibration' : (c.part !== 'train') !== (part === 'heldout')) continue;
    // A crop a person found to show another class is drawn as that class (label-review.ts); one that
    // shows an X is not a digit glyph and is left out (X fillers are drawn, not taken from crops).
    const label = c.shows ?? c.label;
    if (label < 1 || label > 9) continue;
    out.push({ file: c.file, tpsCode: c.tpsCode, label, bytes: c.bytes });
  }
  return out;
}

function decodeCrop(bytes: Buffer): RawSource {
  const img = new Image();
  img.src = bytes;
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height);
  return { data: d.data, width: img.width, height: img.height, channels: 4 };
}

/**
 * Loads the glyph sources once per process. Without ../shared/data (a user's machine) only MNIST
 * and drawn glyphs are available; the synthesiser still works.
 */
export function loadGlyphLibrary(opts: { realCrops?: boolean; part?: HandwritingPart } = {}): Promise<GlyphLibrary> {
  const wantReal = opts.realCrops !== false && hasRealCrops();
  const part = opts.part ?? 'train';
  const cached = libraries.get(part);
  if (cached && wantReal) return cached;
  const load = (async () => {
    const real = new Map<number, RealGlyph[]>();
    if (wantReal) for (const g of realCrops(part)) real.set(g.label, [...(real.get(g.label) ?? []), g]);
    const mnist = new Map<number, Float32Array[]>();
    for (const s of loadMnist(part === 'train' ? 'train' : 'test')) {
      const list = mnist.get(s.digit) ?? [];
      list.push(s.pixels);
      mnist.set(s.digit, list);
    }
    return { part, real, mnist };
  })();
  if (wantReal) libraries.set(part, load);
  return load;
}

export interface PenStyle {
  /** CSS colour of the ballpoint. */
  colour: string;
  rgb: [number, number, number];
  /** Stroke width for drawn glyphs, in mm. */
  strokeMm: number;
  /** Share of digits taken from real crops (the rest from MNIST). */
  realShare: number;
  /** Glyph height relative to the box. */
  scale: number;
}

const PENS: [string, [number, number, number]][] = [
  ['#1c2d80', [28, 45, 128]],
  ['#22389c', [34, 56, 156]],
  ['#1a1a1a', [26, 26, 26]],
  ['#2b2b5a', [43, 43, 90]],
];

export function randomPen(rng: Rng, realAvailable: boolean): PenStyle {
  const [colour, rgb] = rng.pick(PENS);
  return { colour, rgb, strokeMm: rng.uniform(0.35, 0.7), realShare: realAvailable ? rng.uniform(0.4, 0.9) : 0, scale: rng.uniform(0.6, 0.85) };
}

/**
 * A real crop turned into pen-coloured ink on transparency. The crops are cuts of photographed boxes:
 * they carry the printed box border (often thick, rotated and blurred) and a grey or blue paper. We
 * cut inside the border (the darkest row/column band near each edge), then level the paper to
 * transparent so that only the writing is drawn into our own box: `alpha` is the ink (0..1) per pixel
 * of the w × h inside.
 */
export function cropInk(img: RawSource, opts: { colour?: boolean } = {}): { alpha: number[]; w: number; h: number } {
  const { width: w0, height: h0, channels: ch, data } = img;
  const grey = new Float32Array(w0 * h0);
  for (let i = 0; i < w0 * h0; i++) {
    const r = data[i * ch]!;
    const g = ch >= 3 ? data[i * ch + 1]! : r;
    const b = ch >= 3 ? data[i * ch + 2]! : r;
    grey[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  const all = Float32Array.from(grey).sort();
  const paper0 = all[Math.floor(all.length * 0.6)]!;
  const dark0 = all[Math.floor(all.length * 0.03)]!;
  const thr = (paper0 + dark0) / 2;
  // A pixel counts as ink for border finding if it or its neighbour across the line is dark: a
  // slightly rotated border still reads as one mostly-inked row.
  const dark = (x: number, y: number) => x >= 0 && y >= 0 && x < w0 && y < h0 && grey[y * w0 + x]! < thr;
  const rowInk = (y: number) => {
    let n = 0;
    for (let x = 0; x < w0; x++) if (dark(x, y) || dark(x, y - 1) || dark(x, y + 1)) n++;
    return n / w0;
  };
  const colInk = (x: number) => {
    let n = 0;
    for (let y = 0; y < h0; y++) if (dark(x, y) || dark(x - 1, y) || dark(x + 1, y)) n++;
    return n / h0;
  };
  // The border is the outermost strongly inked row/column in the outer 15% (the crops are cuts of
  // the box, so its printed outline sits at the edge). Blocky KPPS digits written over the
  // seven-segment guide put a bar of a 7, 2, 3 or 5 just inside the outline and nearly as long:
  // the cut must stop between the two, never run through the bar (that turned a 7 into a 1 while
  // the ground truth still said 7).
  const edge = (len: number, f: (i: number) => number, fromStart: boolean) => {
    const band = Math.ceil(len * 0.15);
    const at = (k: number) => (fromStart ? k : len - 1 - k);
    let k = 0;
    while (k < band && f(at(k)) < 0.6) k++;
    if (k >= band) return fromStart ? 0 : len;
    // Up to the line's peak, then down its far flank; a rise again (or paper) ends the line.
    while (k + 1 < band && f(at(k + 1)) >= f(at(k))) k++;
    while (k + 1 < band) {
      const next = f(at(k + 1));
      if (next < 0.3 || next > f(at(k)) + 0.02) break;
      k++;
    }
    const i = at(k);
    const margin = Math.max(1, Math.round(len * 0.02));
    return fromStart ? i + 1 + margin : i - margin;
  };
  const top = edge(h0, rowInk, true);
  const bottom = edge(h0, rowInk, false);
  const left = edge(w0, colInk, true);
  const right = edge(w0, colInk, false);
  const x0 = Math.min(left, Math.floor(w0 * 0.3));
  const x1 = Math.max(right, Math.ceil(w0 * 0.7));
  const y0 = Math.min(top, Math.floor(h0 * 0.3));
  const y1 = Math.max(bottom, Math.ceil(h0 * 0.7));
  const w = Math.max(2, x1 - x0);
  const h = Math.max(2, y1 - y0);
  const inner: number[] = [];
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) inner.push(grey[y * w0 + x]!);
  const sorted = Float32Array.from(inner).sort();
  const paper = sorted[Math.floor(sorted.length * 0.7)]!;
  const darkest = sorted[Math.floor(sorted.length * 0.02)]!;
  const span = Math.max(25, paper - darkest);
  // Faint dotted guides and paper texture fall below the 25% cut; strokes saturate.
  const alpha = inner.map((g) => Math.min(1, Math.max(0, ((paper - g) / span - 0.25) / 0.5)));
  // Second pass on what is left: a border remnant the first cut missed is inked over nearly the
  // whole length (> 85%) and touches the cut's edge. Only rows/columns running in from the edge are
  // cleared. A digit's bar usually has paper between it and the edge, but the cut can end inside the
  // bar of a blocky 3 or 2 written close to the border; such bars span two thirds of the box, so at
  // the earlier 60% they were cleared and a 3 became a 7 under a ground truth that still said 3.
  // A remnant that runs (nearly) the whole length (> 90%) is cleared wherever it sits in the outer 12%: a
  // bar of writing stops short of the box's corners.
  const rowShare = (y: number) => {
    let n = 0;
    for (let x = 0; x < w; x++) if (alpha[y * w + x]! > 0.3) n++;
    return n / w;
  };
  const colShare = (x: number) => {
    let n = 0;
    for (let y = 0; y < h; y++) if (alpha[y * w + x]! > 0.3) n++;
    return n / h;
  };
  const clearRow = (y: number) => alpha.fill(0, y * w, (y + 1) * w);
  const clearCol = (x: number) => {
    for (let y = 0; y < h; y++) alpha[y * w + x] = 0;
  };
  for (let y = 0; y < h * 0.18 && rowShare(y) > 0.85; y++) clearRow(y);
  for (let y = h - 1; y >= h * 0.82 && rowShare(y) > 0.85; y--) clearRow(y);
  for (let x = 0; x < w * 0.18 && colShare(x) > 0.85; x++) clearCol(x);
  for (let x = w - 1; x >= w * 0.82 && colShare(x) > 0.85; x--) clearCol(x);
  for (let y = 0; y < h; y++) if ((y < h * 0.12 || y >= h * 0.88) && rowShare(y) > 0.9) clearRow(y);
  for (let x = 0; x < w; x++) if ((x < w * 0.12 || x >= w * 0.88) && colShare(x) > 0.9) clearCol(x);
  dropPrintRemnants(alpha, w, h);
  if (ch >= 3 && opts.colour !== false) dropUncolouredPrint(alpha, w, h, inkChroma(data, ch, w0, x0, y0, w, h, paper));
  return { alpha, w, h };
}

/**
 * How far each pixel of the cut's window (x0, y0, w × h) is from neutral grey, beyond the paper's own
 * tint (a yellowed sheet or a warm photo is not ink colour): |(r, g, b) − grey − paper's (r, g, b) −
 * its grey|, averaged over 3 × 3 because a JPEG keeps colour at half resolution.
 */
function inkChroma(data: Uint8Array | Uint8ClampedArray, ch: number, w0: number, x0: number, y0: number, w: number, h: number, paperGrey: number): Float32Array {
  const raw = new Float32Array(w * h * 3);
  const tint = [0, 0, 0];
  let nPaper = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const s = ((y0 + y) * w0 + x0 + x) * ch;
      const r = data[s]!;
      const g = data[s + 1]!;
      const b = data[s + 2]!;
      const grey = 0.299 * r + 0.587 * g + 0.114 * b;
      const i = (y * w + x) * 3;
      raw[i] = r - grey;
      raw[i + 1] = g - grey;
      raw[i + 2] = b - grey;
      if (grey >= paperGrey) {
        tint[0] += r - grey;
        tint[1] += g - grey;
        tint[2] += b - grey;
        nPaper++;
      }
    }
  for (let c = 0; c < 3; c++) tint[c]! /= Math.max(1, nPaper);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const sum = [0, 0, 0];
      let n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
          const i = (yy * w + xx) * 3;
          for (let c = 0; c < 3; c++) sum[c]! += raw[i + c]!;
          n++;
        }
      out[y * w + x] = Math.hypot(sum[0]! / n - tint[0]!, sum[1]! / n - tint[1]!, sum[2]! / n - tint[2]!);
    }
  return out;
}

/** Chroma (inkChroma units) from which a crop's writing counts as a coloured pen rather than grey or black. */
const COLOURED_PEN_CHROMA = 8;

/**
 * A crop written with a coloured pen (the blue ballpoint most KPPS use) says by colour which ink is
 * theirs: the form's printed box and guides are grey or black. When the writing is clearly coloured
 * (COLOURED_PEN_CHROMA), pieces of ink at the crop's edges with under 30% of its colour are print the
 * row/column cuts and dropPrintRemnants missed (a tilted box's top bar and sides, drawn into our
 * form, put a "Π" over a 1 while the ground truth said 1). The thresholds were set by looking at
 * montages of crops that lost ink (up to 120 at a time, of the 158–243 that changed as the limits were
 * tightened; a blocky 3's bottom bar at 37% of the pen's colour stays).
 * With a black or grey pen, colour says nothing and nothing is dropped.
 */
export function dropUncolouredPrint(alpha: number[] | Float32Array, w: number, h: number, chroma: Float32Array): void {
  const ink = Float32Array.from(alpha);
  const mask = Uint8Array.from(ink, (a) => (a > 0.3 ? 1 : 0));
  const { labels, comps } = components(mask, ink, w, h);
  const sum = new Float64Array(comps.length + 1);
  const weight = new Float64Array(comps.length + 1);
  for (let i = 0; i < w * h; i++) {
    const id = labels[i]!;
    if (!id) continue;
    sum[id]! += chroma[i]! * ink[i]!;
    weight[id]! += ink[i]!;
  }
  const colour = (id: number) => sum[id]! / Math.max(1e-9, weight[id]!);
  // The pen's colour: that of the most colourful piece of a real size centred in the crop (specks
  // do not decide, nor does a coloured sliver of the neighbouring box at the edge).
  let pen = 0;
  comps.forEach((c, k) => {
    const cx = (c.minX + c.maxX + 1) / 2 / w;
    const cy = (c.minY + c.maxY + 1) / 2 / h;
    if (c.area >= 0.01 * w * h && cx > 0.2 && cx < 0.8 && cy > 0.2 && cy < 0.8) pen = Math.max(pen, colour(k + 1));
  });
  if (pen < COLOURED_PEN_CHROMA) return;
  // Only pieces that reach the outer band are print: a crop's own box sits at its edges, while a
  // greyish stroke in the middle is more likely a pale part of the writing (a traced guide segment).
  const bx = Math.max(1, Math.round(w * 0.15));
  const by = Math.max(1, Math.round(h * 0.15));
  const drop = new Uint8Array(comps.length + 1);
  let kept = 0;
  let total = 0;
  comps.forEach((c, k) => {
    const atEdge = c.minX < bx || c.maxX >= w - bx || c.minY < by || c.maxY >= h - by;
    if (colour(k + 1) < 0.3 * pen && atEdge) drop[k + 1] = 1;
    else kept += weight[k + 1]!;
    total += weight[k + 1]!;
  });
  // The writing is most of what a crop holds besides its frame; when the coloured part is a small
  // share, the colour judgement is not to be trusted (a blue speck beside a black digit).
  if (kept < 0.2 * total) return;
  for (let i = 0; i < w * h; i++) if (drop[labels[i]!]) alpha[i] = 0;
}

/**
 * How opaque our pen draws a crop pixel. The crop's greys are a photograph of ballpoint ink: a thin
 * stroke that reads half as dark as the thickest one is still a full pen stroke, only thinner than
 * the camera's pixel and blurred. Drawn at half alpha and then photographed again by our own
 * camera model, it was degraded twice and often vanished (a blocky 2's uprights, a 4's stem: the
 * ground truth said 2 and the photo showed "="). So ink saturates from half the crop's darkness up;
 * the fainter fringe keeps a soft edge.
 */
const inkAlpha = (a: number) => Math.min(1, 2 * a);

/** A real crop as pen-coloured ink on a transparent canvas (cropInk, drawn at inkAlpha); null when no writing is left. */
export function realToInk(img: RawSource, rgbPen: [number, number, number]): Canvas | null {
  const { alpha, w, h } = cropInk(img);
  if (!alpha.some((a) => a > 0.3)) return null;
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const out = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    out.data[i * 4] = rgbPen[0];
    out.data[i * 4 + 1] = rgbPen[1];
    out.data[i * 4 + 2] = rgbPen[2];
    out.data[i * 4 + 3] = Math.round(inkAlpha(alpha[i]!) * 255);
  }
  ctx.putImageData(out, 0, 0);
  return canvas;
}

/**
 * What the row/column cuts above miss, judged per connected piece of ink (alpha > 0.3, 8-connected):
 * - a straight rule (long and thin) lying in the outer band across its direction: the crop's own
 *   border or an underline/overline printed near it (a digit's stem or bar is joined to the rest of
 *   the digit, so it is not a piece of its own; a lone 1 stands in the middle, not in the band);
 * - a frame: a piece spanning most of the crop both ways with ink along all four sides of its
 *   bounding box (an inner printed box around the writing; no digit 1–9 closes all four sides);
 * - dust: pieces under 0.4% of the area (the dotted guide's dots, JPEG specks).
 * Such pieces are not what the KPPS wrote; carried into our own box they would print a box inside
 * the box or underline the digit, and the ground truth would no longer describe the image.
 */
export function dropPrintRemnants(alpha: number[] | Float32Array, w: number, h: number): void {
  const ink = Float32Array.from(alpha);
  const mask = Uint8Array.from(ink, (a) => (a > 0.3 ? 1 : 0));
  const { labels, comps } = components(mask, ink, w, h);
  comps.forEach((c, k) => {
    const id = k + 1;
    const { minX: x0, maxX: x1, minY: y0, maxY: y1 } = c;
    const bw = x1 - x0 + 1;
    const bh = y1 - y0 + 1;
    const cx = (x0 + x1) / 2 / w;
    const cy = (y0 + y1) / 2 / h;
    const horizontalRule = bw >= 0.55 * w && bh <= 0.14 * h && (cy < 0.25 || cy > 0.75);
    const verticalRule = bh >= 0.55 * h && bw <= 0.14 * w && (cx < 0.22 || cx > 0.78);
    // A frame has ink along all four sides of its bounding box (a 7 or a blocky 4 covers two or
    // three) and none across its middle (a blocky 8, "日", has its bar there).
    const mx = Math.max(1, Math.round(bw * 0.15));
    const my = Math.max(1, Math.round(bh * 0.15));
    let inside = 0;
    const top = new Uint8Array(bw);
    const bottom = new Uint8Array(bw);
    const left = new Uint8Array(bh);
    const right = new Uint8Array(bh);
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        if (labels[y * w + x] !== id) continue;
        if (y < y0 + my) top[x - x0] = 1;
        if (y > y1 - my) bottom[x - x0] = 1;
        if (x < x0 + mx) left[y - y0] = 1;
        if (x > x1 - mx) right[y - y0] = 1;
        if (x >= x0 + mx && x <= x1 - mx && y >= y0 + my && y <= y1 - my) inside++;
      }
    const covered = (a: Uint8Array) => a.reduce((n, v) => n + v, 0) / a.length;
    const frame = bw >= 0.6 * w && bh >= 0.6 * h && [top, bottom, left, right].every((a) => covered(a) >= 0.75) && inside < 0.05 * c.area;
    const dust = c.area < 0.004 * w * h;
    if (horizontalRule || verticalRule || frame || dust)
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (labels[y * w + x] === id) alpha[y * w + x] = 0;
  });
}

function mnistToInk(pixels: Float32Array, rgb: [number, number, number]): Canvas {
  const canvas = createCanvas(28, 28);
  const ctx = canvas.getContext('2d');
  const out = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    out.data[i * 4] = rgb[0];
    out.data[i * 4 + 1] = rgb[1];
    out.data[i * 4 + 2] = rgb[2];
    // MNIST strokes are ~15% of the digit height; scaled into a 9 mm box that is a felt-tip, not a
    // ballpoint. Keeping only the stroke core thins them toward what KPPS write.
    out.data[i * 4 + 3] = Math.round(Math.min(1, Math.max(0, (pixels[i]! - 0.45) * 2.5)) * 255);
  }
  ctx.putImageData(out, 0, 0);
  return canvas;
}

/** The bounding box of ink (alpha > 40) in a glyph canvas, so glyphs are scaled by their writing, not their margins. */
function inkBounds(c: Canvas): { x: number; y: number; w: number; h: number } | null {
  const ctx = c.getContext('2d');
  const { data, width, height } = ctx.getImageData(0, 0, c.width, c.height);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[(y * width + x) * 4 + 3]! > 40) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

function drawInk(ctx: SKRSContext2D, glyph: Canvas, box: RectMm, rng: Rng, pen: PenStyle): boolean {
  const b = inkBounds(glyph);
  if (!b || b.w < 2 || b.h < 2) return false;
  const targetH = box.h * pen.scale * rng.uniform(0.88, 1.1);
  let s = targetH / b.h;
  // Narrow digits (1) stay narrow; wide ones are capped by the box.
  s = Math.min(s, (box.w * 0.86) / b.w);
  const w = b.w * s;
  const h = b.h * s;
  const cx = box.x + box.w / 2 + rng.normal(0, box.w * 0.04);
  const cy = box.y + box.h / 2 + rng.normal(0, box.h * 0.04);
  ctx.save();
  ctx.translate(cx, cy);
  ctx.rotate(rng.normal(0, 0.06));
  ctx.drawImage(glyph, b.x, b.y, b.w, b.h, -w / 2, -h / 2, w, h);
  ctx.restore();
  return true;
}

function drawX(ctx: SKRSContext2D, box: RectMm, rng: Rng, pen: PenStyle) {
  const m = box.w * rng.uniform(0.14, 0.3);
  const j = () => rng.normal(0, box.w * 0.03);
  ctx.save();
  ctx.strokeStyle = pen.colour;
  ctx.lineWidth = pen.strokeMm * rng.uniform(0.9, 1.3);
  ctx.lineCap = 'round';
  ctx.beginPath();
  // Two slightly curved strokes, as a hand draws them.
  ctx.moveTo(box.x + m + j(), box.y + m + j());
  ctx.quadraticCurveTo(box.x + box.w / 2 + j() * 2, box.y + box.h / 2 + j() * 2, box.x + box.w - m + j(), box.y + box.h - m + j());
  ctx.moveTo(box.x + box.w - m + j(), box.y + m + j());
  ctx.quadraticCurveTo(box.x + box.w / 2 + j() * 2, box.y + box.h / 2 + j() * 2, box.x + m + j(), box.y + box.h - m + j());
  ctx.stroke();
  ctx.restore();
}

function drawZero(ctx: SKRSContext2D, box: RectMm, rng: Rng, pen: PenStyle) {
  ctx.save();
  ctx.strokeStyle = pen.colour;
  ctx.lineWidth = pen.strokeMm * rng.uniform(0.9, 1.3);
  ctx.beginPath();
  const rx = box.w * rng.uniform(0.2, 0.3);
  const ry = box.h * pen.scale * 0.5 * rng.uniform(0.85, 1.05);
  ctx.ellipse(box.x + box.w / 2 + rng.normal(0, box.w * 0.03), box.y + box.h / 2 + rng.normal(0, box.h * 0.03), rx, ry, rng.normal(0, 0.15), 0, Math.PI * 2);
  ctx.stroke();
  ctx.restore();
}

/**
 * Writes one box class into a box (mm coordinates on a context scaled to mm). Returns the glyph's
 * source for the ground truth ('real:<file>', 'mnist:<digit>:<index>', 'drawn', 'none').
 */
export function writeBox(ctx: SKRSContext2D, lib: GlyphLibrary, cls: BoxClass, box: RectMm, rng: Rng, pen: PenStyle): string {
  if (cls === 'blank') return 'none';
  if (cls === 'X') {
    drawX(ctx, box, rng, pen);
    return 'drawn';
  }
  const d = Number(cls);
  const real = lib.real.get(d);
  if (d !== 0 && real && real.length > 0 && rng.chance(pen.realShare)) {
    const i = rng.int(0, real.length - 1);
    const ink = realToInk(decodeCrop(real[i]!.bytes), pen.rgb);
    if (ink && drawInk(ctx, ink, box, rng, pen)) return `real:${real[i]!.file}`;
  }
  const mn = lib.mnist.get(d);
  if (mn && mn.length > 0 && (d !== 0 || rng.chance(0.7))) {
    const i = rng.int(0, mn.length - 1);
    if (drawInk(ctx, mnistToInk(mn[i]!, pen.rgb), box, rng, pen)) return `mnist:${d}:${i}`;
  }
  if (d === 0) {
    drawZero(ctx, box, rng, pen);
    return 'drawn';
  }
  throw new Error(`no glyph source for digit ${d}`);
}
