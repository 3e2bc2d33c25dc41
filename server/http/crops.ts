import sharp from 'sharp';

/**
 * Review crops cut from the stored original photo (the evidence), on demand.
 *
 * The reader keeps each box as a rectangle in the *warped page frame* (template millimetres × pxPerMm)
 * and the page's four fiducial centres as found in the photo. A rectangle of the page frame is a
 * quadrilateral in the photo (perspective), so a crop cannot be an axis-aligned cut of the photo: each
 * output pixel is mapped page → photo through the homography of the four fiducials and sampled
 * bilinearly. What a reviewer sees is therefore the very pixels the reader saw, upright, at a fixed
 * scale, and traceable to the photo's SHA-256.
 */

export type Pt = { x: number; y: number };

/** The 3×3 homography (row-major, h33 = 1) taking src[i] to dst[i] for four point pairs. */
export function homography4(src: Pt[], dst: Pt[]): number[] {
  if (src.length !== 4 || dst.length !== 4) throw new RangeError('homography4 needs four point pairs');
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = src[i], { x: u, y: v } = dst[i];
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  // Gaussian elimination with partial pivoting on the 8×9 augmented system.
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-12) throw new RangeError('degenerate fiducial positions');
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k < 9; k++) a[r][k] -= f * a[c][k];
    }
  }
  const h = a.map((row, i) => row[8] / row[i]);
  return [...h, 1];
}

export function applyH(h: number[], x: number, y: number): Pt {
  const w = h[6] * x + h[7] * y + h[8];
  return { x: (h[0] * x + h[1] * y + h[2]) / w, y: (h[3] * x + h[4] * y + h[5]) / w };
}

export interface GreyPhoto { data: Buffer; width: number; height: number }

/** The photo as the reader saw it: EXIF orientation applied, one grey channel. */
export async function decodeGrey(path: string): Promise<GreyPhoto> {
  const { data, info } = await sharp(path, { limitInputPixels: 80_000_000 }).rotate().greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Cut the page-frame rectangle [x, y, w, h] (pixels at `pxPerMm`) out of the photo, upright, at
 * `outPxPerMm`, as PNG. `pageToPhoto` maps page-frame millimetres to photo pixels.
 */
export async function cutRegion(photo: GreyPhoto, pageToPhoto: number[], rect: [number, number, number, number], pxPerMm: number, outPxPerMm: number): Promise<Buffer> {
  const [rx, ry, rw, rh] = rect;
  const W = Math.max(1, Math.min(2000, Math.round((rw / pxPerMm) * outPxPerMm)));
  const H = Math.max(1, Math.min(2000, Math.round((rh / pxPerMm) * outPxPerMm)));
  const out = Buffer.alloc(W * H, 255);
  const { data, width, height } = photo;
  for (let v = 0; v < H; v++) {
    const mmY = (ry + ((v + 0.5) / H) * rh) / pxPerMm;
    for (let u = 0; u < W; u++) {
      const mmX = (rx + ((u + 0.5) / W) * rw) / pxPerMm;
      const p = applyH(pageToPhoto, mmX, mmY);
      const x = p.x - 0.5, y = p.y - 0.5;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= width || y0 + 1 >= height) continue; // outside the photo: paper white
      const fx = x - x0, fy = y - y0;
      const i = y0 * width + x0;
      const top = data[i] * (1 - fx) + data[i + 1] * fx;
      const bottom = data[i + width] * (1 - fx) + data[i + width + 1] * fx;
      out[v * W + u] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return sharp(out, { raw: { width: W, height: H, channels: 1 } }).png({ compressionLevel: 6 }).toBuffer();
}
