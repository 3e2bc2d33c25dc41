/**
 * Every number the hard rules depend on, in one place (INTEGRITY.md §1.2, §2, §7).
 * Caps are per TPS type, never a global constant: a lokasi-khusus TPS (9xx) and overseas units are
 * capped by their own register, regular TPS by the election's cap.
 */

export type ElectionKind = 'PILKADA_2024' | 'PEMILU_2024';

export interface ElectionRuleParams {
  /** Max registered voters (DPT) per regular TPS. */
  tpsCap: number;
  /**
   * Reserve ballots as a rate in per-mille of DPT, rounded up (2.5% → 25‰). Kept integral so that
   * ceil(rate × DPT) is computed in integers: 0.025 × 520 in floating point is not exactly 13.
   */
  reservePermille: number;
}

export const ELECTION_PARAMS: Record<ElectionKind, ElectionRuleParams> = {
  PEMILU_2024: { tpsCap: 300, reservePermille: 20 },
  PILKADA_2024: { tpsCap: 600, reservePermille: 25 },
};

export const DEFAULT_ELECTION: ElectionKind = 'PILKADA_2024';

/** H12: received ballots may exceed DPT + reserve by this many (local rounding practice varies). */
export const RECEIVED_BALLOTS_TOLERANCE = 2;

/** X2: DPT voters get every ballot, so U_dpt of concurrent races may differ only by this much. */
export const CROSS_RACE_UDPT_TOLERANCE = 2;

/** H8: the largest value a 3-box field can hold (5-box fields: 99,999). */
export const MAX_FIELD_VALUE = 999;

/** TPS numbers from this value up are lokasi khusus (prisons, hospitals): own register as cap. */
export const SPECIAL_TPS_NUMBER_FROM = 900;

/** Reserve ballots: ceil(rate × DPT), in integers. */
export function reserveBallots(dpt: number, permille: number): number {
  if (!Number.isInteger(dpt) || dpt < 0) throw new RangeError(`reserveBallots: DPT must be a non-negative integer, got ${dpt}`);
  return Math.floor((dpt * permille + 999) / 1000);
}
