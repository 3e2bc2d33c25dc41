/**
 * Perceptual difference hash (dHash, 9×8 horizontal gradient → 64 bits, as KawalC1 does) computed
 * with sharp. Hash the aligned handwritten regions when the reader provides them: every C.Hasil has
 * the same printed template, so whole-page hashes of two different forms can sit close together.
 */
import sharp from 'sharp';

export type Roi = { left: number; top: number; width: number; height: number };

/** 64-bit dHash as 16 hex digits. */
export async function dhash(image: Buffer | Uint8Array, roi?: Roi): Promise<string> {
  let pipeline = sharp(image, { failOn: 'error' }).rotate(); // EXIF orientation applied, so a rotated copy of the same bytes hashes alike
  if (roi) pipeline = pipeline.extract(roi);
  // Two steps: a direct 9×8 reduction of a large JPEG depends on the decoder's shrink-on-load and on
  // the source size, so a resized copy would hash differently; a fixed 72×64 intermediate does not.
  const mid = await pipeline.greyscale().resize(72, 64, { fit: 'fill' }).raw().toBuffer();
  const raw = await sharp(mid, { raw: { width: 72, height: 64, channels: 1 } }).greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
  if (raw.length !== 72) throw new Error(`dhash: expected 72 grey samples, got ${raw.length}`);
  let hex = '';
  for (let y = 0; y < 8; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) byte = (byte << 1) | (raw[y * 9 + x] < raw[y * 9 + x + 1] ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** Hashes of several regions of one image, joined (e.g. header and digit blocks of an aligned form). */
export async function dhashRegions(image: Buffer | Uint8Array, rois: Roi[]): Promise<string> {
  const parts = await Promise.all(rois.map((r) => dhash(image, r)));
  return parts.join('');
}

const POP = new Uint8Array(256).map((_, i) => { let c = 0, x = i; while (x) { c += x & 1; x >>= 1; } return c; });

/** Hamming distance between two equal-length hex hashes. */
export function hamming(a: string, b: string): number {
  if (a.length !== b.length) throw new RangeError(`hamming: hashes of different length (${a.length} vs ${b.length})`);
  let d = 0;
  for (let i = 0; i < a.length; i += 2) d += POP[parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16)];
  return d;
}
