/**
 * Calibration: temperature scaling (Guo et al. 2017) fitted on held-out TPS, and the expected
 * calibration error used to report it. The decoder multiplies box probabilities across a whole form,
 * so over-confident softmax outputs would make wrong readings look certain (INTEGRITY.md §4.2).
 */
import { softmax } from './cnn.js';

/** Mean negative log-likelihood of the targets at temperature T. */
export function nll(logits: ArrayLike<number>[], targets: number[], temperature: number): number {
  let s = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = softmax(logits[i], temperature);
    s -= Math.log(Math.max(p[targets[i]], 1e-12));
  }
  return s / Math.max(1, logits.length);
}

/**
 * The temperature minimising NLL on a calibration set (golden-section search on log T; NLL is convex
 * in 1/T for a fixed model, so a 1-D search is enough).
 */
export function fitTemperature(logits: ArrayLike<number>[], targets: number[]): number {
  if (logits.length === 0) return 1;
  let a = Math.log(0.25);
  let b = Math.log(8);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = nll(logits, targets, Math.exp(c));
  let fd = nll(logits, targets, Math.exp(d));
  for (let i = 0; i < 40; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = nll(logits, targets, Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = nll(logits, targets, Math.exp(d));
    }
  }
  return Math.exp((a + b) / 2);
}

export interface EceResult {
  ece: number;
  bins: { lo: number; hi: number; n: number; confidence: number; accuracy: number }[];
}

/**
 * Expected calibration error of the top-label confidence, equal-width bins.
 * `correct[i]` says whether sample i's argmax counts as right.
 */
export function expectedCalibrationError(confidence: number[], correct: boolean[], nBins = 15): EceResult {
  const bins = Array.from({ length: nBins }, (_, k) => ({ lo: k / nBins, hi: (k + 1) / nBins, n: 0, confidence: 0, accuracy: 0 }));
  for (let i = 0; i < confidence.length; i++) {
    const k = Math.min(nBins - 1, Math.floor(confidence[i] * nBins));
    bins[k].n++;
    bins[k].confidence += confidence[i];
    bins[k].accuracy += correct[i] ? 1 : 0;
  }
  let ece = 0;
  const n = Math.max(1, confidence.length);
  for (const b of bins) {
    if (b.n === 0) continue;
    b.confidence /= b.n;
    b.accuracy /= b.n;
    ece += (b.n / n) * Math.abs(b.confidence - b.accuracy);
  }
  return { ece, bins: bins.filter((b) => b.n > 0) };
}

/**
 * Calibration of one confusion pair (a, b): among samples whose true class is a or b, the predicted
 * probability of a given "a or b" (p_a / (p_a + p_b)) against how often the truth is a. This is the
 * quantity the decoder leans on when it weighs, say, a 1 against a 7.
 */
export function pairCalibrationError(probs: number[][], truth: number[], a: number, b: number, nBins = 10): { n: number; ece: number } {
  const conf: number[] = [];
  const ok: boolean[] = [];
  for (let i = 0; i < probs.length; i++) {
    if (truth[i] !== a && truth[i] !== b) continue;
    const pa = probs[i][a];
    const pb = probs[i][b];
    const q = pa + pb > 0 ? pa / (pa + pb) : 0.5;
    // Fold to the predicted side so that the bins read like a top-label reliability diagram.
    const predA = q >= 0.5;
    conf.push(predA ? q : 1 - q);
    ok.push(predA === (truth[i] === a));
  }
  return { n: conf.length, ece: expectedCalibrationError(conf, ok, nBins).ece };
}
