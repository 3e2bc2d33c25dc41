/**
 * The reader's public contract: what reading one photo of one C.Hasil page produces. The ingest
 * workers store it as a `readings` row; the dashboard shows it beside the photo; `rekap read --json`
 * prints it. Field keys are Sirekap-style (DOMAIN.md §5.3): suara_paslon_1, suara_sah, pengguna_total_j…
 */

/** Digit-box classes: '0'..'9', 'X' (filler in unused leading boxes) and 'blank'. Index order below. */
export const BOX_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', 'blank'] as const;
export type BoxClass = (typeof BOX_CLASSES)[number];
export const CLASS_X = 10;
export const CLASS_BLANK = 11;

const isFiller = (c: string) => c === 'X' || c === '0' || c === 'blank';
/**
 * Whether a box read as `read` says what was written there. A leading box (not the units box) that
 * holds a filler may be written X, 0 or left blank: any filler reading of it is right.
 */
export function boxReadRight(written: string, read: string, leading: boolean): boolean {
  return read === written || (leading && isFiller(written) && isFiller(read));
}

export type DecodeClass = 'READ_OK' | 'AUTO_CORRECTED' | 'FORM_INCONSISTENT' | 'NEEDS_REVIEW';
export type ReadClass = DecodeClass | 'REJECTED';

export type PageKind = 'administrasi' | 'perolehan';

export interface FieldReading {
  /** Decoder's value x* (null only when the page was rejected). */
  value: number | null;
  /** Marginal posterior P(X_f = x*_f). */
  p: number;
  /** Per-box argmax reading (null when the argmax is not a valid rendering, e.g. a filler after a digit). */
  raw: number | null;
  /** Calibrated probabilities per box, 12 classes each in BOX_CLASSES order. */
  boxes: number[][];
  /** Box rectangles in the warped page frame (pixels): [x, y, w, h]. */
  roi: [number, number, number, number][];
}

export interface DecoderChange {
  key: string;
  box: number;
  from: BoxClass;
  to: BoxClass;
  /** Probability the classifier gave the new class. */
  p: number;
}

export interface PageReading {
  file?: string;
  page: PageKind | null;
  templateId: string | null;
  /** The id decoded from the page mark (form type, page, candidate count); null when it was not read. */
  markId: number | null;
  /**
   * How the page was identified: by its page mark, or (the mark covered or unreadable) by its printed
   * layout within what the upload admitted (the page named, the contest's candidate count).
   * Absent on rejections.
   */
  identifiedBy?: 'page_mark' | 'layout';
  alignmentScore: number | null;
  /**
   * The photo's size as uploaded (upright), and the DCT scale it was decoded at: a JPEG over 26 MP
   * (a 48–200 MP phone mode) is read at 1/2, 1/4 or 1/8 of its size. Absent when it was not decoded.
   */
  image?: { width: number; height: number; scaleDenominator: 1 | 2 | 4 | 8 };
  class: ReadClass;
  /** Why a page was rejected: 'not_an_image', 'no_page_found', 'page_mark_unreadable', 'misaligned', 'wrong_page'… */
  rejectReason?: string;
  rejectDetail?: string;
  fields: Record<string, FieldReading>;
  changes: DecoderChange[];
  /** Residual Δ* of every identity of the page, by identity id. */
  residuals: Record<string, number>;
  post: number;
  pConsistent: number;
  timingsMs: Record<string, number>;
  readerVersion: string;
}
