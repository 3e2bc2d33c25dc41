import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { inspectImage, exifOrientation, MAX_PIXELS, MAX_JPEG_PIXELS } from './image-bytes.js';
import { jpegScaleDenominator } from './decode.js';
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

  it('accepts a JPEG from a 48–200 MP phone mode (decoded scaled down), and refuses a JPEG bomb', async () => {
    // A real JPEG whose frame header (SOF0) is made to claim another size: the header is all that is read here.
    const withSize = (jpeg: Buffer, w: number, h: number) => {
      const b = Buffer.from(jpeg);
      const sof = b.indexOf(Buffer.from([0xff, 0xc0]));
      expect(sof).toBeGreaterThan(0);
      b.writeUInt16BE(h, sof + 5);
      b.writeUInt16BE(w, sof + 7);
      return b;
    };
    const jpeg = await grey(800, 600).jpeg({ mozjpeg: false, progressive: false }).toBuffer();
    expect(inspectImage(withSize(jpeg, 8000, 6000))).toMatchObject({ format: 'jpeg', width: 8000, height: 6000 });
    expect(inspectImage(withSize(jpeg, 16320, 12240))).toMatchObject({ width: 16320, height: 12240 }); // 200 MP
    expect(60000 * 60000).toBeGreaterThan(MAX_JPEG_PIXELS);
    expect(reason(() => inspectImage(withSize(jpeg, 60000, 60000)))).toMatch(/^image_too_large: 60000×60000 px exceeds the \d+ MP limit for JPEG/);
    // The scale each is read at: at most MAX_PIXELS, and no smaller than it has to be.
    expect(jpegScaleDenominator(4000, 3000)).toBe(1);
    expect(jpegScaleDenominator(8000, 6000)).toBe(2); // 48 MP → 12 MP
    expect(jpegScaleDenominator(16320, 12240)).toBe(4); // 200 MP → 12.5 MP
    expect(jpegScaleDenominator(30000, 30000)).toBe(8);
    for (const [w, h] of [[4000, 3000], [5900, 4400], [8000, 6000], [12000, 9000], [16320, 12240], [40000, 40000]]) {
      const d = jpegScaleDenominator(w!, h!);
      expect((w! / d) * (h! / d)).toBeLessThanOrEqual(MAX_PIXELS);
      if (d > 1) expect((w! / (d / 2)) * (h! / (d / 2))).toBeGreaterThan(MAX_PIXELS);
    }
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
