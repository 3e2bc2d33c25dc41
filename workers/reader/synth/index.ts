/**
 * Synthetic photographed C.Hasil-KWK pages with ground truth: seeded values (identities hold except
 * for planted KPPS mistakes), real handwriting, and phone-camera damage. The reader's benchmark and
 * tests run on these; `rekap synth` writes them to disk.
 *
 * Public entry points: synthesizePhoto (one photo + truth), synthPlan (which TPS/page photo i shows),
 * GroundTruth (the JSON written beside each photo), re-exported generateTpsValues / checkIdentities.
 */
import type { BoxClass } from '../types.js';
import type { FormTemplate } from '../template/types.js';
import { templateFor } from '../template/index.js';
import { renderFormCanvas, type FormHeader } from '../render/index.js';
import { Rng } from './random.js';
import { checkIdentities, generateTpsValues, pageValues, plantMistake, type PlantedMistake, type Values } from './values.js';
import { loadGlyphLibrary, randomPen, writeBox, type GlyphLibrary, type HandwritingPart, type PenStyle } from './handwriting.js';
import { applyHomography, photograph, planPhoto, type Degradation, type Point } from './photo.js';

export { generateTpsValues, checkIdentities, plantMistake, pageValues } from './values.js';
export { Rng, hashSeed } from './random.js';
export { loadGlyphLibrary, type HandwritingPart } from './handwriting.js';

export const SYNTH_SCHEMA = 'rekap-synth/1';
/**
 * Bumped whenever the same seed draws different photos (cached bench photos are keyed by it).
 * 2: real crops lose their own printed border, rules, inner frames and guide dots before they are drawn.
 * 3: a real crop's pale strokes are drawn at full pen strength (handwriting.ts inkAlpha).
 * 4: a bar next to the crop's border is kept unless it runs > 85% of the length (was 60%).
 * 5: a crop written in a coloured pen loses the grey print remnants at its edges (handwriting.ts dropUncolouredPrint).
 * 6: a crop whose upstream label a person found wrong is drawn as the class it shows (digits/label-review.ts).
 * 7: the crops come from the digit model's own index (digits/data.ts realCropIndex): a byte-identical
 *    copy of a test crop filed under a training TPS no longer enters training-side forms. Held-out and
 *    calibration photos are the same as generator 6's (their glyph pools are identical, checked).
 */
export const SYNTH_GENERATOR_VERSION = 7;

export interface SynthContest {
  id: string;
  /** KPU race type: pkwkp (governor) or pkwkk (bupati/walikota). */
  jenis: string;
  candidateCount: number;
  /** KPU paslon ids (7 digits) in number order, when known. */
  paslonIds: string[];
  header: Pick<FormHeader, 'contestTitle' | 'candidates'>;
}

export interface SynthTps {
  code: string;
  votersL?: number;
  votersP?: number;
  header: Omit<FormHeader, 'contestTitle' | 'candidates'>;
}

/**
 * An invented election for generated photo sets (benches, training data): TPS slot s shows a bupati
 * race with 1 + (s mod 6) candidate pairs, so every perolehan template comes up in turn, at one of 40
 * invented TPS. Sets differ only in their ids (`name`-<n> contests, paslon ids from `paslonBase`, TPS
 * codes `tpsPrefix` + 001…040), which are printed on the forms: keep them to keep cached photos valid.
 */
export function rotatingElection(name: string, paslonBase: number, tpsPrefix: string): { contestFor(slot: number): SynthContest; tps: SynthTps[] } {
  return {
    contestFor(slot) {
      const n = 1 + (slot % 6);
      return {
        id: `${name}-${n}`,
        jenis: 'pkwkk',
        candidateCount: n,
        paslonIds: Array.from({ length: n }, (_, i) => String(paslonBase + i)),
        header: {
          contestTitle: 'Pemilihan Bupati dan Wakil Bupati Kabupaten Contoh',
          candidates: Array.from({ length: n }, (_, i) => ({ number: i + 1, headName: `CALON KEPALA ${i + 1}`, deputyName: `CALON WAKIL ${i + 1}` })),
        },
      };
    },
    tps: Array.from({ length: 40 }, (_, i) => ({
      code: `${tpsPrefix}${String(i + 1).padStart(3, '0')}`,
      header: { provinsi: 'PROVINSI CONTOH', kabupaten: 'KABUPATEN CONTOH', kecamatan: 'KECAMATAN CONTOH', desa: 'DESA CONTOH', tps: String(i + 1).padStart(3, '0') },
    })),
  };
}

export type SynthPage = 'both' | 'administrasi' | 'perolehan';

export interface SynthOptions {
  seed: string | number;
  /** Share of pages carrying one genuine KPPS arithmetic mistake. */
  mistakes: number;
  /** Share of photos deliberately unreadable (page cut by the frame, or hopeless blur). */
  unreadable: number;
  page: SynthPage;
  /**
   * A second (third…) photo of the same filled sheet: the same values and handwriting, a new camera
   * (framing, light, blur, JPEG). 0 or absent is the first photo.
   */
  photoVariant?: number;
}

export type LeadingFill = 'X' | '0' | 'blank';

/** Whether a box was read as the generator wrote it (types.ts; re-exported for the benches). */
export { boxReadRight } from '../types.js';

export interface BoxTruth { class: BoxClass; source: string }

export interface GroundTruth {
  schema: typeof SYNTH_SCHEMA;
  file: string;
  seed: string;
  index: number;
  kode_tps: string;
  jenis: string;
  contest: string;
  paslon_ids: string[];
  ts: string;
  psu: 'Reguler';
  page: 'administrasi' | 'perolehan';
  templateId: string;
  templateVersion: number;
  markId: number;
  candidateCount: number;
  /** What is written on the form, field by field (mistakes included: this is the truth to read). */
  values: Values;
  /** Planted KPPS mistakes and every identity they break; empty when the page is consistent. */
  mistakes: PlantedMistake[];
  violatedIdentities: string[];
  /** Per field, the class written in each box (most significant first) and where its glyph came from. */
  boxes: Record<string, BoxTruth[]>;
  leadingFill: LeadingFill;
  /** Which writers the glyphs come from: 'train' (digit model's training side), 'heldout', or 'calibration' (the calibration TPS only). */
  handwriting: HandwritingPart;
  pen: Omit<PenStyle, 'rgb'>;
  degradation: Degradation;
  /** Template millimetres → photo pixels (row-major 3 × 3 homography). */
  mmToPhoto: number[][];
  /** Centres of the four fiducials (TL, TR, BR, BL) in photo pixels. */
  fiducialCentres: Point[];
  readable: boolean;
  unreadableReason: string | null;
}

/** Which TPS slot and page photo i shows: with page=both, photos 2k and 2k+1 are the two pages of TPS slot k. */
export function synthPlan(index: number, page: SynthPage): { slot: number; page: 'administrasi' | 'perolehan' } {
  if (page === 'both') return { slot: Math.floor(index / 2), page: index % 2 === 0 ? 'administrasi' : 'perolehan' };
  return { slot: index, page };
}

/** Box classes for a value: right-aligned digits; leading boxes per the writer's habit. */
export function boxClasses(value: number, boxes: number, fill: LeadingFill): BoxClass[] {
  const digits = String(value);
  if (digits.length > boxes) throw new RangeError(`value ${value} does not fit ${boxes} boxes`);
  return Array.from({ length: boxes }, (_, i) => {
    const j = i - (boxes - digits.length);
    if (j >= 0) return digits[j] as BoxClass;
    return fill === 'X' ? 'X' : fill === '0' ? '0' : 'blank';
  });
}

function frameContains(W: number, H: number, p: Point): boolean {
  return p[0] >= 0 && p[1] >= 0 && p[0] < W && p[1] < H;
}

function mulMm(h: number[][], s: number): number[][] {
  return h.map((row) => [row[0]! * s, row[1]! * s, row[2]!]);
}

/**
 * One synthetic photo. The values of a TPS slot depend only on (seed, slot), so the two pages of one
 * TPS agree; every other random choice has its own stream keyed by the photo index, so changing one
 * effect never reshuffles the rest.
 */
export async function synthesizePhoto(
  index: number,
  contest: SynthContest,
  tpsChoices: readonly SynthTps[],
  opts: SynthOptions,
  lib?: GlyphLibrary,
): Promise<{ jpeg: Buffer; truth: GroundTruth }> {
  if (tpsChoices.length === 0) throw new RangeError('no TPS to synthesise');
  const seed = String(opts.seed);
  const plan = synthPlan(index, opts.page);
  const tps = new Rng(`${seed}:pick:${plan.slot}`).pick(tpsChoices);
  const tpsValues = generateTpsValues(new Rng(`${seed}:values:${plan.slot}`), contest.candidateCount, tps);
  const template: FormTemplate = templateFor(plan.page, plan.page === 'perolehan' ? contest.candidateCount : undefined);

  const values = pageValues(template, tpsValues);
  const mistakeRng = new Rng(`${seed}:mistake:${index}`);
  const mistakes: PlantedMistake[] = [];
  if (mistakeRng.chance(opts.mistakes)) {
    const m = plantMistake(mistakeRng, template, values);
    if (m) mistakes.push(m);
  }
  const violatedIdentities = checkIdentities(template.identities, values).filter((c) => !c.ok).map((c) => c.id);

  const glyphs = lib ?? (await loadGlyphLibrary());
  const photoRng = new Rng(opts.photoVariant ? `${seed}:photo:${index}:v${opts.photoVariant}` : `${seed}:photo:${index}`);
  const unreadable = photoRng.chance(opts.unreadable);
  const photoPlan = planPhoto(photoRng, template.sizeMm, { unreadable });
  const header: FormHeader = { ...tps.header, ...contest.header };
  const { canvas, pxPerMm } = renderFormCanvas(template, header, { dpi: photoPlan.renderPxPerMm * 25.4 });

  // Handwriting, drawn in template millimetres (renderFormCanvas left the mm transform in place).
  const hand = new Rng(`${seed}:hand:${index}`);
  const pen = randomPen(hand, glyphs.real.size > 0);
  const leadingFill = hand.weighted<LeadingFill>({ X: 0.8, '0': 0.15, blank: 0.05 });
  const ctx = canvas.getContext('2d');
  const boxes: Record<string, BoxTruth[]> = {};
  for (const f of template.fields) {
    // Even an X-writer now and then pads a number with zeros.
    const fill: LeadingFill = leadingFill === 'X' && hand.chance(0.04) ? '0' : leadingFill;
    const classes = boxClasses(values[f.key]!, f.boxes.length, fill);
    boxes[f.key] = classes.map((cls, i) => ({ class: cls, source: writeBox(ctx, glyphs, cls, f.boxes[i]!, hand, pen) }));
  }

  const { jpeg, degradation, homography } = photograph(canvas, photoPlan, photoRng);
  const mmToPhoto = mulMm(homography, pxPerMm);
  const fiducialCentres = template.fiducials.corners.map((c) => applyHomography(mmToPhoto, [c.x + c.w / 2, c.y + c.h / 2]));
  const { width: W, height: H } = degradation.photo;
  // Readability follows from geometry, not from the plan: every fiducial and box corner must be in frame.
  const corners: Point[] = [
    ...template.fiducials.corners.flatMap((c) => [[c.x, c.y], [c.x + c.w, c.y + c.h]] as Point[]),
    ...template.fields.flatMap((f) => f.boxes.flatMap((b) => [[b.x, b.y], [b.x + b.w, b.y + b.h]] as Point[])),
  ];
  const inFrame = corners.every((p) => frameContains(W, H, applyHomography(mmToPhoto, p)));
  let unreadableReason: string | null = null;
  if (!inFrame) unreadableReason = 'partial_crop';
  else if (degradation.unreadable === 'heavy_blur') unreadableReason = 'heavy_blur';

  const tsRng = new Rng(`${seed}:ts:${index}`);
  const minutes = 13 * 60 + tsRng.int(0, 8 * 60);
  const ts = `2024-11-27T${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:${String(tsRng.int(0, 59)).padStart(2, '0')}+07:00`;
  const file = `${String(index).padStart(5, '0')}-${tps.code}-${plan.page}.jpg`;
  const { rgb: _rgb, ...penTruth } = pen;
  const truth: GroundTruth = {
    schema: SYNTH_SCHEMA,
    file,
    seed,
    index,
    kode_tps: tps.code,
    jenis: contest.jenis,
    contest: contest.id,
    paslon_ids: contest.paslonIds,
    ts,
    psu: 'Reguler',
    page: plan.page,
    templateId: template.id,
    templateVersion: template.version,
    markId: template.markId,
    candidateCount: contest.candidateCount,
    values,
    mistakes,
    violatedIdentities,
    boxes,
    leadingFill,
    handwriting: glyphs.part,
    pen: penTruth,
    degradation,
    mmToPhoto,
    fiducialCentres,
    readable: unreadableReason === null,
    unreadableReason,
  };
  return { jpeg, truth };
}
