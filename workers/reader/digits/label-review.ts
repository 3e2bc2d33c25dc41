/**
 * Upstream crops whose label is not what the glyph shows, as judged by a person looking at the crop.
 *
 * Why a list: the synthetic bench draws each held-out crop onto ~20 photographed forms, so one crop
 * labelled 2 that shows a clear 9 sent 22 boxes of the session-5 bench to review as "misreads" (the
 * reader said 9, correctly), and the four held-out crops below put 44 of 929 publishable forms in
 * review. A person reading such a form would also see a 9 where the arithmetic needs a 2: in a real
 * election that is a KPPS writing error, not a reading error.
 *
 * How the list was made (session 6, 2026-12-07): every real crop the committed model read against its
 * label with p ≥ 0.99 (`tools/dump-errors.ts`, all parts: 5 of 1,658 held-out crops, 4 of 6,779
 * training crops) was looked at, enlarged, beside the others. A crop is listed only when the glyph
 * unambiguously shows another class; a confident error on a glyph that shows its label stays an error
 * (the clear, dark 6 of `6_C_5308041014005_1_6.jpg`, read 8 at p 0.997, is NOT listed). Less confident
 * disagreements were not reviewed, so more noise may remain; what is listed was seen, not inferred.
 *
 * Who uses it: the figures keep the upstream labels as the headline (`realTop1`) and add the reviewed
 * figure beside it (`realTop1Reviewed`); the synthetic handwriting draws a listed crop as the class it
 * shows; training targets use the reviewed class.
 */
import { BOX_CLASSES } from '../types.js';

export interface ReviewedCrop {
  /** File name in ../shared/data/digits/c_hasil_2024_digit_crops. */
  file: string;
  /** The upstream label (labels.csv), kept so a changed dataset cannot silently re-map another crop. */
  label: number;
  /** The class the glyph shows. */
  shows: (typeof BOX_CLASSES)[number];
  what: string;
}

export const LABEL_REVIEW: readonly ReviewedCrop[] = [
  // Held-out TPS (test part).
  { file: '2_C_5108061023005_2_2.jpg', label: 2, shows: '9', what: 'a clear, dark 9: closed loop and a straight tail' },
  { file: '9_C_5205012010006_2_9.jpg', label: 9, shows: '1', what: 'a single vertical stroke' },
  // Held-out TPS (calibration part).
  { file: '5_C_5171032001045_3_5.jpg', label: 5, shows: '3', what: 'a 3 with two open bowls, no vertical stroke or top bar' },
  { file: '9_C_5101042009021_2_9.jpg', label: 9, shows: '8', what: 'two closed boxes, one above the other (a square-drawn 8)' },
  // Training TPS.
  { file: '2_C_5101042004004_3_12.jpg', label: 2, shows: '1', what: 'a single vertical stroke between the dotted guides' },
  { file: '1_C_5202032005009_2_1.jpg', label: 1, shows: 'X', what: 'two crossing diagonal strokes' },
  { file: '2_C_5272031001008_2_2.jpg', label: 2, shows: '7', what: 'a top bar and a long right stroke, no base' },
  { file: '5_C_5108062016010_2_5.jpg', label: 5, shows: '4', what: 'an open 4: a left stroke, a bar and a long right stroke' },
];

const byFile = new Map(LABEL_REVIEW.map((r) => [r.file, r]));

/**
 * The class index a person found the crop to show, when it differs from its upstream label; undefined
 * when the crop was not reviewed or its upstream label is not the one reviewed.
 */
export function reviewedClass(file: string, upstreamLabel: number): number | undefined {
  const r = byFile.get(file);
  if (!r || r.label !== upstreamLabel) return undefined;
  return BOX_CLASSES.indexOf(r.shows);
}
