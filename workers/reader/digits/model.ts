/**
 * The committed digit model: loading the weights shipped in `weights/`, and batch inference.
 * `classifyBoxes(images)` is the reader's entry point: every box of a form in one call, calibrated
 * 12-class probabilities in BOX_CLASSES order.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BOX_CLASSES } from '../types.js';
import { loadCv } from '../cv/opencv.js';
import { Cnn, softmax, type CnnShape } from './cnn.js';
import { DnnEnsemble } from './dnn.js';
import { normaliseBox, type RawImage } from './preprocess.js';

export const WEIGHTS_DIR = fileURLToPath(new URL('./weights/', import.meta.url));
const MODEL_NAME = 'digits-cnn';

export interface ModelMeta {
  format: 'rekap-digits-cnn';
  version: string;
  shape: CnnShape;
  /** One parameter vector per ensemble member, stored one after the other in the .bin file. */
  members: number;
  temperature: number;
  classes: readonly string[];
  sha256: string;
  trainedAt: string;
  /** The training run's summary (data sizes, accuracy, ECE) so the model card can be checked. */
  summary?: Record<string, unknown>;
}

/**
 * Which forward pass runs a batch: 'opencv' (vectorised, OpenCV dnn), 'ts' (the reference in cnn.ts,
 * needs nothing native), or 'auto' (OpenCV when the addon loads, else TypeScript). Both give the same
 * probabilities to float rounding (model.test.ts holds them to 1e-4).
 */
export type DigitBackend = 'auto' | 'opencv' | 'ts';

export class DigitModel {
  readonly nets: Cnn[];
  backend: DigitBackend = 'auto';
  /** undefined: not tried yet; null: OpenCV unavailable in this process (fall back to TypeScript). */
  private dnn: DnnEnsemble | null | undefined;
  constructor(
    readonly meta: ModelMeta,
    params: Float32Array[],
  ) {
    this.nets = params.map((p) => new Cnn(meta.shape, p));
  }

  private opencv(required: boolean): DnnEnsemble | null {
    if (this.dnn === undefined) {
      try {
        this.dnn = DnnEnsemble.build(loadCv(), this.nets);
      } catch (err) {
        if (required) throw err;
        this.dnn = null;
      }
    }
    if (this.dnn === null && required) throw new Error('OpenCV dnn is not available in this process');
    return this.dnn;
  }

  /** The forward pass a batch will actually use ('opencv' or 'ts'). */
  activeBackend(): 'opencv' | 'ts' {
    if (this.backend === 'ts') return 'ts';
    return this.opencv(this.backend === 'opencv') ? 'opencv' : 'ts';
  }

  /** Mean ensemble logits for a batch of normalised 28×28 images (fresh arrays, input order). */
  logitsBatch(images: Float32Array[]): Float32Array[] {
    const backend = this.activeBackend();
    // A box normaliseBox found empty is all zeros, and every such box gets the same logits: they are
    // computed once per backend (each image's logits do not depend on the rest of the batch; checked
    // by bench/reader-same.ts) and copied, instead of running the ensemble on ~6 blank boxes per page.
    const blank = images.map(isAllZero);
    const rest = blank.some(Boolean) ? images.filter((_, i) => !blank[i]) : images;
    const run = (batch: Float32Array[]) => (backend === 'opencv' ? this.dnn!.logits(batch) : batch.map((px) => this.logits(px)));
    const out = rest.length ? run(rest) : [];
    if (rest === images) return out;
    const zero = (this.zeroLogits[backend] ??= run([new Float32Array(images[0]!.length)])[0]!);
    let k = 0;
    return images.map((_, i) => (blank[i] ? Float32Array.from(zero) : out[k++]!));
  }

  private zeroLogits: Partial<Record<'opencv' | 'ts', Float32Array>> = {};

  get temperature(): number {
    return this.meta.temperature;
  }

  /** Mean logits of the ensemble for one normalised 28×28 image (fresh array). */
  logits(pixels: Float32Array): Float32Array {
    const out = new Float32Array(this.meta.shape.classes);
    for (const net of this.nets) {
      const l = net.forward(pixels);
      for (let k = 0; k < out.length; k++) out[k] += l[k] / this.nets.length;
    }
    return out;
  }

  /** Calibrated probabilities for normalised images. */
  classifyNormalised(images: Float32Array[]): number[][] {
    return this.logitsBatch(images).map((l) => softmax(l, this.meta.temperature));
  }
}

function isAllZero(px: Float32Array): boolean {
  for (let i = 0; i < px.length; i++) if (px[i] !== 0) return false;
  return true;
}

let cached: DigitModel | null = null;

/** Loads the committed weights once per process. */
export function loadDigitModel(dir = WEIGHTS_DIR): DigitModel {
  if (cached && dir === WEIGHTS_DIR) return cached;
  const metaPath = `${dir}/${MODEL_NAME}.json`;
  const binPath = `${dir}/${MODEL_NAME}.bin`;
  let meta: ModelMeta;
  let bin: Buffer;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    bin = readFileSync(binPath);
  } catch (err) {
    throw new Error(`digit model weights not found in ${dir} (run \`npm run train:digits\`): ${(err as Error).message}`);
  }
  if (meta.format !== 'rekap-digits-cnn') throw new Error(`${metaPath}: not a rekap digit model`);
  const hash = createHash('sha256').update(bin).digest('hex');
  if (hash !== meta.sha256) throw new Error(`${binPath}: weights do not match their metadata (sha256 ${hash})`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const per = all.length / meta.members;
  const params = Array.from({ length: meta.members }, (_, i) => all.slice(i * per, (i + 1) * per));
  const model = new DigitModel(meta, params);
  if (dir === WEIGHTS_DIR) cached = model;
  return model;
}

export function saveDigitModel(meta: Omit<ModelMeta, 'sha256' | 'format' | 'classes' | 'members'>, params: Float32Array[], dir = WEIGHTS_DIR): ModelMeta {
  mkdirSync(dir, { recursive: true });
  const total = params.reduce((s, p) => s + p.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const p of params) {
    all.set(p, o);
    o += p.length;
  }
  const bin = Buffer.from(all.buffer);
  const full: ModelMeta = {
    format: 'rekap-digits-cnn',
    classes: BOX_CLASSES,
    members: params.length,
    sha256: createHash('sha256').update(bin).digest('hex'),
    ...meta,
  };
  writeFileSync(`${dir}/${MODEL_NAME}.bin`, bin);
  writeFileSync(`${dir}/${MODEL_NAME}.json`, JSON.stringify(full, null, 2) + '\n');
  if (dir === WEIGHTS_DIR) cached = null;
  return full;
}

export interface BoxResult {
  /** Argmax class. */
  class: (typeof BOX_CLASSES)[number];
  /** Calibrated probabilities in BOX_CLASSES order. */
  probs: number[];
  /** normaliseBox found no ink at all. */
  empty: boolean;
}

/**
 * Classifies single-box images (raw pixels, any size, grey or colour, with or without border).
 * Returns calibrated probabilities, 12 per box in BOX_CLASSES order, in input order.
 * Throws BoxImageError (from normaliseBox) on a malformed image.
 */
export function classifyBoxes(images: RawImage[], model: DigitModel = loadDigitModel()): number[][] {
  return classifyBoxesDetailed(images, model).map((r) => r.probs);
}

export function classifyBoxesDetailed(images: RawImage[], model: DigitModel = loadDigitModel()): BoxResult[] {
  const norms = images.map((img) => normaliseBox(img));
  const probs = model.classifyNormalised(norms.map((n) => n.pixels));
  return probs.map((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    return { class: BOX_CLASSES[best], probs: p, empty: norms[i].empty };
  });
}
