import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { loadCv } from './opencv.js';
import { decodeGray } from './decode.js';
import { ReadReject } from './reject.js';

/** A 600 × 400 picture: black block in the top-left corner, white elsewhere (as seen upright). */
async function upright(): Promise<ReturnType<typeof sharp>> {
  const w = 600;
  const h = 400;
  const px = Buffer.alloc(w * h, 255);
  for (let y = 0; y < 100; y++) for (let x = 0; x < 150; x++) px[y * w + x] = 0;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } });
}

describe('decodeGray', () => {
  it('honours EXIF orientation: the picture comes out as the camera saw it', async () => {
    const cv = loadCv();
    // Store the pixels turned and tag the turn back, as a phone held sideways does.
    const stored: [number, number][] = [
      [6, 270], // stored turned 90° counter-clockwise, display needs 90° clockwise
      [8, 90],
      [3, 180],
    ];
    for (const [orientation, turn] of stored) {
      const base = await (await upright()).png().toBuffer();
      const jpeg = await sharp(base).rotate(turn).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
      const { gray, header } = decodeGray(cv, jpeg);
      expect(header.orientation).toBe(orientation);
      expect([gray.cols, gray.rows]).toEqual([600, 400]);
      // Top-left is black, bottom-right white.
      expect(gray.at(20, 20)).toBeLessThan(60);
      expect(gray.at(380, 580)).toBeGreaterThan(200);
    }
  });

  it('turns undecodable bytes behind a valid header into a reason, not a crash', async () => {
    const cv = loadCv();
    const jpeg = await (await upright()).jpeg().toBuffer();
    // Keep the headers and the end marker, scramble the entropy-coded data.
    const bad = Buffer.from(jpeg);
    for (let i = Math.floor(bad.length * 0.4); i < bad.length - 2; i++) bad[i] = 0xff;
    try {
      const { gray } = decodeGray(cv, bad);
      // libjpeg may still return pixels for damaged data; then they must at least have the header size.
      expect([gray.cols, gray.rows]).toEqual([600, 400]);
    } catch (err) {
      expect(err).toBeInstanceOf(ReadReject);
    }
  });
});
