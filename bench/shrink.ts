/**
 * A photo that was sent on, for `npm run bench:read -- --megapixels M`.
 *
 * KPPS photos do not always reach rekap as the camera took them: a photo forwarded through a chat
 * app is scaled to ~1,600 px on its long side (~2 MP) and re-compressed, and older or cheaper phones
 * take 3–5 MP. The synthetic photos are 8–12 MP; this scales each one (INTER_AREA, as a phone's
 * resampler averages) to M megapixels and re-encodes it at JPEG quality 80. A photo already at or
 * under M MP is only re-encoded.
 */
import type { Cv } from '../workers/reader/cv/opencv.js';

const SHRINK_JPEG_QUALITY = 80;

export function shrinkPhoto(cv: Cv, jpeg: Buffer, megapixels: number): Buffer {
  const img = cv.imdecode(jpeg);
  const scale = Math.min(1, Math.sqrt((megapixels * 1e6) / (img.cols * img.rows)));
  const out = scale < 1 ? img.resize(Math.round(img.rows * scale), Math.round(img.cols * scale), 0, 0, cv.INTER_AREA) : img;
  return cv.imencode('.jpg', out, [cv.IMWRITE_JPEG_QUALITY, SHRINK_JPEG_QUALITY]);
}
