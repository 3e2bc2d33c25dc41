/**
 * Bytes → upright greyscale pixels. The header is checked first (format, size cap, completeness) so
 * that a decompression bomb or a cut-off upload is refused before any allocation. Orientation is
 * applied from our own EXIF parse with OpenCV's automatic rotation switched off, so the result does
 * not depend on how a given OpenCV build treats EXIF.
 */
import type { Cv, Mat } from './opencv.js';
import { inspectImage, MAX_PIXELS, type ImageHeader } from './image-bytes.js';
import { ReadReject } from './reject.js';

export interface Decoded {
  gray: Mat;
  header: ImageHeader;
  /** The photo was decoded at 1/scaleDenominator of its size (1: full size; only JPEGs over MAX_PIXELS). */
  scaleDenominator: 1 | 2 | 4 | 8;
}

/**
 * The smallest libjpeg DCT scale (1, 1/2, 1/4, 1/8) that brings a photo to ≤ MAX_PIXELS. A 48 MP
 * photo is read at 12 MP, a 200 MP one at 12.5 MP: the resolution the reader is built and measured for.
 */
export function jpegScaleDenominator(width: number, height: number): 1 | 2 | 4 | 8 {
  for (const d of [1, 2, 4] as const) if ((width / d) * (height / d) <= MAX_PIXELS) return d;
  return 8;
}

export function decodeGray(cv: Cv, bytes: Uint8Array): Decoded {
  const header = inspectImage(bytes);
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scaleDenominator = header.format === 'jpeg' ? jpegScaleDenominator(header.width, header.height) : 1;
  const mode = { 1: cv.IMREAD_GRAYSCALE, 2: cv.IMREAD_REDUCED_GRAYSCALE_2, 4: cv.IMREAD_REDUCED_GRAYSCALE_4, 8: cv.IMREAD_REDUCED_GRAYSCALE_8 }[scaleDenominator];
  let gray: Mat;
  try {
    gray = cv.imdecode(buf, mode | cv.IMREAD_IGNORE_ORIENTATION);
  } catch (err) {
    throw new ReadReject('not_an_image', `${header.format} could not be decoded: ${(err as Error).message}`);
  }
  if (!gray || gray.empty || gray.rows === 0 || gray.cols === 0) {
    throw new ReadReject('not_an_image', `${header.format} could not be decoded (corrupt data)`);
  }
  const upright = applyOrientation(cv, gray, header.orientation);
  if (upright !== gray) gray.release();
  return { gray: upright, header, scaleDenominator };
}

/** The photo's size as shown upright: EXIF orientations 5–8 turn it a quarter. */
export function uprightSize(header: ImageHeader): { width: number; height: number } {
  return header.orientation >= 5 ? { width: header.height, height: header.width } : { width: header.width, height: header.height };
}

/** EXIF orientation 1..8 → the turn/mirror that shows the picture as the camera saw it. */
export function applyOrientation(cv: Cv, m: Mat, orientation: number): Mat {
  switch (orientation) {
    case 2: return m.flip(1);
    case 3: return m.rotate(cv.ROTATE_180);
    case 4: return m.flip(0);
    case 5: return m.rotate(cv.ROTATE_90_CLOCKWISE).flip(1); // transpose
    case 6: return m.rotate(cv.ROTATE_90_CLOCKWISE);
    case 7: return m.rotate(cv.ROTATE_90_CLOCKWISE).flip(0); // transverse
    case 8: return m.rotate(cv.ROTATE_90_COUNTERCLOCKWISE);
    default: return m;
  }
}
