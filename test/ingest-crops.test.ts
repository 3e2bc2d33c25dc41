/**
 * Review crops: a page-frame rectangle is cut from a perspective photo through the homography of the
 * four fiducials, so the crop shows what the page holds there, upright (checked on a photo made with a
 * known perspective from a known page pattern).
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { applyH, cutRegion, homography4, type GreyPhoto } from '../server/http/crops.js';

/** The page: 4 mm squares, black where (⌊x/4⌋ + ⌊y/4⌋) is odd. */
const page = (mmX: number, mmY: number) => ((Math.floor(mmX / 4) + Math.floor(mmY / 4)) % 2 ? 0 : 255);

describe('review crops', () => {
  it('homography4 maps the four pairs exactly and refuses degenerate points', () => {
    const src = [{ x: 10, y: 10 }, { x: 200, y: 10 }, { x: 10, y: 280 }, { x: 200, y: 280 }];
    const dst = [{ x: 130, y: 95 }, { x: 1710, y: 160 }, { x: 70, y: 2390 }, { x: 1805, y: 2270 }];
    const h = homography4(src, dst);
    src.forEach((p, i) => {
      const q = applyH(h, p.x, p.y);
      expect(q.x).toBeCloseTo(dst[i].x, 6);
      expect(q.y).toBeCloseTo(dst[i].y, 6);
    });
    expect(() => homography4([src[0], src[0], src[0], src[0]], dst)).toThrow(/degenerate/);
  });

  it('cuts an upright crop out of a perspective photo that matches the page', async () => {
    // A "photo" of the page seen in perspective: every photo pixel looks up the page through the inverse map.
    const mm = [{ x: 10, y: 10 }, { x: 200, y: 10 }, { x: 10, y: 280 }, { x: 200, y: 280 }];
    const px = [{ x: 130, y: 95 }, { x: 1710, y: 160 }, { x: 70, y: 2390 }, { x: 1805, y: 2270 }];
    const photoToPage = homography4(px, mm);
    const width = 1900, height = 2500;
    const data = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const p = applyH(photoToPage, x + 0.5, y + 0.5);
      data[y * width + x] = p.x < 0 || p.y < 0 || p.x > 210 || p.y > 297 ? 128 : page(p.x, p.y);
    }
    const photo: GreyPhoto = { data, width, height };
    const pageToPhoto = homography4(mm, px);
    // A 30 × 18 mm region at 6 px/mm (as the reader stores ROIs), cut at 12 px/mm.
    const rect: [number, number, number, number] = [50 * 6, 100 * 6, 30 * 6, 18 * 6];
    const png = await cutRegion(photo, pageToPhoto, rect, 6, 12);
    const { data: out, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([360, 216, 1]);
    let agree = 0, checked = 0;
    for (let v = 0; v < info.height; v += 3) for (let u = 0; u < info.width; u += 3) {
      const mmX = 50 + (u + 0.5) / 12, mmY = 100 + (v + 0.5) / 12;
      // Skip pixels within 0.3 mm of a square edge (interpolation blurs them).
      const ex = mmX % 4, ey = mmY % 4;
      if (ex < 0.3 || ex > 3.7 || ey < 0.3 || ey > 3.7) continue;
      checked++;
      if (Math.abs(out[v * info.width + u] - page(mmX, mmY)) < 40) agree++;
    }
    expect(checked).toBeGreaterThan(3000);
    expect(agree / checked).toBeGreaterThan(0.99);
    // The same region cut without the perspective (axis-aligned in the photo) would not match the page.
    const naive = (u: number, v: number) => data[Math.round(600 + v / 2) * width + Math.round(300 + u / 2)];
    let naiveAgree = 0;
    for (let v = 0; v < info.height; v += 3) for (let u = 0; u < info.width; u += 3) if (Math.abs(naive(u, v) - page(50 + u / 12, 100 + v / 12)) < 40) naiveAgree++;
    expect(naiveAgree / (Math.ceil(info.height / 3) * Math.ceil(info.width / 3))).toBeLessThan(0.8);
  });
});
