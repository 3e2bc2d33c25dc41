/**
 * A form template: the single description of one page layout, used by the renderer (to print it),
 * the synthesiser (to fill it), the reader (to find and cut boxes) and the decoder (its identities).
 * Templates are versioned JSON files in workers/reader/templates/. A new layout is a new file.
 * Geometry is in millimetres from the page's top-left corner.
 *
 * Contract for the code that reads these (kept stable; new members are optional and additive):
 * - v1 layouts: F4 paper 215 × 330 mm; administrasi (34 fields) and perolehan for 1..6 paslon.
 *   Load them through `template/index.ts` (loadTemplates, templateFor, templateByMarkId, knownMarkIds,
 *   fieldKeysFor); never read the JSON directly, the loader validates it.
 * - Boxes: `boxes[0]` is the hundreds box. A rect is the printed square's outer edge; the black
 *   outline (`boxLineMm`, 0.4 mm) is drawn inside it. Boxes never overlap each other or the page mark.
 * - Page mark: `pageMark` is the outer square of an 8 × 8-cell tag (black border + 6 × 6 data bits);
 *   sample the data cells and decode with `decodePageMarkNearest(bits, knownMarkIds())` or
 *   `decodePageMarkAnyRotation` from `template/pagemark.ts`. Mark id = 200 + 10·page + candidates
 *   (210 administrasi, 221..226 perolehan).
 * - Identities: 'sum' means total = Σ parts; 'le' means Σ parts ≤ total. Keys only name fields of the
 *   same page; cross-page rules (H4: suara_total = pengguna_total_j) are not template identities.
 */
import type { PageKind } from '../types.js';

export interface RectMm { x: number; y: number; w: number; h: number }

export interface FieldSpec {
  /** Sirekap-style key, e.g. `pemilih_dpt_l`, `suara_paslon_2`. */
  key: string;
  /** Printed row label and column, Bahasa Indonesia, plus English for the UI. */
  label: { id: string; en: string };
  /** Handwriting boxes, most significant first (3 on C.Hasil). */
  boxes: RectMm[];
}

/**
 * An arithmetic identity of the form: `total = Σ parts` (kind 'sum') or `Σ parts ≤ total` (kind 'le').
 * rule is the INTEGRITY.md rule id it implements (H1, H2, H3, H6, H7, ...); epsilon is the prior
 * probability that KPPS wrote the form inconsistently (INTEGRITY §4.4).
 */
export interface IdentitySpec {
  id: string;
  rule: string;
  kind: 'sum' | 'le';
  total: string;
  parts: string[];
  epsilon: number;
}

/** A printed table rule (decoration the reader must ignore); kept ≥ 1 mm away from every box. */
export interface LineSpec { x1: number; y1: number; x2: number; y2: number; widthMm: number }

export interface TextSpec { text: string; x: number; y: number; sizeMm: number; bold?: boolean; align?: 'left' | 'center' | 'right' }

export interface FormTemplate {
  id: string;
  version: number;
  formType: 'C.HASIL-KWK';
  page: PageKind;
  /** Candidate rows on a perolehan page (1..6; 1 adds "kolom kosong"). */
  candidateCount?: number;
  /** The number the page mark encodes: form type, page and candidate count. */
  markId: number;
  sizeMm: { width: number; height: number };
  /**
   * The four corner checkerboards (TL, TR, BR, BL): each rect is a sizeMm square split 2 × 2, black
   * top-left and bottom-right quadrants (DOMAIN §5.5). The reader's alignment points are the centres
   * of the rects (where the two black squares touch).
   */
  fiducials: { sizeMm: number; corners: [RectMm, RectMm, RectMm, RectMm] };
  /**
   * The page mark's outer square (black border included, quiet zone excluded). Its bit layout, cell
   * size and decoder are in `pagemark.ts` (PAGE_MARK_CELLS cells per side: 1 border + 6 data + 1 border).
   */
  pageMark: RectMm;
  /** Header boxes for area names and TPS number, filled by the renderer. */
  header: Record<'provinsi' | 'kabupaten' | 'kecamatan' | 'desa' | 'tps', RectMm>;
  /** Optional (additive, v1): where the renderer prints the contest name (e.g. "PEMILIHAN GUBERNUR ... KALIMANTAN TENGAH"). */
  contestTitle?: RectMm;
  /** Optional (additive, v1): perolehan rows, one per paslon (number 1..N) plus number 0 = "kolom kosong". */
  candidateRows?: { number: number; field: string; name: RectMm }[];
  fields: FieldSpec[];
  identities: IdentitySpec[];
  text: TextSpec[];
  /** Optional (additive, v1): table rules drawn by the renderer. */
  lines?: LineSpec[];
  /** Printed box outline width in mm (boxes are drawn as black outlines of this width, inside the rect). */
  boxLineMm?: number;
}
