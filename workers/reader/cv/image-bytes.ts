/**
 * Checks on the raw bytes of an upload before any pixel is decoded: what format it is, how big it
 * claims to be, whether it is complete, and which way the camera held it (EXIF orientation).
 * Decoders are lenient: libjpeg fills a truncated JPEG with grey and carries on, and a 14000² PNG
 * decompresses to 600 MB+. Both must be refused from the header, cheaply, with a reason.
 */
import { ReadReject } from './reject.js';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 = as stored). */
  orientation: number;
}

/**
 * Phones give 8–12 MP by default; the reader works on at most this many pixels (RELIABILITY §7: cap
 * ~25 MP), which also refuses decompression bombs from the header.
 */
export const MAX_PIXELS = 26_000_000;
/**
 * A JPEG may be larger: phones with 48–200 MP modes save such photos, and the upload API accepts up
 * to 50 MP by default. libjpeg decodes it straight to 1/2, 1/4 or 1/8 of its size (DCT scaling:
 * no full-size buffer is ever allocated), so it is read at ≤ MAX_PIXELS (decode.ts jpegScaleDenominator).
 * PNG and WebP have no such decode, so MAX_PIXELS is their cap.
 */
export const MAX_JPEG_PIXELS = 64 * MAX_PIXELS;
/** Below this a C.Hasil page cannot carry readable 3-box fields. */
export const MIN_SIDE = 320;

export function inspectImage(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new ReadReject('not_an_image', 'the file is empty');
  let header: ImageHeader;
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) header = inspectJpeg(bytes);
  else if (bytes.length >= 8 && ascii(bytes, 1, 3) === 'PNG' && bytes[0] === 0x89 && bytes[4] === 0x0d) header = inspectPng(bytes);
  else if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') header = inspectWebp(bytes);
  else throw new ReadReject(...describeUnknown(bytes));
  if (header.width <= 0 || header.height <= 0) throw new ReadReject('not_an_image', `${header.format} header gives no image size`);
  const cap = header.format === 'jpeg' ? MAX_JPEG_PIXELS : MAX_PIXELS;
  if (header.width * header.height > cap) {
    throw new ReadReject('image_too_large', `${header.width}×${header.height} px exceeds the ${(cap / 1e6).toFixed(0)} MP limit for ${header.format.toUpperCase()}`);
  }
  if (Math.min(header.width, header.height) < MIN_SIDE) {
    throw new ReadReject('image_too_small', `${header.width}×${header.height} px is too small to read a form (min side ${MIN_SIDE} px)`);
  }
  return header;
}

function describeUnknown(bytes: Uint8Array): ['not_an_image' | 'unsupported_format', string] {
  const head = ascii(bytes, 0, Math.min(bytes.length, 32));
  if (ascii(bytes, 4, 4) === 'ftyp') return ['unsupported_format', 'HEIC/AVIF/MP4 container; upload a JPEG or PNG'];
  if (head.startsWith('GIF8')) return ['unsupported_format', 'GIF; upload a JPEG or PNG'];
  if (head.startsWith('%PDF')) return ['unsupported_format', 'PDF; upload a photo (JPEG or PNG)'];
  if (head.startsWith('II*') || head.startsWith('MM\u0000*')) return ['unsupported_format', 'TIFF; upload a JPEG or PNG'];
  if (head.startsWith('BM')) return ['unsupported_format', 'BMP; upload a JPEG or PNG'];
  const printable = bytes.subarray(0, 512).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128);
  return ['not_an_image', printable ? 'the file is text, not an image' : 'unrecognised file signature (expected JPEG, PNG or WebP)'];
}

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = at; i < at + n && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + ((b[i + 3]! << 24) >>> 0);

function truncated(format: string, where: string): ReadReject {
  return new ReadReject('truncated_image', `${format} ends early (${where}); the upload was probably cut off`);
}

function inspectJpeg(b: Uint8Array): ImageHeader {
  let pos = 2;
  let width = 0;
  let height = 0;
  let orientation = 1;
  for (;;) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    while (pos < b.length && b[pos] === 0xff && b[pos + 1] === 0xff) pos++;
    if (pos + 1 >= b.length) throw truncated('JPEG', 'before the image data');
    if (b[pos] !== 0xff) throw new ReadReject('not_an_image', `corrupt JPEG marker at byte ${pos}`);
    const marker = b[pos + 1]!;
    pos += 2;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0xd9) throw new ReadReject('not_an_image', 'JPEG ends before any image data');
    if (pos + 2 > b.length) throw truncated('JPEG', 'in a header segment');
    const len = u16be(b, pos);
    if (len < 2 || pos + len > b.length) throw truncated('JPEG', 'in a header segment');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && len >= 7) {
      height = u16be(b, pos + 3);
      width = u16be(b, pos + 5);
    } else if (marker === 0xe1 && len >= 16 && ascii(b, pos + 2, 6) === 'Exif\u0000\u0000') {
      orientation = exifOrientation(b.subarray(pos + 8, pos + len)) ?? orientation;
    } else if (marker === 0xda) {
      // Entropy-coded data never contains FF D9 (0xFF is stuffed as FF 00), so the first FF D9 after
      // the first scan is the real end of image. Later scans (progressive) sit in between.
      // (indexOf is a native scan: a byte loop in JS cost ~1 ms per 12 MP photo.)
      for (let i = b.indexOf(0xd9, pos + len + 1); i > 0; i = b.indexOf(0xd9, i + 1)) {
        if (b[i - 1] === 0xff) {
          if (!width || !height) throw new ReadReject('not_an_image', 'JPEG has no frame header');
          return { format: 'jpeg', width, height, orientation };
        }
      }
      throw truncated('JPEG', 'no end-of-image marker');
    }
    pos += len;
  }
}

/** Orientation tag (0x0112) of IFD0 in an EXIF TIFF block; null when absent or malformed. */
export function exifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const le = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return null;
  const r16 = (i: number) => (le ? u16le(tiff, i) : u16be(tiff, i));
  const r32 = (i: number) => (le ? u32le(tiff, i) : u32be(tiff, i));
  if (r16(2) !== 42) return null;
  const ifd = r32(4);
  if (ifd + 2 > tiff.length) return null;
  const n = r16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > tiff.length) return null;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : null;
    }
  }
  return null;
}

function inspectPng(b: Uint8Array): ImageHeader {
  let pos = 8;
  let width = 0;
  let height = 0;
  while (pos + 8 <= b.length) {
    const len = u32be(b, pos);
    const type = ascii(b, pos + 4, 4);
    if (pos + 12 + len > b.length) throw truncated('PNG', `in chunk ${type}`);
    if (type === 'IHDR') {
      width = u32be(b, pos + 8);
      height = u32be(b, pos + 12);
    } else if (type === 'IEND') {
      return { format: 'png', width, height, orientation: 1 };
    }
    pos += 12 + len;
  }
  throw truncated('PNG', 'no IEND chunk');
}

function inspectWebp(b: Uint8Array): ImageHeader {
  const riffSize = u32le(b, 4);
  if (8 + riffSize > b.length) throw truncated('WebP', 'RIFF size exceeds the file');
  const chunk = ascii(b, 12, 4);
  let width = 0;
  let height = 0;
  if (chunk === 'VP8 ' && b.length >= 30) {
    width = u16le(b, 26) & 0x3fff;
    height = u16le(b, 28) & 0x3fff;
  } else if (chunk === 'VP8L' && b.length >= 25) {
    const bits = u32le(b, 21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X' && b.length >= 30) {
    width = (b[24]! | (b[25]! << 8) | (b[26]! << 16)) + 1;
    height = (b[27]! | (b[28]! << 8) | (b[29]! << 16)) + 1;
  } else {
    throw new ReadReject('not_an_image', `unknown WebP chunk "${chunk}"`);
  }
  return { format: 'webp', width, height, orientation: 1 };
}
