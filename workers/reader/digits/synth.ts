/**
 * Synthetic single-box photos for the classes the real crops lack or under-represent: "X" fillers,
 * blank boxes, and MNIST digits written inside a printed box. They are rendered as raw grey photos
 * (paper shading, printed border, dotted seven-segment guide, pen strokes, blur, noise) and then go
 * through the same normaliseBox as real input, so the network learns what preprocessing leaves of them.
 */
import { gaussian } from './cnn.js';
import type { RawImage } from './preprocess.js';

interface Canvas {
  w: number;
  h: number;
  /** Darkness 0 (paper) .. 1 (black) accumulated by drawing; composed onto the paper at the end. */
  ink: Float32Array;
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const len2 = vx * vx + vy * vy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / len2)) : 0;
  const dx = px - (ax + t * vx);
  const dy = py - (ay + t * vy);
  return Math.sqrt(dx * dx + dy * dy);
}

/** Anti-aliased thick line of darkness `v`. */
function line(c: Canvas, ax: number, ay: number, bx: number, by: number, width: number, v: number): void {
  const r = width / 2;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1));
  const x1 = Math.min(c.w - 1, Math.ceil(Math.max(ax, bx) + r + 1));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r - 1));
  const y1 = Math.min(c.h - 1, Math.ceil(Math.max(ay, by) + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = segmentDistance(x + 0.5, y + 0.5, ax, ay, bx, by);
      const a = Math.max(0, Math.min(1, r + 0.5 - d));
      if (a > 0) c.ink[y * c.w + x] = Math.max(c.ink[y * c.w + x], a * v);
    }
  }
}

/** A slightly curved stroke: a quadratic Bézier through a jittered midpoint, drawn as segments. */
function stroke(c: Canvas, pts: [number, number][], width: number, v: number, rand: () => number, bend: number): void {
  for (let s = 0; s + 1 < pts.length; s++) {
    const [ax, ay] = pts[s];
    const [bx, by] = pts[s + 1];
    const len = Math.hypot(bx - ax, by - ay);
    const mx = (ax + bx) / 2 + (rand() * 2 - 1) * bend * len;
    const my = (ay + by) / 2 + (rand() * 2 - 1) * bend * len;
    const n = 8;
    let px = ax;
    let py = ay;
    for (let i = 1; i <= n; i++) {
      const t = i / n;
      const qx = (1 - t) * (1 - t) * ax + 2 * (1 - t) * t * mx + t * t * bx;
      const qy = (1 - t) * (1 - t) * ay + 2 * (1 - t) * t * my + t * t * by;
      line(c, px, py, qx, qy, width, v);
      px = qx;
      py = qy;
    }
  }
}

export interface BoxScene {
  canvas: Canvas;
  /** The box interior in canvas pixels: where writing goes. */
  inner: { x: number; y: number; w: number; h: number };
  paper: number;
  rand: () => number;
}

/** Paper, printed border (sometimes partly outside the crop) and, often, the dotted guide. */
export function boxScene(rand: () => number): BoxScene {
  const side = 28 + Math.floor(rand() * 70);
  const w = Math.round(side * (0.85 + 0.3 * rand()));
  const h = Math.round(side * (0.9 + 0.3 * rand()));
  const c: Canvas = { w, h, ink: new Float32Array(w * h) };
  const paper = 120 + rand() * 130;
  const bw = Math.max(1, side * (0.02 + 0.06 * rand()));
  const inset = () => (rand() < 0.15 ? -bw : side * (0.02 + 0.12 * rand()));
  const l = inset();
  const r = w - inset();
  const t = inset();
  const b = h - inset();
  const borderV = 0.45 + 0.5 * rand();
  const tilt = () => (rand() * 2 - 1) * 0.02 * side;
  if (rand() > 0.05) {
    line(c, l, t + tilt(), r, t + tilt(), bw, borderV);
    line(c, l, b + tilt(), r, b + tilt(), bw, borderV);
    line(c, l + tilt(), t, l + tilt(), b, bw, borderV);
    line(c, r + tilt(), t, r + tilt(), b, bw, borderV);
  }
  const inner = { x: Math.max(l, 0) + bw, y: Math.max(t, 0) + bw, w: Math.min(r, w) - Math.max(l, 0) - 2 * bw, h: Math.min(b, h) - Math.max(t, 0) - 2 * bw };
  // Dotted seven-segment guide ("日"), printed faintly inside the box.
  if (rand() < 0.6) {
    const gx0 = inner.x + inner.w * (0.25 + 0.08 * rand());
    const gx1 = inner.x + inner.w * (0.67 + 0.08 * rand());
    const gy0 = inner.y + inner.h * (0.12 + 0.08 * rand());
    const gy1 = inner.y + inner.h * (0.8 + 0.08 * rand());
    const gym = (gy0 + gy1) / 2;
    const step = Math.max(2, side * (0.05 + 0.03 * rand()));
    const dot = Math.max(0.8, side * 0.02 * (0.5 + rand()));
    const v = 0.15 + 0.35 * rand();
    const dotsOn = (ax: number, ay: number, bx: number, by: number) => {
      const n = Math.max(1, Math.round(Math.hypot(bx - ax, by - ay) / step));
      for (let i = 0; i <= n; i++) {
        const x = ax + ((bx - ax) * i) / n;
        const y = ay + ((by - ay) * i) / n;
        line(c, x, y, x + 0.01, y, dot, v);
      }
    };
    dotsOn(gx0, gy0, gx1, gy0);
    dotsOn(gx0, gym, gx1, gym);
    dotsOn(gx0, gy1, gx1, gy1);
    dotsOn(gx0, gy0, gx0, gy1);
    dotsOn(gx1, gy0, gx1, gy1);
  }
  return { canvas: c, inner, paper, rand };
}

/** A pen "X" filler: two crossing strokes, from corner-to-corner big to small and lopsided. */
export function drawX(scene: BoxScene): void {
  const { canvas: c, inner, rand } = scene;
  const big = rand() < 0.45;
  const span = big ? 0.85 + 0.3 * rand() : 0.3 + 0.55 * rand();
  const cx = inner.x + inner.w * (0.5 + (rand() * 2 - 1) * (1 - Math.min(1, span)) * 0.4);
  const cy = inner.y + inner.h * (0.5 + (rand() * 2 - 1) * (1 - Math.min(1, span)) * 0.4);
  const hw = (inner.w * span * (0.6 + 0.5 * rand())) / 2;
  const hh = (inner.h * span) / 2;
  const width = Math.max(1, Math.min(inner.w, inner.h) * (0.04 + 0.08 * rand()));
  const v = 0.5 + 0.5 * rand();
  const j = () => (rand() * 2 - 1) * 0.15;
  stroke(c, [[cx - hw * (1 + j()), cy - hh * (1 + j())], [cx + hw * (1 + j()), cy + hh * (1 + j())]], width, v, rand, 0.08);
  stroke(c, [[cx + hw * (1 + j()), cy - hh * (1 + j())], [cx - hw * (1 + j()), cy + hh * (1 + j())]], width, v, rand, 0.08);
}

/** What a blank box may still hold: nothing, a speck, or a short pen touch at the edge. */
export function drawBlankDebris(scene: BoxScene): void {
  const { canvas: c, inner, rand } = scene;
  const r = rand();
  if (r < 0.25) {
    const x = inner.x + rand() * inner.w;
    const y = inner.y + rand() * inner.h;
    line(c, x, y, x + 0.5, y + 0.5, 1 + rand() * 2, 0.3 + 0.5 * rand());
  } else if (r < 0.35) {
    const x = inner.x + rand() * inner.w;
    const y = inner.y + (rand() < 0.5 ? 0 : inner.h);
    line(c, x, y, x + (rand() * 2 - 1) * inner.w * 0.15, y, 1 + rand() * 2, 0.4 + 0.5 * rand());
  }
}

/** Pastes an MNIST digit (784 floats, ink = 1) into the box at a random size and position. */
export function drawMnist(scene: BoxScene, pixels: Float32Array): void {
  const { canvas: c, inner, rand } = scene;
  const size = Math.min(inner.w, inner.h) * (0.8 + 0.35 * rand()) * (28 / 20);
  const ox = inner.x + inner.w / 2 - size / 2 + (rand() * 2 - 1) * inner.w * 0.08;
  const oy = inner.y + inner.h / 2 - size / 2 + (rand() * 2 - 1) * inner.h * 0.08;
  const v = 0.55 + 0.45 * rand();
  for (let y = Math.max(0, Math.floor(oy)); y < Math.min(c.h, Math.ceil(oy + size)); y++) {
    for (let x = Math.max(0, Math.floor(ox)); x < Math.min(c.w, Math.ceil(ox + size)); x++) {
      const sx = ((x + 0.5 - ox) / size) * 28 - 0.5;
      const sy = ((y + 0.5 - oy) / size) * 28 - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const tx = sx - x0;
      const ty = sy - y0;
      const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= 28 || yy >= 28 ? 0 : pixels[yy * 28 + xx]);
      const s = (at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx) * (1 - ty) + (at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx) * ty;
      c.ink[y * c.w + x] = Math.max(c.ink[y * c.w + x], s * v);
    }
  }
}

/** Composes ink on shaded paper, blurs a little, adds noise, and returns 8-bit grey pixels. */
export function photograph(scene: BoxScene): RawImage {
  const { canvas: c, paper, rand } = scene;
  const gx = (rand() * 2 - 1) * 40;
  const gy = (rand() * 2 - 1) * 40;
  const inkLevel = 10 + rand() * 60;
  let img = new Float32Array(c.w * c.h);
  for (let y = 0; y < c.h; y++) {
    for (let x = 0; x < c.w; x++) {
      const p = paper + (gx * x) / c.w + (gy * y) / c.h;
      const a = c.ink[y * c.w + x];
      img[y * c.w + x] = p * (1 - a) + Math.min(p, inkLevel) * a;
    }
  }
  if (rand() < 0.6) {
    const out = new Float32Array(img.length);
    for (let y = 0; y < c.h; y++) {
      for (let x = 0; x < c.w; x++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= c.w || yy >= c.h) continue;
            const wgt = dx === 0 && dy === 0 ? 4 : dx === 0 || dy === 0 ? 2 : 1;
            s += img[yy * c.w + xx] * wgt;
            n += wgt;
          }
        }
        out[y * c.w + x] = s / n;
      }
    }
    img = out;
  }
  const sigma = 1 + rand() * 8;
  const data = new Uint8Array(c.w * c.h);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(img[i] + gaussian(rand) * sigma)));
  return { data, width: c.w, height: c.h, channels: 1 };
}

export function syntheticX(rand: () => number): RawImage {
  const s = boxScene(rand);
  drawX(s);
  return photograph(s);
}

export function syntheticBlank(rand: () => number): RawImage {
  const s = boxScene(rand);
  drawBlankDebris(s);
  return photograph(s);
}

export function mnistInBox(pixels: Float32Array, rand: () => number): RawImage {
  const s = boxScene(rand);
  drawMnist(s, pixels);
  return photograph(s);
}

/**
 * Re-cuts a real crop: trims or pads each side a little, as a box cut from a warped form photo would
 * be slightly off. Padding repeats the edge pixels.
 */
export function jitterCrop(img: RawImage, rand: () => number): RawImage {
  const ch = img.channels ?? img.data.length / (img.width * img.height);
  const m = () => Math.round((rand() * 2 - 1) * 0.1 * Math.min(img.width, img.height));
  const l = m();
  const r = m();
  const t = m();
  const b = m();
  const w = Math.max(8, img.width - l - r);
  const h = Math.max(8, img.height - t - b);
  const data = new Uint8Array(w * h * ch);
  for (let y = 0; y < h; y++) {
    const sy = Math.max(0, Math.min(img.height - 1, y + t));
    for (let x = 0; x < w; x++) {
      const sx = Math.max(0, Math.min(img.width - 1, x + l));
      for (let k = 0; k < ch; k++) data[(y * w + x) * ch + k] = img.data[(sy * img.width + sx) * ch + k];
    }
  }
  return { data, width: w, height: h, channels: ch };
}
