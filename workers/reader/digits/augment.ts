/**
 * Training-time distortions of normalised 28×28 boxes: the variation a new writer, a new phone and an
 * imperfect box cut bring (slant, size, stroke width, shift, noise, leftover border ink). Used only by
 * training; inference never augments.
 */
import { gaussian } from './cnn.js';

const N = 28;

function sample(src: Float32Array, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const tx = x - x0;
  const ty = y - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= N || yy >= N ? 0 : src[yy * N + xx]);
  return (
    (at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx) * (1 - ty) + (at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx) * ty
  );
}

export interface AugmentOptions {
  /** Scales every distortion (0 = none). */
  strength?: number;
  /**
   * Share of samples that also get an elastic distortion (session 5; default 0, the session-3
   * recipe): a smooth random displacement field, as a different hand bends the same strokes.
   */
  elastic?: number;
  /** Allow leftover border strokes along an edge (not for blank boxes' label semantics: still blank). */
  borderNoise?: boolean;
}

export function augment(src: Float32Array, rand: () => number, opts: AugmentOptions = {}): Float32Array {
  const k = opts.strength ?? 1;
  const out = new Float32Array(N * N);
  // Affine about the centre: rotation, anisotropic scale, shear, shift.
  const angle = (rand() * 2 - 1) * 0.2 * k; // ±11°
  const sx = 1 + (rand() * 2 - 1) * 0.15 * k;
  const sy = 1 + (rand() * 2 - 1) * 0.15 * k;
  const shear = (rand() * 2 - 1) * 0.25 * k;
  const dx = (rand() * 2 - 1) * 2 * k;
  const dy = (rand() * 2 - 1) * 2 * k;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  // forward matrix A = R · Shear · Scale; we sample the source at A⁻¹(p − centre − d) + centre
  const a = c * sx;
  const b = (c * shear - s) * sy;
  const cc = s * sx;
  const d = (s * shear + c) * sy;
  const det = a * d - b * cc;
  const ia = d / det;
  const ib = -b / det;
  const ic = -cc / det;
  const id = a / det;
  const mid = (N - 1) / 2;
  const field = opts.elastic && rand() < opts.elastic ? elasticField(rand, ELASTIC_ALPHA * k) : null;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const px = x - mid - dx;
      const py = y - mid - dy;
      const ex = field ? field.dx[y * N + x]! : 0;
      const ey = field ? field.dy[y * N + x]! : 0;
      out[y * N + x] = sample(src, ia * px + ib * py + mid + ex, ic * px + id * py + mid + ey);
    }
  }
  // Stroke width: grey dilation or erosion.
  const r = rand();
  if (r < 0.2 * k) morph(out, true);
  else if (r < 0.35 * k) morph(out, false);
  // Leftover border ink along one edge, as an imperfect cut leaves it.
  if (opts.borderNoise && rand() < 0.08 * k) {
    const side = Math.floor(rand() * 4);
    const pos = Math.floor(rand() * 2);
    const from = Math.floor(rand() * 10);
    const to = N - Math.floor(rand() * 10);
    const v = 0.5 + 0.5 * rand();
    for (let t = from; t < to; t++) {
      const i = side === 0 ? pos * N + t : side === 1 ? (N - 1 - pos) * N + t : side === 2 ? t * N + pos : t * N + N - 1 - pos;
      out[i] = Math.max(out[i], v);
    }
  }
  // A few specks and sensor noise.
  if (rand() < 0.15 * k) {
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) out[Math.floor(rand() * N * N)] = 0.3 + 0.7 * rand();
  }
  const sigma = rand() * 0.06 * k;
  const gain = 0.75 + 0.25 * rand() + (k > 0 ? 0 : 0.25);
  for (let i = 0; i < N * N; i++) {
    const v = out[i] * gain + (sigma > 0 ? gaussian(rand) * sigma : 0);
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/** Elastic distortion (Simard, Steinkraus & Platt 2003): displacement scale α and smoothness σ in pixels. */
const ELASTIC_ALPHA = 30;
const ELASTIC_SIGMA = 4.5;
let elasticKernel: Float32Array | null = null;

/** A smooth random displacement field: uniform noise in [−1, 1], Gaussian-blurred (σ), scaled to α. */
export function elasticField(rand: () => number, alpha: number): { dx: Float32Array; dy: Float32Array } {
  if (!elasticKernel) {
    const r = Math.ceil(3 * ELASTIC_SIGMA);
    elasticKernel = new Float32Array(2 * r + 1);
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += elasticKernel[i + r] = Math.exp(-(i * i) / (2 * ELASTIC_SIGMA * ELASTIC_SIGMA));
    for (let i = 0; i < elasticKernel.length; i++) elasticKernel[i]! /= sum;
  }
  const kern = elasticKernel;
  const r = (kern.length - 1) / 2;
  const blur = (f: Float32Array) => {
    // Separable, zero outside the box: the field fades towards the edges.
    const tmp = new Float32Array(N * N);
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        let v = 0;
        for (let t = -r; t <= r; t++) if (x + t >= 0 && x + t < N) v += kern[t + r]! * f[y * N + x + t]!;
        tmp[y * N + x] = v;
      }
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) {
        let v = 0;
        for (let t = -r; t <= r; t++) if (y + t >= 0 && y + t < N) v += kern[t + r]! * tmp[(y + t) * N + x]!;
        f[y * N + x] = v * alpha;
      }
    return f;
  };
  const noise = () => Float32Array.from({ length: N * N }, () => rand() * 2 - 1);
  return { dx: blur(noise()), dy: blur(noise()) };
}

function morph(img: Float32Array, dilate: boolean): void {
  const src = Float32Array.from(img);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      let m = src[y * N + x];
      // Cross-shaped neighbourhood: thickens or thins by about one pixel.
      const nb = [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ];
      for (const [xx, yy] of nb) {
        const v = xx < 0 || yy < 0 || xx >= N || yy >= N ? 0 : src[yy * N + xx];
        m = dilate ? Math.max(m, v) : Math.min(m, v);
      }
      img[y * N + x] = dilate ? Math.max(src[y * N + x], 0.85 * m) : m;
    }
  }
}
