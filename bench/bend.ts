/**
 * A bowed sheet, for `npm run bench:read -- --bend A`.
 *
 * A form held in the hand or laid on a soft surface is not flat: it bows, and a bow is not a
 * perspective (no homography maps it away). The synthetic photos are flat, so the bench bends them:
 * every column of the photo moves down by A·H·sin(π·x/W) (H, W: the photo's height and width), in
 * vertical strips of 24 px each shifted by the bow at its centre (the OpenCV addon has no remap).
 * A = 0.01 moves the middle of the photo by 1% of its height: 40 px on a 4,000-px-high photo, which is
 * 4–6 mm on a page shown at 7–10 px/mm. `sideways` bows the other way: every row moves right by
 * A·W·sin(π·y/H), in horizontal strips (a sheet held by its top and bottom edges).
 * Whatever it does to the reading, nothing may be published wrong.
 */
import type { Cv } from '../workers/reader/cv/opencv.js';

const STRIP_PX = 24;

export function bendSheet(cv: Cv, jpeg: Buffer, amplitude: number, sideways = false): Buffer {
  const img = cv.imdecode(jpeg);
  const W = img.cols;
  const H = img.rows;
  const bent = img.copy();
  if (sideways) {
    for (let y0 = 0; y0 < H; y0 += STRIP_PX) {
      const h = Math.min(STRIP_PX, H - y0);
      const dx = amplitude * W * Math.sin((Math.PI * (y0 + h / 2)) / H);
      const strip = new cv.Rect(0, y0, W, h);
      const shift = new cv.Mat([[1, 0, dx], [0, 1, 0]], cv.CV_64F);
      img.getRegion(strip).warpAffine(shift, new cv.Size(W, h), cv.INTER_LINEAR, cv.BORDER_REPLICATE).copyTo(bent.getRegion(strip));
    }
    return cv.imencode('.jpg', bent, [cv.IMWRITE_JPEG_QUALITY, 88]);
  }
  for (let x0 = 0; x0 < W; x0 += STRIP_PX) {
    const w = Math.min(STRIP_PX, W - x0);
    const dy = amplitude * H * Math.sin((Math.PI * (x0 + w / 2)) / W);
    const strip = new cv.Rect(x0, 0, w, H);
    const shift = new cv.Mat([[1, 0, 0], [0, 1, dy]], cv.CV_64F);
    img.getRegion(strip).warpAffine(shift, new cv.Size(w, H), cv.INTER_LINEAR, cv.BORDER_REPLICATE).copyTo(bent.getRegion(strip));
  }
  return cv.imencode('.jpg', bent, [cv.IMWRITE_JPEG_QUALITY, 88]);
}
