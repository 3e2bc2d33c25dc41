/**
 * Fingers over the corners of a photographed sheet, for `npm run bench:read -- --fingers N`.
 *
 * KPPS officers photograph the form they are holding: a thumb over a corner hides its checkerboard,
 * and over two corners it hides half of what the reader first looks for. The synthetic photos have no
 * hands, so the bench paints them on: N skin-toned ellipses, each over a different sheet corner (from
 * the ground truth's page quad), 22–36 mm across the short way, centred up to 5 mm off the corner,
 * seeded by the photo. Boxes near a corner can be covered too; such a form must go to review or be
 * refused, never be published wrong.
 */
import type { Cv } from '../workers/reader/cv/opencv.js';
import { mulberry32 } from '../db/seed/random.js';
import { hashString32 } from '../workers/reader/digits/split.js';

export function holdWithFingers(cv: Cv, jpeg: Buffer, pageQuad: [number, number][], sheetWidthMm: number, fingers: number, seed: string): Buffer {
  const rand = mulberry32(hashString32(seed));
  const img = cv.imdecode(jpeg);
  const [tl, tr] = pageQuad as [[number, number], [number, number]];
  const pxPerMm = Math.hypot(tr[0] - tl[0], tr[1] - tl[1]) / sheetWidthMm;
  const corners = [0, 1, 2, 3];
  for (let k = 0; k < Math.min(4, fingers); k++) {
    const corner = corners.splice(Math.floor(rand() * corners.length), 1)[0]!;
    const [x, y] = pageQuad[corner]!;
    const r = (22 + rand() * 14) * pxPerMm;
    const centre = new cv.Point2(x + (rand() - 0.5) * 10 * pxPerMm, y + (rand() - 0.5) * 10 * pxPerMm);
    const skin = new cv.Vec3(90 + rand() * 60, 120 + rand() * 50, 170 + rand() * 60); // BGR
    img.drawEllipse(new cv.RotatedRect(centre, new cv.Size(r * 1.4, r * 2.2), rand() * 180), skin, -1);
  }
  return cv.imencode('.jpg', img, [cv.IMWRITE_JPEG_QUALITY, 85]);
}
