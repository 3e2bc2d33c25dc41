/**
 * The reader's second look. A box the digit reader is unsure of (top class below SECOND_LOOK_BELOW) is
 * cut twice more, once closer to its printed outline and once further inside it, and the three
 * readings are averaged. The cut is where a photographed box differs most from the crops the model
 * learnt from: a stroke on the outline, a remnant of the line inside the cut. Only unsure boxes pay
 * for it (a few per page). Used by the form reader (pipeline.ts) and by the evaluation of candidate
 * weights on photographed boxes (photo-boxes.ts), so both score boxes the same way.
 */
export const SECOND_LOOK_BELOW = 0.9;
/** The two extra cuts: inset 1 px closer to the printed outline, and 2 px further inside it. */
export const SECOND_LOOK_INSETS = [-1, 2] as const;

export function needsSecondLook(p: ArrayLike<number>): boolean {
  for (let c = 0; c < p.length; c++) if (p[c]! >= SECOND_LOOK_BELOW) return false;
  return true;
}

/** The class-wise mean of a box's readings (the first cut and its re-cuts). */
export function averageViews(views: ArrayLike<number>[]): number[] {
  return Array.from(views[0]!, (_, c) => views.reduce((s, v) => s + v[c]!, 0) / views.length);
}
