/**
 * Every detector threshold in one place (INTEGRITY.md §7 starting values). Detectors receive these
 * values; nothing else in workers/detectors hard-codes a threshold. Change them here, re-run
 * `npx tsx workers/detectors/evaluate.ts` and read the false-positive and hit rates it prints.
 */
export const DETECTOR_PARAMS = {
  election: {
    PEMILU_2024: { tpsCap: 300, reserveRate: 0.02 },
    PILKADA_2024: { tpsCap: 600, reserveRate: 0.025 },
  },
  /** Turnout robust z (Iglewicz–Hoaglin) of one TPS against its kecamatan. */
  turnout: { minGroup: 20, mContext: 3.5, mFlag: 5, madFloorPermille: 1 },
  /** Overdispersion-aware sibling vote-share test (beta-binomial, multi-candidate X²) with BH-FDR. */
  sibling: { minSiblings: 4, bhQ: 0.01, minAbsDiff: 15, minRelDiff: 0.1, minKabTps: 30, trimP: 1e-3 },
  /** Klimek extreme cell (turnout ≥ .95 and winner share ≥ .95) per kabupaten, noken TPS excluded. */
  extremeCell: { turnout: 0.95, share: 0.95, minCount: 5, p: 1e-4, minTps: 500, excludeNoken: true },
  /** Last-digit χ² per region (kecamatan, kabupaten); all counts of fields whose mean is ≥ 30. */
  lastDigit: { minN: 100, minFieldMean: 30, bhQ: 0.001 },
  /** Second-digit Benford: off by default (it rejects clean TPS-scale regions, INTEGRITY §5.2). */
  twoBL: { enabled: false, minN: 300, minCount: 10 },
  /** Region tests are looked at only at these counts (plus once when a region is complete); alpha spent geometrically. */
  streaming: { checkpoints: [64, 128, 256, 512, 1024, 2048, 4096, 8192] as readonly number[], spending: 'geometric' as const },
  /** Cross-contest identities at one TPS (X1 hard, X2/X3 soft with tolerance). */
  crossContest: { x2Tolerance: 2 },
  /** Duplicate photos: dHash Hamming distance at or under which two photos are "the same image". */
  dup: { dhashMax: 5, minFieldsNumeric: 5, maxExpectedCoincidences: 0.01 },
  /** Edits after publication: a one-field delta of ±d·10^k is digit-shaped (617 → 117). */
  temporal: { digitShapedMaxDigit: 9 },
  severity: {
    weights: {
      HARD: 1, SOURCE_MISMATCH: 0.9, RECAP: 0.9, DUPLICATE: 0.8, TEMPORAL: 0.8,
      FORM_INCONSISTENT: 0.6, STAT_TPS: 0.5, STAT_REGION: 0.3, CONTEXT: 0.1,
    },
    bands: { CRITICAL: 60, HIGH: 30, MEDIUM: 10 },
    slaHours: { CRITICAL: 2, HIGH: 12, MEDIUM: 48, LOW: 168 },
    agingBoostPerBreach: 5,
  },
  cases: { reviewLockMin: 30, twoPersonRule: true },
} as const;

export type DetectorParams = typeof DETECTOR_PARAMS;
