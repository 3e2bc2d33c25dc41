import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BOX_CLASSES, CLASS_BLANK, CLASS_X } from '../types.js';
import { expectedCalibrationError, fitTemperature } from './calibrate.js';
import { gaussian, initParams, layoutOf, rng, softmax, type CnnShape } from './cnn.js';
import { hasRealCrops, loadMnist, realCropsDir } from './data.js';
import { evaluateDigits } from './evaluate.js';
import { classifyBoxes, loadDigitModel, saveDigitModel, type DigitModel } from './model.js';
import { BoxImageError, type RawImage } from './preprocess.js';
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { mnistInBox, syntheticBlank, syntheticX } from './synth.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const argmax = (p: number[]) => p.indexOf(Math.max(...p));

/** MNIST digits in printed boxes, X fillers and blanks (every class region of a network is used). */
function mixedBoxes(seed: number, mnistEvery: number, fillers: number): RawImage[] {
  const rand = rng(seed);
  return [
    ...loadMnist('test').filter((_, i) => i % mnistEvery === 0).map((s) => mnistInBox(s.pixels, rand)),
    ...Array.from({ length: fillers }, () => syntheticX(rand)),
    ...Array.from({ length: fillers }, () => syntheticBlank(rand)),
  ];
}

/**
 * The model's probabilities through the TypeScript reference and through OpenCV dnn, and their largest
 * difference; null when OpenCV dnn is not available here (only the reference ran).
 */
function bothPaths(model: DigitModel, boxes: RawImage[]): { ref: number[][]; fast: number[][]; maxDiff: number } | null {
  const was = model.backend;
  try {
    model.backend = 'ts';
    const ref = classifyBoxes(boxes, model);
    model.backend = 'auto';
    if (model.activeBackend() !== 'opencv') {
      console.warn('OpenCV dnn unavailable here: only the TypeScript path was exercised');
      return null;
    }
    const fast = classifyBoxes(boxes, model);
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) for (let k = 0; k < 12; k++) maxDiff = Math.max(maxDiff, Math.abs(fast[i]![k]! - ref[i]![k]!));
    return { ref, fast, maxDiff };
  } finally {
    model.backend = was;
  }
}

if (!hasRealCrops()) {
  console.warn(`[digits] ${realCropsDir()} not found: the real-crop accuracy, calibration and CLI tests are SKIPPED`);
}

/** A printed box (paper, dark border) with `draw` inking its inside; RGBA pixels like a canvas photo. */
function renderedBox(size: number, draw: (ctx: SKRSContext2D, s: number) => void): RawImage {
  const c = createCanvas(size, size);
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#f2f0ea';
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = '#202020';
  ctx.lineWidth = 2;
  ctx.strokeRect(3, 3, size - 6, size - 6);
  draw(ctx, size);
  const d = ctx.getImageData(0, 0, size, size);
  return { data: new Uint8Array(d.data.buffer), width: size, height: size, channels: 4 };
}

describe('digit model (committed weights)', () => {
  it('loads from the repository and returns 12 calibrated probabilities per box, in input order', () => {
    const model = loadDigitModel();
    expect(model.meta.classes).toEqual([...BOX_CLASSES]);
    expect(model.temperature).toBeGreaterThan(0);
    const rand = rng(2024);
    const x = syntheticX(rand);
    const blank = syntheticBlank(rand);
    const ab = classifyBoxes([x, blank]);
    const ba = classifyBoxes([blank, x]);
    expect(ab).toHaveLength(2);
    for (const p of ab) {
      expect(p).toHaveLength(12);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      for (const v of p) expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(ab[0]).toEqual(ba[1]);
    expect(ab[1]).toEqual(ba[0]);
  });

  it('reads synthetic X fillers as X and empty boxes as blank', () => {
    const rand = rng(77);
    const xs = classifyBoxes(Array.from({ length: 40 }, () => syntheticX(rand)));
    const blanks = classifyBoxes(Array.from({ length: 40 }, () => syntheticBlank(rand)));
    expect(xs.filter((p) => argmax(p) === CLASS_X).length).toBeGreaterThanOrEqual(36);
    expect(blanks.filter((p) => argmax(p) === CLASS_BLANK).length).toBeGreaterThanOrEqual(34);
  });

  it('gives the same probabilities through OpenCV dnn as through the TypeScript reference (to 1e-4)', () => {
    const model = loadDigitModel();
    const boxes = mixedBoxes(31, 97, 10);
    const both = bothPaths(model, boxes);
    if (!both) return;
    const { ref, fast, maxDiff } = both;
    expect(fast).toHaveLength(ref.length);
    expect(maxDiff).toBeLessThan(1e-4);
    // Not a degenerate agreement: the batch spans several predicted classes.
    expect(new Set(ref.map(argmax)).size).toBeGreaterThanOrEqual(8);
    // A batch of one and an empty batch take the same path.
    expect(classifyBoxes([boxes[0]!], model)[0]!.map((v, k) => Math.abs(v - ref[0]![k]!) < 1e-4)).not.toContain(false);
    expect(classifyBoxes([], model)).toEqual([]);
  });

  it('reads a rendered box of every class right (digits in two typefaces and sizes, an X, an empty box)', () => {
    for (const font of ['DejaVu Sans', 'DejaVu Serif']) {
      for (const size of [40, 56]) {
        const boxes = [...'0123456789'].map((ch) =>
          renderedBox(size, (ctx, s) => {
            ctx.fillStyle = '#1a2a8a';
            ctx.font = `${Math.round(s * 0.6)}px "${font}"`;
            ctx.textAlign = 'center';
            ctx.textBaseline = 'middle';
            ctx.fillText(ch, s / 2, s / 2 + 1);
          }),
        );
        boxes.push(
          renderedBox(size, (ctx, s) => {
            ctx.strokeStyle = '#1a2a8a';
            ctx.lineWidth = 3;
            ctx.beginPath();
            ctx.moveTo(10, 10);
            ctx.lineTo(s - 10, s - 10);
            ctx.moveTo(s - 10, 10);
            ctx.lineTo(10, s - 10);
            ctx.stroke();
          }),
        );
        boxes.push(renderedBox(size, () => {}));
        const read = classifyBoxes(boxes).map((p) => BOX_CLASSES[argmax(p)]);
        expect(read, `${font} ${size}px`).toEqual([...BOX_CLASSES]);
      }
    }
  });

  it('throws a clear error on a malformed box instead of returning probabilities', () => {
    expect(() => classifyBoxes([{ data: new Uint8Array(5), width: 10, height: 10 }])).toThrow(BoxImageError);
  });

  it.skipIf(!hasRealCrops())(
    'reaches ≥ 98.5% top-1 and ECE < 0.03 on the held-out TPS (real KPPS crops)',
    async () => {
      const ev = await evaluateDigits({ skipMnist: true, synthetic: 0 });
      expect(ev.realN).toBeGreaterThan(500);
      expect(ev.realTop1).toBeGreaterThanOrEqual(0.985);
      expect(ev.ece).toBeLessThan(0.03);
    },
    120_000,
  );
});

describe('digit model of a non-default shape (train:digits --shape)', () => {
  it('saves, loads and classifies a 32,64,256 model identically through TypeScript and OpenCV dnn', () => {
    const shape: CnnShape = { c1: 32, c2: 64, hidden: 256, classes: 12 };
    const L = layoutOf(shape);
    // Two members with different weights and non-zero biases (an untrained net, but every layer counts).
    const params = [5, 6].map((seed) => {
      const p = initParams(shape, seed);
      const rand = rng(seed + 100);
      for (const at of [L.b1, L.b2, L.b3, L.b4]) for (let i = at; i < at + 12; i++) p[i] = 0.1 * gaussian(rand);
      return p;
    });
    const dir = mkdtempSync(join(tmpdir(), 'rekap-digits-shape-'));
    saveDigitModel({ version: 'test', shape, temperature: 1.3, trainedAt: new Date(0).toISOString() }, params, dir);
    const model = loadDigitModel(dir);
    expect(model.meta.shape).toEqual(shape);
    expect(model.nets).toHaveLength(2);
    // Byte comparison: a deep toEqual over two 825,000-value arrays alone takes tens of seconds.
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < 2; i++) expect(bytes(model.nets[i].params).equals(bytes(params[i]))).toBe(true);
    const both = bothPaths(model, mixedBoxes(41, 199, 5));
    if (!both) return;
    const { ref, fast, maxDiff } = both;
    expect(maxDiff).toBeLessThan(1e-4);
    expect(fast.map(argmax)).toEqual(ref.map(argmax));
    // Not a degenerate agreement: the untrained net still spreads its answers over several classes.
    expect(new Set(ref.map(argmax)).size).toBeGreaterThanOrEqual(3);
  });
});

describe('calibration', () => {
  it('recovers the temperature of a known over-confident model', () => {
    const rand = rng(9);
    const logits: number[][] = [];
    const targets: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const z = Array.from({ length: 12 }, () => 3 * gaussian(rand));
      // The true distribution is softmax(z / 2): the raw logits are twice too sharp.
      const p = softmax(z, 2);
      let u = rand();
      let y = 0;
      while (y < 11 && u > p[y]) u -= p[y++];
      logits.push(z);
      targets.push(y);
    }
    const t = fitTemperature(logits, targets);
    expect(t).toBeGreaterThan(1.7);
    expect(t).toBeLessThan(2.3);
    const conf = (temp: number) => logits.map((z) => Math.max(...softmax(z, temp)));
    const ok = logits.map((z, i) => argmax(softmax(z)) === targets[i]);
    expect(expectedCalibrationError(conf(t), ok).ece).toBeLessThan(expectedCalibrationError(conf(1), ok).ece);
    expect(expectedCalibrationError(conf(t), ok).ece).toBeLessThan(0.04);
  });
});

describe('rekap digits', () => {
  it.skipIf(!hasRealCrops())(
    'prints one JSON line per readable crop in input order and names unreadable files on stderr',
    () => {
      const dir = realCropsDir();
      const files = readdirSync(dir).filter((f) => /^[1-9]_/.test(f)).slice(0, 2).map((f) => join(dir, f));
      const tmp = mkdtempSync(join(tmpdir(), 'rekap-digits-cli-'));
      const bad = join(tmp, 'not-an-image.jpg');
      writeFileSync(bad, 'this is text, not a JPEG');
      const res = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'server/cli/main.ts'), 'digits', '--json', files[0], bad, files[1]], {
        cwd: repo,
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(res.status).toBe(2);
      const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.file)).toEqual([files[0], files[1]]);
      for (const l of lines) {
        expect(BOX_CLASSES).toContain(l.class);
        expect(Object.keys(l.p)).toEqual([...BOX_CLASSES]);
      }
      expect(res.stderr).toContain('not-an-image.jpg');
      expect(res.stderr).toMatch(/not a readable image/);
    },
    120_000,
  );
});
