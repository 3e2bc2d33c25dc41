/**
 * The train / held-out split of the real KPPS digit crops, by TPS code.
 *
 * One KPPS writer fills every box of one TPS, so a split by crop would let the model see a writer's
 * hand in training and again in evaluation. Splitting by TPS keeps each writer on one side. The hash is
 * deterministic (FNV-1a, no randomness, no dependency) so that the digit trainer, the evaluator and the
 * synthetic-form generator (which may only use training-side crops) always agree.
 *
 * Held-out TPS are divided again into a calibration part (temperature scaling) and a test part
 * (reported accuracy / ECE), so that the temperature is never fitted on the figures it is judged by.
 */

/** Share of TPS codes held out of training (calibration + test). */
export const HELD_OUT_SHARE = 0.2;

/**
 * 32-bit string hash: FNV-1a, then the murmur3 fmix32 avalanche so that consecutive codes spread
 * evenly. The project's one copy: the synthesiser derives its sub-seeds from it too
 * (workers/reader/synth/random.ts `hashSeed`), and changing it would move every TPS between the
 * training and held-out sides.
 */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A value in [0, 1) fixed by the TPS code. */
function bucket(tpsCode: string): number {
  return hashString32(`rekap-digits-split:${tpsCode.trim()}`) / 2 ** 32;
}

/**
 * True when crops from this TPS must not be used for training (nor by synthetic forms).
 * Crops without a TPS code (empty / unknown) are treated as held out: their writer is unknown, so they
 * are never allowed to leak a writer into training.
 */
export function isHeldOut(tpsCode: string | null | undefined): boolean {
  if (!tpsCode || !tpsCode.trim()) return true;
  return bucket(tpsCode) < HELD_OUT_SHARE;
}

export type SplitPart = 'train' | 'calibration' | 'test';

/**
 * Which part a TPS belongs to: 'train' (~80%), 'calibration' (~10%) or 'test' (~10%).
 * Crops without a TPS code go to 'test' (never used to fit anything).
 */
export function splitPart(tpsCode: string | null | undefined): SplitPart {
  if (!tpsCode || !tpsCode.trim()) return 'test';
  const b = bucket(tpsCode);
  if (b >= HELD_OUT_SHARE) return 'train';
  return b < HELD_OUT_SHARE / 2 ? 'calibration' : 'test';
}
