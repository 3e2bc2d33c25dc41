/**
 * Targets for the real crops. Upstream label 0 mixes written zeros and "X" fillers (SOURCE.md), and
 * the reader must tell them apart (an X is a leading blank, a 0 is a digit). The two differ in one
 * robust way after normalisation: an X crosses the centre of the box, a zero leaves it empty. Crops in
 * between (a slashed zero, an X inside a drawn rectangle) are not used for training and count as right
 * for either class in evaluation.
 */
import { CLASS_X } from '../types.js';

/** Ink in the central 6×6 of a normalised 28×28 box. */
export function centreInk(pixels: Float32Array): number {
  let s = 0;
  for (let y = 11; y <= 16; y++) for (let x = 11; x <= 16; x++) s += pixels[y * 28 + x];
  return s;
}

export const ZERO_MAX_CENTRE = 1;
export const X_MIN_CENTRE = 12;

export interface RealTarget {
  /** Class to train on, or null when the upstream label is ambiguous between 0 and X. */
  target: number | null;
  /** Classes counted as correct in evaluation. */
  accept: number[];
}

export function realTarget(label: number, pixels: Float32Array): RealTarget {
  if (label !== 0) return { target: label, accept: [label] };
  const c = centreInk(pixels);
  if (c < ZERO_MAX_CENTRE) return { target: 0, accept: [0] };
  if (c >= X_MIN_CENTRE) return { target: CLASS_X, accept: [CLASS_X] };
  return { target: null, accept: [0, CLASS_X] };
}

/**
 * The target of a real crop after the label review (label-review.ts): a crop a person found to show
 * another class is that class; every other crop gets realTarget of its upstream label.
 */
export function reviewedTarget(crop: { label: number; shows?: number }, pixels: Float32Array): RealTarget {
  if (crop.shows !== undefined) return { target: crop.shows, accept: [crop.shows] };
  return realTarget(crop.label, pixels);
}
