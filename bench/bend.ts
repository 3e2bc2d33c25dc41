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
  // Strips across the axis the sheet bows along: columns move down, or (sideways) rows move right.
  const along = sideways ? H : W;
  for (let s0 = 0; s0 < along; s0 += STRIP_PX) {
    const n = Math.min(STRIP_PX, along - s0);
    const d = amplitude * (sideways ? W : H) * Math.sin((Math.PI * (s0 + n / 2)) / along);
    const strip = sideways ? new cv.Rect(0, s0, W, n) : new cv.Rect(s0, 0, n, H);
    const shift = new cv.Mat(sideways ? [[1, 0, d], [0, 1, 0]] : [[1, 0, 0], [0, 1, d]], cv.CV_64F);
    img.getRegion(strip).warpAffine(shift, new cv.Size(strip.width, strip.height), cv.INTER_LINEAR, cv.BORDER_REPLICATE).copyTo(bent.getRegion(strip));
  }
  return cv.imencode('.jpg', bent, [cv.IMWRITE_JPEG_QUALITY, 88]);
}
