import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { inspectImage, exifOrientation, MAX_PIXELS } from './image-bytes.js';
import { ReadReject } from './reject.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ReadReject) return `${err.reason}: ${err.detail}`;
    throw err;
  }
  return 'accepted';
}

const grey = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 200, b: 200 } } });

describe('inspectImage', () => {
  it('accepts complete JPEG, PNG and WebP and reports their size', async () => {
    const jpeg = await grey(800, 600).jpeg().toBuffer();
    const png = await grey(640, 480).png().toBuffer();
    const webp = await grey(500, 400).webp().toBuffer();
    expect(inspectImage(jpeg)).toMatchObject({ format: 'jpeg', width: 800, height: 600, orientation: 1 });
    expect(inspectImage(png)).toMatchObject({ format: 'png', width: 640, height: 480 });
    expect(inspectImage(webp)).toMatchObject({ format: 'webp', width: 500, height: 400 });
  });

  it('reads the EXIF orientation a phone writes', async () => {
    for (const o of [1, 3, 6, 8]) {
      const jpeg = await grey(800, 600).withMetadata({ orientation: o }).jpeg().toBuffer();
      expect(inspectImage(jpeg).orientation).toBe(o);
    }
  });

  it('refuses empty, text and unknown files with a reason', () => {
    expect(reason(() => inspectImage(new Uint8Array()))).toMatch(/^not_an_image: the file is empty/);
    expect(reason(() => inspectImage(Buffer.from('TPS 001 suara sah 123\n')))).toMatch(/^not_an_image: the file is text/);
    expect(reason(() => inspectImage(Buffer.from([0, 1, 2, 3, 250, 251, 252, 0, 9])))).toMatch(/^not_an_image: unrecognised/);
    expect(reason(() => inspectImage(Buffer.from('%PDF-1.7\n...')))).toMatch(/^unsupported_format: PDF/);
    expect(reason(() => inspectImage(Buffer.from('\0\0\0\x18ftypheic\0\0\0\0')))).toMatch(/^unsupported_format: HEIC/);
  });

  it('refuses JPEG and PNG files cut off anywhere', async () => {
    const jpeg = await grey(800, 600).jpeg().toBuffer();
    const png = await sharp({ create: { width: 700, height: 500, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } } as never).png().toBuffer();
    for (const frac of [0.05, 0.3, 0.6, 0.95, 0.999]) {
      expect(reason(() => inspectImage(jpeg.subarray(0, Math.floor(jpeg.length * frac))))).toMatch(/^truncated_image|^not_an_image/);
      expect(reason(() => inspectImage(png.subarray(0, Math.floor(png.length * frac))))).toMatch(/^truncated_image/);
    }
    // Bytes after the end-of-image marker (some phones append data) are fine.
    expect(inspectImage(Buffer.concat([jpeg, Buffer.from('trailer')])).width).toBe(800);
  });

  it('refuses decompression bombs from the header, and images too small to hold a form', async () => {
    // A 14000 × 14000 PNG header (a decompression bomb is tiny on disk): refused before decoding.
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      return Buffer.concat([len, Buffer.from(type, 'ascii'), data, Buffer.alloc(4)]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(14000, 0);
    ihdr.writeUInt32BE(14000, 4);
    ihdr[8] = 8;
    const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(64)), chunk('IEND', Buffer.alloc(0))]);
    expect(14000 * 14000).toBeGreaterThan(MAX_PIXELS);
    expect(reason(() => inspectImage(bomb))).toMatch(/^image_too_large: 14000×14000/);
    const tiny = await grey(200, 150).jpeg().toBuffer();
    expect(reason(() => inspectImage(tiny))).toMatch(/^image_too_small/);
  });
});

describe('exifOrientation', () => {
  it('parses both byte orders and ignores junk', () => {
    const le = Buffer.from([0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    const be = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0]);
    expect(exifOrientation(le)).toBe(6);
    expect(exifOrientation(be)).toBe(8);
    expect(exifOrientation(Buffer.from('garbage!garbage!'))).toBeNull();
    expect(exifOrientation(Buffer.from([0x49, 0x49, 42, 0, 255, 255, 0, 0]))).toBeNull();
  });
});
