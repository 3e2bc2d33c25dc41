/** Small plane-geometry helpers on 3 × 3 homographies kept as plain row-major arrays. */
import type { Cv, Mat } from './opencv.js';
import type { Pt } from './fiducials.js';

export type H3 = number[]; // 9 numbers, row-major

export function homography(cv: Cv, from: Pt[], to: Pt[]): H3 {
  const m = cv.getPerspectiveTransform(from.map((p) => new cv.Point2(p.x, p.y)), to.map((p) => new cv.Point2(p.x, p.y)));
  return m.getDataAsArray().flat();
}

export function apply(h: H3, p: Pt): Pt {
  const d = h[6]! * p.x + h[7]! * p.y + h[8]!;
  return { x: (h[0]! * p.x + h[1]! * p.y + h[2]!) / d, y: (h[3]! * p.x + h[4]! * p.y + h[5]!) / d };
}

export function multiply(a: H3, b: H3): H3 {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c]! += a[r * 3 + k]! * b[k * 3 + c]!;
  return out;
}

export const scaleH = (sx: number, sy = sx): H3 => [sx, 0, 0, 0, sy, 0, 0, 0, 1];
export const translateH = (tx: number, ty: number): H3 => [1, 0, tx, 0, 1, ty, 0, 0, 1];

export function toMat(cv: Cv, h: H3): Mat {
  return new cv.Mat([h.slice(0, 3), h.slice(3, 6), h.slice(6, 9)], cv.CV_64F);
}

/**
 * Pixels of a page region: dst pixel (u, v) shows page point ((x0 + u + 0.5)/pxPerMm − …) — i.e. the
 * region [x0, y0, w, h] of the page frame at pxPerMm, sampled from the photo through mmToImage.
 */
export function warpRegion(cv: Cv, img: Mat, mmToImage: H3, pxPerMm: number, x0: number, y0: number, w: number, h: number): Mat {
  // dst (u,v) → page mm ((u + x0) / P, (v + y0) / P) → image. Pixel centres: OpenCV maps integer
  // coordinates to pixel centres on both sides, so mm = px / P holds at pixel centres.
  const m = multiply(mmToImage, multiply(scaleH(1 / pxPerMm), translateH(x0, y0)));
  return img.warpPerspective(toMat(cv, m), new cv.Size(w, h), cv.INTER_LINEAR | cv.WARP_INVERSE_MAP, cv.BORDER_CONSTANT, new cv.Vec3(255, 255, 255));
}
