/**
 * Test fixtures: "photograph" a rendered page with one controlled degradation at a time, keeping the
 * exact page-mm → photo homography as ground truth. The synthesiser (workers/reader/synth) makes
 * realistic random photos for the benchmark; these are deterministic and isolate each effect so a
 * test can say which one broke.
 */
import type { Cv, Mat } from './opencv.js';
import type { FormTemplate } from '../template/types.js';
import { apply, homography, multiply, scaleH, type H3 } from './geometry.js';
import type { Pt } from './fiducials.js';

export interface PhotoEffects {
  /** Photo frame (portrait by default). */
  width?: number;
  height?: number;
  /** Page height as a share of the frame height. */
  fill?: number;
  rotationDeg?: number;
  /** Relative shrink of the top edge (keystone, camera tilted back). */
  keystone?: number;
  /** Extra page offset in the frame (px): pushes part of the page out of the photo. */
  shiftX?: number;
  shiftY?: number;
  blurSigma?: number;
  /** Overall exposure: every pixel × this (evening light, a dim room). */
  exposure?: number;
  /** Light falls from 1 at the left to this gain at the right. */
  lightGain?: number;
  /** A hard-edged shadow over the right part of the photo (share of width) at this gain. */
  shadow?: { from: number; gain: number };
  /**
   * A shadow with a soft horizontal edge (a phone or a hand held over the page): full light above
   * `from` (share of the photo height), falling linearly to `gain` over `width` (share of the height).
   */
  softShadow?: { from: number; width: number; gain: number };
  /**
   * Fingers holding the sheet: a disc of this grey centred on sheet corner `corner` (0 TL, 1 TR,
   * 2 BR, 3 BL), radius in mm. It covers the corner's checkerboard and cuts the sheet's outline.
   */
  thumbs?: { corner: number; radiusMm: number; grey: number }[];
  /**
   * The sheet bowed (held in the hand, or on a soft surface): every photo column moves down by
   * bow·H·sin(π·x/W), in 4-px strips. No homography maps it away.
   */
  bow?: number;
  /** The sheet bowed the other way: every photo row moves right by bowX·W·sin(π·y/H), in 4-px strips. */
  bowX?: number;
  /**
   * Print and writing heavier than the template draws them, by this many mm on every side (a printer
   * that bleeds, a photocopy of a photocopy): the page is eroded (grey minimum) before it is photographed.
   */
  inkSpreadMm?: number;
  /** A horizontal crease at this share of the photo height: a dark line and a 3 px step. */
  foldAt?: number;
  jpegQuality?: number;
}

export interface Photo {
  jpeg: Buffer;
  mmToPhoto: H3;
  fiducialCentres: Pt[];
}

/** page: grey page pixels rendered at pagePxPerMm. */
export function photographPage(cv: Cv, page: Mat, pagePxPerMm: number, template: FormTemplate, fx: PhotoEffects = {}): Photo {
  const W = fx.width ?? 3000;
  const H = fx.height ?? 4000;
  const { width: wMm, height: hMm } = template.sizeMm;
  const scale = ((fx.fill ?? 0.85) * H) / hMm; // photo px per mm at the page centre
  const cx = W / 2 + (fx.shiftX ?? 0);
  const cy = H / 2 + (fx.shiftY ?? 0);
  const t = ((fx.rotationDeg ?? 0) * Math.PI) / 180;
  const k = fx.keystone ?? 0;
  // Page corners in mm, centred, keystoned (top edge shorter), rotated, scaled, placed.
  const cornersMm: Pt[] = [
    { x: 0, y: 0 },
    { x: wMm, y: 0 },
    { x: wMm, y: hMm },
    { x: 0, y: hMm },
  ];
  const place = (p: Pt): Pt => {
    let x = p.x - wMm / 2;
    const y = p.y - hMm / 2;
    x *= 1 - k * (0.5 - p.y / hMm); // top shrinks by k/2, bottom grows by k/2
    return { x: cx + scale * (x * Math.cos(t) - y * Math.sin(t)), y: cy + scale * (x * Math.sin(t) + y * Math.cos(t)) };
  };
  const mmToPhoto = homography(cv, cornersMm, cornersMm.map(place));
  const pageToPhoto = multiply(mmToPhoto, scaleH(1 / pagePxPerMm));
  const M = new cv.Mat([pageToPhoto.slice(0, 3), pageToPhoto.slice(3, 6), pageToPhoto.slice(6, 9)], cv.CV_64F);
  if (fx.inkSpreadMm) {
    const r = Math.max(1, Math.round(fx.inkSpreadMm * pagePxPerMm));
    page = page.erode(cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(2 * r + 1, 2 * r + 1)));
  }
  let img = page.warpPerspective(M, new cv.Size(W, H), cv.INTER_AREA, cv.BORDER_CONSTANT, new cv.Vec3(60, 60, 60));
  if (fx.bow) {
    const bent = img.copy();
    for (let x0 = 0; x0 < W; x0 += 4) {
      const w = Math.min(4, W - x0);
      const shift = new cv.Mat([[1, 0, 0], [0, 1, fx.bow * H * Math.sin((Math.PI * (x0 + w / 2)) / W)]], cv.CV_64F);
      const strip = new cv.Rect(x0, 0, w, H);
      img.getRegion(strip).warpAffine(shift, new cv.Size(w, H), cv.INTER_LINEAR, cv.BORDER_REPLICATE).copyTo(bent.getRegion(strip));
    }
    img = bent;
  }
  if (fx.bowX) {
    const bent = img.copy();
    for (let y0 = 0; y0 < H; y0 += 4) {
      const h = Math.min(4, H - y0);
      const shift = new cv.Mat([[1, 0, fx.bowX * W * Math.sin((Math.PI * (y0 + h / 2)) / H)], [0, 1, 0]], cv.CV_64F);
      const strip = new cv.Rect(0, y0, W, h);
      img.getRegion(strip).warpAffine(shift, new cv.Size(W, h), cv.INTER_LINEAR, cv.BORDER_REPLICATE).copyTo(bent.getRegion(strip));
    }
    img = bent;
  }
  for (const t of fx.thumbs ?? []) {
    const c = place(cornersMm[t.corner]!);
    img.drawCircle(new cv.Point2(c.x, c.y), Math.round(t.radiusMm * scale), new cv.Vec3(t.grey, t.grey, t.grey), -1);
  }
  if (fx.foldAt !== undefined) {
    const y = Math.round(fx.foldAt * H);
    const below = img.getRegion(new cv.Rect(0, y, W, H - y - 3)).copy();
    below.copyTo(img.getRegion(new cv.Rect(0, y + 3, W, H - y - 3)));
    img.drawLine(new cv.Point2(0, y + 1), new cv.Point2(W, y + 1), new cv.Vec3(90, 90, 90), 3);
  }
  if (fx.lightGain !== undefined || fx.shadow || fx.softShadow || fx.exposure !== undefined) {
    const d = img.getData();
    const shadowFrom = fx.shadow ? Math.round(fx.shadow.from * W) : W;
    const gains = new Float32Array(W);
    for (let x = 0; x < W; x++) {
      gains[x] = (fx.exposure ?? 1) * (1 - (1 - (fx.lightGain ?? 1)) * (x / W)) * (x >= shadowFrom ? fx.shadow!.gain : 1);
    }
    const soft = fx.softShadow;
    const rowGain = (y: number) => {
      if (!soft) return 1;
      const t = Math.min(1, Math.max(0, (y / H - soft.from) / soft.width));
      return 1 - (1 - soft.gain) * t;
    };
    for (let y = 0; y < H; y++) {
      const g = rowGain(y);
      for (let x = 0; x < W; x++) d[y * W + x] = Math.round(d[y * W + x]! * gains[x]! * g);
    }
    img = new cv.Mat(d, H, W, cv.CV_8UC1);
  }
  if (fx.blurSigma) img = img.gaussianBlur(new cv.Size(0, 0), fx.blurSigma);
  const jpeg = cv.imencode('.jpg', img, [cv.IMWRITE_JPEG_QUALITY, fx.jpegQuality ?? 90]);
  const fiducialCentres = template.fiducials.corners
    .map((c) => apply(mmToPhoto, { x: c.x + c.w / 2, y: c.y + c.h / 2 }))
    .map((p) => (fx.bow ? { x: p.x, y: p.y + fx.bow * H * Math.sin((Math.PI * p.x) / W) } : p))
    .map((p) => (fx.bowX ? { x: p.x + fx.bowX * W * Math.sin((Math.PI * p.y) / H), y: p.y } : p));
  return { jpeg, mmToPhoto, fiducialCentres };
}
