/**
 * Per-field likelihood L_f(v) from per-box class probabilities (INTEGRITY §4.2), and the per-box
 * argmax reading. Box classes follow BOX_CLASSES: '0'..'9' = 0..9, 'X' = 10, 'blank' = 11.
 *
 * render(v, k): the decimal digits of v right-aligned in k boxes, leading boxes filled with a filler.
 * A leading filler box may be an X, a leading zero (some KPPS write 0 instead of X) or left empty
 * (some KPPS leave unused boxes blank), so its probability is max(p[X], p[0], p[blank]). A filler
 * after a significant digit renders no value, so such a reading has no support. 0 renders as
 * [filler, filler, '0']: an all-filler field is not read as 0 unless `emptyMeansZero` is set, because
 * an empty row more often means "not filled in" than zero, and a human should see it.
 */
import { BOX_CLASSES, CLASS_BLANK, CLASS_X, type BoxClass } from '../types.js';

export const NUM_CLASSES = BOX_CLASSES.length;
/** Probability floor per class: a classifier's 0 is never certain, and a floor keeps every value reachable. */
export const PROB_FLOOR = 1e-6;
export const MAX_BOXES = 5;

export class DecoderInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecoderInputError';
  }
}

/** Validate and normalise one box's 12 probabilities (floored, summing to 1). */
export function normaliseBox(p: ArrayLike<number>, where: string): Float64Array {
  if (!p || p.length !== NUM_CLASSES) throw new DecoderInputError(`${where}: expected ${NUM_CLASSES} class probabilities, got ${p?.length}`);
  let s = 0;
  for (let c = 0; c < NUM_CLASSES; c++) {
    const x = p[c]!;
    if (!Number.isFinite(x) || x < 0) throw new DecoderInputError(`${where}: probability of class ${BOX_CLASSES[c]} is ${x}`);
    s += x;
  }
  if (!(s > 0)) throw new DecoderInputError(`${where}: probabilities sum to 0`);
  const out = new Float64Array(NUM_CLASSES);
  const z = 1 + NUM_CLASSES * PROB_FLOOR;
  for (let c = 0; c < NUM_CLASSES; c++) out[c] = (p[c]! / s + PROB_FLOOR) / z;
  return out;
}

/** The class a filler box is read as: whichever of X, '0', blank is most probable. */
export function fillerClass(p: Float64Array): number {
  let best = CLASS_X;
  if (p[0]! > p[best]!) best = 0;
  if (p[CLASS_BLANK]! > p[best]!) best = CLASS_BLANK;
  return best;
}

/** Classes of the rendering of v in k boxes (filler boxes get the box's own filler class). */
export function renderClasses(v: number, boxes: Float64Array[]): number[] {
  const k = boxes.length;
  const digits = String(v);
  const out: number[] = [];
  for (let b = 0; b < k; b++) {
    const d = b - (k - digits.length);
    out.push(d >= 0 ? digits.charCodeAt(d) - 48 : fillerClass(boxes[b]!));
  }
  return out;
}

export interface FieldLikelihood {
  /** log L_f(v) for v in 0..10^k − 1. */
  logL: Float64Array;
  /** max_v log L_f(v). */
  maxLog: number;
  /** log Σ_v L_f(v) (for the posterior's mass bounds). */
  logSum: number;
}

/**
 * log L_f(v) for every v, computed box by box: for each count n of significant digits, the leading
 * (k − n) boxes are fillers and the trailing n boxes spell v with a non-zero first digit (n = 1 also
 * allows the digit 0).
 */
export function fieldLikelihood(boxes: Float64Array[], opts: { emptyMeansZero?: boolean } = {}): FieldLikelihood {
  const k = boxes.length;
  const size = 10 ** k;
  const logL = new Float64Array(size).fill(-Infinity);
  const lp = boxes.map((p) => Float64Array.from(p, (x) => Math.log(x)));
  const lf = boxes.map((p) => Math.log(Math.max(p[CLASS_X]!, p[0]!, p[CLASS_BLANK]!)));
  // prefixFill[b] = Σ_{i<b} log filler(i)
  const prefixFill = [0];
  for (let b = 0; b < k; b++) prefixFill.push(prefixFill[b]! + lf[b]!);
  for (let n = 1; n <= k; n++) {
    const first = k - n;
    // s = prefixFill[first] + log p(units) + log p(tens) + … (least significant box first), summed
    // digit by digit so that values sharing their low digits share the partial sum (a decoder page
    // has ~40 fields × 1,000 values; a division and a modulo per box and value cost more than the sums).
    spell(logL, lp, k - 1, first, 0, 1, prefixFill[first]!, n === 1);
  }
  if (opts.emptyMeansZero) {
    // An all-filler field may also mean 0: take the better of [f, …, f, '0'] and [f, …, f, f].
    logL[0] = Math.max(logL[0]!, prefixFill[k]!);
  }
  let maxLog = -Infinity;
  for (let v = 0; v < size; v++) if (logL[v]! > maxLog) maxLog = logL[v]!;
  let logSum: number | undefined;
  return {
    logL,
    maxLog,
    // Nothing on the reader's path reads it: computed (1,000 exp per field) only when asked for.
    get logSum() {
      if (logSum === undefined) {
        let acc = 0;
        for (let v = 0; v < size; v++) acc += Math.exp(logL[v]! - maxLog);
        logSum = maxLog + Math.log(acc);
      }
      return logSum;
    },
  };
}

/**
 * Fills logL for the values spelled by boxes first..k−1, box b taking digit d with place value
 * `place` (box b = k−1 is the units): s is the sum so far (from the less significant boxes); the most
 * significant box (b = first) takes 1..9, or 0..9 when it is the only one (zeroAllowed).
 */
function spell(logL: Float64Array, lp: Float64Array[], b: number, first: number, v: number, place: number, s: number, zeroAllowed: boolean): void {
  const row = lp[b]!;
  if (b === first) {
    for (let d = zeroAllowed ? 0 : 1; d < 10; d++) logL[v + d * place] = s + row[d]!;
    return;
  }
  for (let d = 0; d < 10; d++) spell(logL, lp, b - 1, first, v + d * place, place * 10, s + row[d]!, zeroAllowed);
}

/** Index of the largest probability (first on ties, so the result is deterministic). */
export function argmaxClass(p: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
  return best;
}

/**
 * The per-box argmax reading: leading X / blank boxes are fillers, then digits. null when a filler
 * follows a digit (no value renders that way) or when every box is a filler (empty row).
 */
export function argmaxValue(boxes: ArrayLike<number>[], opts: { emptyMeansZero?: boolean } = {}): number | null {
  const classes = boxes.map(argmaxClass);
  return valueOfClasses(classes, opts);
}

export function valueOfClasses(classes: number[], opts: { emptyMeansZero?: boolean } = {}): number | null {
  let v = 0;
  let seenDigit = false;
  for (const c of classes) {
    if (c === CLASS_X || c === CLASS_BLANK) {
      if (seenDigit) return null;
      continue;
    }
    seenDigit = true;
    v = v * 10 + c;
  }
  if (!seenDigit) return opts.emptyMeansZero ? 0 : null;
  return v;
}

export function className(c: number): BoxClass {
  return BOX_CLASSES[c]!;
}
