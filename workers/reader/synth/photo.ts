/**
 * "Photographs" a rendered page the way a KPPS phone does (DOMAIN §5.7 damage table): rotation up to
 * ±15°, perspective (keystone), 8–12 MP frames, uneven light, a shadow, a yellow cast, folds, sensor
 * noise, blur (focus or motion) and JPEG compression; some photos are intentionally unreadable
 * (the page partly outside the frame, or hopelessly blurred) and say so in the ground truth.
 *
 * Photometric damage is drawn on the page canvas with Skia (fast, no per-pixel JS); the geometry is one
 * OpenCV warpPerspective (sync API only: some *Async calls crash Node).
 */
import { loadCv } from '../cv/opencv.js';
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import type { Rng } from './random.js';

export type Point = [number, number];

export interface Degradation {
  photo: { width: number; height: number };
  /** Page pixels per mm in the rendered page before warping. */
  renderPxPerMm: number;
  rotationDeg: number;
  /** Keystone strength: relative shrink of the far edge (0 = none). */
  keystone: number;
  keystoneEdge: 'top' | 'bottom' | 'left' | 'right';
  /** Page corners (TL, TR, BR, BL of the paper) in photo pixels. */
  pageQuad: [Point, Point, Point, Point];
  background: [number, number, number];
  light: { direction: number; minGain: number; vignette: number };
  colourCast: [number, number, number] | null;
  shadow: { coverage: number; opacity: number; edge: 'top' | 'bottom' | 'left' | 'right' } | null;
  folds: { orientation: 'h' | 'v'; at: number }[];
  noise: number;
  blur: { kind: 'none' | 'gaussian' | 'motion'; sigmaPx: number; lengthPx: number; angleDeg: number };
  jpegQuality: number;
  unreadable: null | 'partial_crop' | 'heavy_blur';
}

const FRAMES: [number, number][] = [
  [2448, 3264], // 8 MP
  [2736, 3648], // 10 MP
  [3000, 4000], // 12 MP
  [3024, 4032], // 12.2 MP
];

/** The pixel scale to render the page at so that it fills the frame as planned (no double resampling). */
export function planPhoto(rng: Rng, pageMm: { width: number; height: number }, opts: { unreadable: boolean }): Omit<Degradation, 'pageQuad'> & { fill: number } {
  const [W, H] = rng.pick(FRAMES);
  const rotationDeg = Math.max(-15, Math.min(15, rng.normal(0, 5.5)));
  const fill = rng.uniform(0.72, 0.93);
  const t = (Math.abs(rotationDeg) * Math.PI) / 180;
  const bw = pageMm.width * Math.cos(t) + pageMm.height * Math.sin(t);
  const bh = pageMm.width * Math.sin(t) + pageMm.height * Math.cos(t);
  const renderPxPerMm = fill * Math.min(W / bw, H / bh);
  const unreadable = opts.unreadable ? (rng.chance(0.7) ? 'partial_crop' : 'heavy_blur') : null;
  const blurKind = unreadable === 'heavy_blur' ? 'gaussian' : rng.weighted({ none: 0.35, gaussian: 0.5, motion: 0.15 });
  return {
    photo: { width: W, height: H },
    renderPxPerMm,
    fill,
    rotationDeg,
    keystone: rng.chance(0.8) ? rng.uniform(0, 0.12) : 0,
    keystoneEdge: rng.weighted({ top: 0.55, bottom: 0.15, left: 0.15, right: 0.15 }),
    background: [rng.int(60, 200), rng.int(50, 170), rng.int(30, 140)],
    light: { direction: rng.uniform(0, Math.PI * 2), minGain: rng.uniform(0.55, 0.97), vignette: rng.uniform(0, 0.35) },
    colourCast: rng.chance(0.5) ? [255, rng.int(238, 252), rng.int(196, 240)] : null,
    shadow: rng.chance(0.4) ? { coverage: rng.uniform(0.12, 0.45), opacity: rng.uniform(0.2, 0.5), edge: rng.pick(['top', 'bottom', 'left', 'right'] as const) } : null,
    folds: rng.chance(0.35)
      ? Array.from({ length: rng.int(1, 2) }, () => (rng.chance(0.7) ? { orientation: 'h' as const, at: rng.pick([1 / 3, 1 / 2, 2 / 3]) + rng.normal(0, 0.01) } : { orientation: 'v' as const, at: 0.5 + rng.normal(0, 0.01) }))
      : [],
    noise: rng.uniform(0.03, 0.12),
    blur:
      blurKind === 'none'
        ? { kind: 'none', sigmaPx: 0, lengthPx: 0, angleDeg: 0 }
        : blurKind === 'gaussian'
          ? { kind: 'gaussian', sigmaPx: unreadable === 'heavy_blur' ? rng.uniform(16, 24) : rng.uniform(0.4, 2), lengthPx: 0, angleDeg: 0 }
          : { kind: 'motion', sigmaPx: 0, lengthPx: rng.int(4, 11), angleDeg: rng.uniform(0, 180) },
    jpegQuality: rng.int(55, 92),
    unreadable,
  };
}

/** Skia-side damage on the rendered page (pixel coordinates; identity transform). */
function damagePage(page: Canvas, plan: Omit<Degradation, 'pageQuad'>, rng: Rng) {
  const ctx = page.getContext('2d');
  const W = page.width;
  const H = page.height;
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);

  // Folds: a crease is a thin dark line with a lit ridge beside it.
  for (const f of plan.folds) {
    const band = Math.max(3, plan.renderPxPerMm * 2.5);
    const pos = f.orientation === 'h' ? f.at * H : f.at * W;
    const g = f.orientation === 'h' ? ctx.createLinearGradient(0, pos - band, 0, pos + band) : ctx.createLinearGradient(pos - band, 0, pos + band, 0);
    g.addColorStop(0, 'rgba(0,0,0,0)');
    g.addColorStop(0.45, 'rgba(0,0,0,0.10)');
    g.addColorStop(0.5, 'rgba(0,0,0,0.28)');
    g.addColorStop(0.55, 'rgba(255,255,255,0.0)');
    g.addColorStop(1, 'rgba(0,0,0,0)');
    ctx.fillStyle = g;
    if (f.orientation === 'h') ctx.fillRect(0, pos - band, W, 2 * band);
    else ctx.fillRect(pos - band, 0, 2 * band, H);
  }

  ctx.globalCompositeOperation = 'multiply';
  // Uneven light (a linear falloff) with the colour cast folded into the same fill: one pass over
  // the page instead of two.
  const cast = plan.colourCast ?? [255, 255, 255];
  const tint = (gain: number) => `rgb(${cast.map((c) => Math.round(c * gain)).join(',')})`;
  const cx = W / 2;
  const cy = H / 2;
  const dx = Math.cos(plan.light.direction) * W * 0.6;
  const dy = Math.sin(plan.light.direction) * H * 0.6;
  const lin = ctx.createLinearGradient(cx - dx, cy - dy, cx + dx, cy + dy);
  lin.addColorStop(0, tint(1));
  lin.addColorStop(1, tint(plan.light.minGain));
  ctx.fillStyle = lin;
  ctx.fillRect(0, 0, W, H);
  if (plan.light.vignette > 0) {
    const v = Math.round(255 * (1 - plan.light.vignette));
    const rad = ctx.createRadialGradient(cx, cy, Math.min(W, H) * 0.3, cx, cy, Math.hypot(W, H) * 0.6);
    rad.addColorStop(0, 'rgb(255,255,255)');
    rad.addColorStop(1, `rgb(${v},${v},${v})`);
    ctx.fillStyle = rad;
    ctx.fillRect(0, 0, W, H);
  }

  // A soft shadow (phone or hand) entering from one edge: a band whose edge fades over ~3% of the
  // page (a gradient, not a blur filter: the same look at a fraction of the cost).
  if (plan.shadow) {
    const sh = plan.shadow;
    const depth = (sh.edge === 'top' || sh.edge === 'bottom' ? H : W) * (sh.coverage + rng.uniform(-0.05, 0.05));
    const soft = Math.min(W, H) * 0.03;
    const g = sh.edge === 'top' ? ctx.createLinearGradient(0, 0, 0, depth + soft)
      : sh.edge === 'bottom' ? ctx.createLinearGradient(0, H, 0, H - depth - soft)
      : sh.edge === 'left' ? ctx.createLinearGradient(0, 0, depth + soft, 0)
      : ctx.createLinearGradient(W, 0, W - depth - soft, 0);
    const dark = Math.round(255 * (1 - sh.opacity));
    const edgeAt = depth / (depth + soft);
    g.addColorStop(0, `rgb(${dark},${dark},${Math.min(255, dark + 8)})`);
    g.addColorStop(Math.max(0, edgeAt - 0.02), `rgb(${dark},${dark},${Math.min(255, dark + 8)})`);
    g.addColorStop(1, 'rgb(255,255,255)');
    ctx.fillStyle = g;
    if (sh.edge === 'top') ctx.fillRect(0, 0, W, depth + soft);
    else if (sh.edge === 'bottom') ctx.fillRect(0, H - depth - soft, W, depth + soft);
    else if (sh.edge === 'left') ctx.fillRect(0, 0, depth + soft, H);
    else ctx.fillRect(W - depth - soft, 0, depth + soft, H);
  }
  ctx.globalCompositeOperation = 'source-over';

  // Sensor noise: a seeded grain tile overlaid on the page.
  if (plan.noise > 0) {
    const n = 256;
    const tile = createCanvas(n, n);
    const tctx = tile.getContext('2d');
    const img = tctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const v = Math.max(0, Math.min(255, Math.round(128 + rng.normal(0, 60))));
      img.data[i * 4] = v;
      img.data[i * 4 + 1] = Math.max(0, Math.min(255, v + Math.round(rng.normal(0, 12))));
      img.data[i * 4 + 2] = v;
      img.data[i * 4 + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    const pattern = ctx.createPattern(tile, 'repeat');
    if (!pattern) throw new Error('canvas could not create the noise pattern');
    ctx.globalAlpha = plan.noise;
    ctx.globalCompositeOperation = 'overlay';
    ctx.fillStyle = pattern;
    ctx.fillRect(0, 0, W, H);
  }
  ctx.restore();
}

/** Where the page's corners land in the photo: rotation, keystone, placement (or a deliberate crop). */
function placePage(rng: Rng, pageW: number, pageH: number, plan: Omit<Degradation, 'pageQuad'>): [Point, Point, Point, Point] {
  const { width: W, height: H } = plan.photo;
  let q: Point[] = [
    [-pageW / 2, -pageH / 2],
    [pageW / 2, -pageH / 2],
    [pageW / 2, pageH / 2],
    [-pageW / 2, pageH / 2],
  ];
  // Keystone: the far edge looks shorter; shrink it toward its midpoint.
  const k = plan.keystone;
  const shrink = (i: number, j: number) => {
    const mx = (q[i]![0] + q[j]![0]) / 2;
    const my = (q[i]![1] + q[j]![1]) / 2;
    for (const n of [i, j]) q[n] = [mx + (q[n]![0] - mx) * (1 - k), my + (q[n]![1] - my) * (1 - k)];
  };
  if (k > 0) {
    if (plan.keystoneEdge === 'top') shrink(0, 1);
    else if (plan.keystoneEdge === 'bottom') shrink(2, 3);
    else if (plan.keystoneEdge === 'left') shrink(0, 3);
    else shrink(1, 2);
  }
  // A little independent corner jitter: paper is never perfectly flat.
  q = q.map(([x, y]) => [x + rng.normal(0, pageW * 0.006), y + rng.normal(0, pageH * 0.006)]);
  const t = (plan.rotationDeg * Math.PI) / 180;
  q = q.map(([x, y]) => [x * Math.cos(t) - y * Math.sin(t), x * Math.sin(t) + y * Math.cos(t)]);
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  let ox: number;
  let oy: number;
  if (plan.unreadable === 'partial_crop') {
    // Push the page off one side far enough that at least one corner checkerboard leaves the frame.
    const side = rng.pick(['left', 'right', 'top', 'bottom'] as const);
    const frac = rng.uniform(0.12, 0.3);
    ox = W / 2;
    oy = H / 2;
    if (side === 'left') ox = -minX - (maxX - minX) * frac;
    if (side === 'right') ox = W - maxX + (maxX - minX) * frac;
    if (side === 'top') oy = -minY - (maxY - minY) * frac;
    if (side === 'bottom') oy = H - maxY + (maxY - minY) * frac;
  } else {
    const slackX = Math.max(0, W - (maxX - minX));
    const slackY = Math.max(0, H - (maxY - minY));
    ox = -minX + rng.uniform(0.15, 0.85) * slackX;
    oy = -minY + rng.uniform(0.15, 0.85) * slackY;
  }
  return q.map(([x, y]) => [Math.round((x + ox) * 10) / 10, Math.round((y + oy) * 10) / 10]) as [Point, Point, Point, Point];
}

/** Applies a 3 × 3 homography (row-major) to a point. */
export function applyHomography(m: number[][], [x, y]: Point): Point {
  const w = m[2]![0]! * x + m[2]![1]! * y + m[2]![2]!;
  return [(m[0]![0]! * x + m[0]![1]! * y + m[0]![2]!) / w, (m[1]![0]! * x + m[1]![1]! * y + m[1]![2]!) / w];
}

export interface Photo {
  jpeg: Buffer;
  degradation: Degradation;
  /** Page-pixel → photo-pixel homography (row-major 3 × 3). */
  homography: number[][];
}

/** Photographs a rendered page canvas (the canvas is damaged in place). */
export function photograph(page: Canvas, plan: Omit<Degradation, 'pageQuad'>, rng: Rng): Photo {
  const cv = loadCv();
  damagePage(page, plan, rng);
  const pageQuad = placePage(rng, page.width, page.height, plan);
  const src = [new cv.Point2(0, 0), new cv.Point2(page.width, 0), new cv.Point2(page.width, page.height), new cv.Point2(0, page.height)];
  const dst = pageQuad.map(([x, y]) => new cv.Point2(x, y));
  const M = cv.getPerspectiveTransform(src, dst);
  // Drop alpha on the (smaller) page before warping: fewer bytes through the warp.
  const rgba = new cv.Mat(page.data(), page.height, page.width, cv.CV_8UC4);
  const bgr = rgba.cvtColor(cv.COLOR_RGBA2BGR);
  // Released by hand, like every page-sized Mat here: the GC does not see their native size, and
  // left to it a generator grew by ~70 MB per photo.
  rgba.release();
  const [br, bg, bb] = plan.background;
  let img: ReturnType<typeof bgr.warpPerspective> = bgr.warpPerspective(M, new cv.Size(plan.photo.width, plan.photo.height), cv.INTER_LINEAR, cv.BORDER_CONSTANT, new cv.Vec3(bb, bg, br));
  const replace = (next: typeof img) => {
    img.release();
    img = next;
  };
  if (plan.blur.kind === 'gaussian' && plan.blur.sigmaPx > 0.2) replace(img.gaussianBlur(new cv.Size(0, 0), plan.blur.sigmaPx));
  if (plan.blur.kind === 'motion' && plan.blur.lengthPx > 1) {
    const n = plan.blur.lengthPx | 1;
    const kernel = new cv.Mat(n, n, cv.CV_32F, 0);
    const a = (plan.blur.angleDeg * Math.PI) / 180;
    let count = 0;
    for (let i = 0; i < n * 4; i++) {
      const s = (i / (n * 4 - 1) - 0.5) * (n - 1);
      const x = Math.round((n - 1) / 2 + s * Math.cos(a));
      const y = Math.round((n - 1) / 2 + s * Math.sin(a));
      if (kernel.at(y, x) === 0) {
        kernel.set(y, x, 1);
        count++;
      }
    }
    const normalised = kernel.div(count);
    replace(img.filter2D(-1, normalised));
    normalised.release();
    kernel.release();
  }
  const jpeg = cv.imencode('.jpg', img, [cv.IMWRITE_JPEG_QUALITY, plan.jpegQuality]);
  // Native buffers are invisible to the GC's heuristics: free the 10–36 MB images now.
  bgr.release();
  img.release();
  const degradation: Degradation = { ...plan, pageQuad };
  delete (degradation as { fill?: number }).fill;
  return { jpeg, degradation, homography: M.getDataAsArray() as number[][] };
}
