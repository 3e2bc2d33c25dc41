/**
 * readPhoto: one photo of one C.Hasil page, end to end — decode, find the page, read its mark, align,
 * cut every box, classify all boxes in one batch, decode the fields under the page's arithmetic.
 * Always returns a PageReading: a photo that cannot be read comes back REJECTED with a reason and a
 * detail a person can act on ("page_cropped: 3 field(s) lie outside the photo: …"), never a guess.
 *
 * Loads OpenCV into the calling process: call it from a reader process (workers/reader/process) or
 * a CLI, never from the API server or from two worker_threads (DEPENDENCIES.md).
 */
import { loadCv } from './cv/opencv.js';
import { decodeGray, uprightSize } from './cv/decode.js';
import { analysePage, PX_PER_MM, type PageAnalysis } from './cv/page.js';
import { ReadReject } from './cv/reject.js';
import { loadTemplates } from './template/index.js';
import type { FormTemplate } from './template/types.js';
import { classifyBoxes } from './digits/model.js';
import { loadDigitModel } from './digits/model.js';
import { decodePage } from './decoder/decode.js';
import { processCpuMs as cpuNow } from './cpu-time.js';
import { averageViews, needsSecondLook, SECOND_LOOK_INSETS } from './digits/second-look.js';
import type { FieldReading, PageKind, PageReading } from './types.js';

/**
 * The page reader's version, part of every reading's readerVersion: readings are stored once per
 * (submission, reader version), so a re-read by a reader that finds or cuts boxes differently is kept
 * beside the old reading only if this changes. Bump it with any change to what cv/ reads.
 * cv2: sessions 8–9 (the page under fingers, the outline fallback, the printed layout when the mark is hidden).
 * cv3: session 10 (field offsets from their neighbours' plane, boxes nudged and tilted: a bowed sheet).
 * cv4: session 11 (a JPEG over 26 MP is read at a DCT scale instead of refused; a blank box's outline flanks are whitened).
 * cv5: session 11 (a field the comb finds clearly within 2 mm of its neighbours' plane keeps its own offset).
 */
export const CV_VERSION = 'cv5';
/**
 * The decoder's classes and thresholds, also part of readerVersion: a page the old thresholds published
 * may go to review under new ones. decoder2: session 10 (two or more changed boxes need post ≥ 0.99).
 */
export const DECODER_VERSION = 'decoder2';

export interface ReadOptions {
  /** Candidate pairs in the contest; a perolehan page printed for another count is refused. */
  contestCandidateCount?: number;
  /** The page the uploader said this is; a different page mark is refused as wrong_page. */
  expectedPage?: PageKind;
  /** Recorded in the reading (the CLI passes the path). */
  file?: string;
}

export function readerVersion(): string {
  let digits = 'none';
  try {
    digits = loadDigitModel().meta.sha256.slice(0, 12);
  } catch {
    // The version string must never be why a read fails.
  }
  return `${CV_VERSION}+digits-${digits}+${DECODER_VERSION}`;
}

export function rejected(reason: string, detail: string, timingsMs: Record<string, number>, extra: Partial<PageReading> = {}): PageReading {
  return {
    page: null,
    templateId: null,
    markId: null,
    alignmentScore: null,
    ...extra,
    class: 'REJECTED',
    rejectReason: reason,
    rejectDetail: detail,
    fields: {},
    changes: [],
    residuals: {},
    post: 0,
    pConsistent: 0,
    timingsMs,
    readerVersion: readerVersion(),
  };
}

const round = (v: number) => Math.round(v * 100) / 100;

export function readPhoto(bytes: Uint8Array, opts: ReadOptions = {}): PageReading {
  const timings: Record<string, number> = {};
  // CPU time per step beside wall time: on a shared machine wall time mostly measures the neighbours.
  const cpu: Record<string, number> = {};
  const started = performance.now();
  const cpuStarted = cpuNow();
  let mark = started;
  let cpuMark = cpuStarted;
  const lap = (name: string) => {
    const now = performance.now();
    const c = cpuNow();
    timings[name] = round(now - mark);
    cpu[name] = round(c - cpuMark);
    mark = now;
    cpuMark = c;
  };
  let image: PageReading['image'];
  const finish = (r: PageReading): PageReading => {
    if (image) r.image = image;
    r.timingsMs.total = round(performance.now() - started);
    cpu.total = round(cpuNow() - cpuStarted);
    Object.assign(r, { cpuMs: cpu });
    if (opts.file !== undefined) r.file = opts.file;
    return r;
  };
  let analysis: PageAnalysis | null = null;
  try {
    const cv = loadCv();
    if (performance.now() - mark > 1) lap('load');
    else {
      mark = performance.now();
      cpuMark = cpuNow();
    }
    const { gray, header, scaleDenominator } = decodeGray(cv, bytes);
    lap('decode');
    image = { ...uprightSize(header), scaleDenominator };
    try {
      analysis = analysePage(cv, gray, loadTemplates());
    } finally {
      // The boxes are copied out; free the 8–12 MB photo now, not at some later GC: a reused block
      // decodes the next photo without fresh page faults (~40% of the decode's CPU time).
      gray.release();
    }
    for (const step of ['find', 'mark', 'cut'] as const) {
      timings[step] = round(analysis.timingsMs[step]);
      cpu[step] = round(analysis.cpuMs[step]);
    }
    mark = performance.now();
    cpuMark = cpuNow();
    checkExpectations(analysis, opts);
    return finish(readCutPage(analysis, timings, lap));
  } catch (err) {
    if (err instanceof ReadReject) {
      lap('rejected');
      const c = err.context;
      const extra: Partial<PageReading> = analysis
        ? { page: analysis.template.page, templateId: analysis.template.id, markId: analysis.markId, identifiedBy: analysis.identifiedBy, alignmentScore: round3(analysis.alignmentScore) }
        : {
            page: c.page ?? null,
            templateId: c.templateId ?? null,
            markId: c.markId ?? null,
            alignmentScore: c.alignmentScore === undefined ? null : round3(c.alignmentScore),
          };
      return finish(rejected(err.reason, err.detail, timings, extra));
    }
    throw err;
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

function checkExpectations(a: PageAnalysis, opts: ReadOptions): void {
  const t = a.template;
  const by = a.identifiedBy === 'layout' ? 'told by its printed layout; the page mark was not read' : `mark ${t.markId}`;
  if (opts.expectedPage && t.page !== opts.expectedPage) {
    throw new ReadReject('wrong_page', `the photo shows the ${t.page} page (${by}), not the ${opts.expectedPage} page`);
  }
  if (t.page === 'perolehan' && opts.contestCandidateCount !== undefined && t.candidateCount !== opts.contestCandidateCount) {
    throw new ReadReject(
      'wrong_candidate_count',
      `the page is printed for ${t.candidateCount} candidate pair(s) (${by}) but the contest has ${opts.contestCandidateCount}`,
    );
  }
}

export { SECOND_LOOK_BELOW } from './digits/second-look.js';

/** Flat box index (field by field, box by box, as classifyBoxes sees them) ↔ field and box. */
function boxIndex(fields: PageAnalysis['fields']) {
  const start = new Map<string, number>();
  const at: { field: number; box: number }[] = [];
  fields.forEach((f, fi) => {
    start.set(f.key, at.length);
    f.boxes.forEach((_, box) => at.push({ field: fi, box }));
  });
  return { of: (key: string, box: number) => start.get(key)! + box, at: (k: number) => at[k]! };
}

/**
 * Every box's 12 probabilities, in field and box order, with the second look for unsure boxes;
 * `looked` holds the flat indices of the boxes that had it.
 */
export function classifyPage(fields: PageAnalysis['fields']): { probs: number[][]; looked: Set<number> } {
  const probs = classifyBoxes(fields.flatMap((f) => f.boxes));
  const unsure = probs.flatMap((p, k) => (needsSecondLook(p) ? [k] : []));
  secondLook(fields, probs, unsure);
  return { probs, looked: new Set(unsure) };
}

/** Re-cuts the given boxes (flat indices) and replaces their probabilities by the average of the three cuts. */
function secondLook(fields: PageAnalysis['fields'], probs: number[][], boxes: number[]): void {
  if (!boxes.length) return;
  const index = boxIndex(fields);
  const again = classifyBoxes(boxes.flatMap((k) => {
    const { field, box } = index.at(k);
    return SECOND_LOOK_INSETS.map((inset) => fields[field]!.recut(box, inset));
  }));
  const n = SECOND_LOOK_INSETS.length;
  boxes.forEach((k, i) => {
    probs[k] = averageViews([probs[k]!, ...again.slice(i * n, (i + 1) * n)]);
  });
}

function readCutPage(a: PageAnalysis, timings: Record<string, number>, lap: (n: string) => void): PageReading {
  const { probs, looked } = classifyPage(a.fields);
  lap('classify');
  const fieldsOf = () => {
    let i = 0;
    return a.fields.map((f) => ({ key: f.key, boxes: f.boxes.map(() => probs[i++]!) }));
  };
  let perField = fieldsOf();
  let result = decodePage(perField, a.template.identities);
  // The arithmetic points at boxes the reader was sure of and the decoder would change: they get
  // the second look too (if they have not had it), and the page is decoded again. The thresholds
  // are the same; a box that truly shows what the KPPS wrote reads the same from every cut.
  if (result.cls === 'NEEDS_REVIEW') {
    const index = boxIndex(a.fields);
    const suspects = result.changedBoxes.map((c) => index.of(c.key, c.box)).filter((k) => !looked.has(k));
    if (suspects.length) {
      secondLook(a.fields, probs, suspects);
      perField = fieldsOf();
      result = decodePage(perField, a.template.identities);
    }
  }
  lap('constraints');
  const fields: Record<string, FieldReading> = {};
  for (const [i, f] of a.fields.entries()) {
    fields[f.key] = {
      value: result.values[f.key] ?? null,
      p: round6(result.marginals[f.key] ?? 0),
      raw: result.argmax[f.key] ?? null,
      boxes: perField[i]!.boxes.map((b) => b.map(round6)),
      roi: f.roi,
    };
  }
  return {
    page: a.template.page,
    templateId: a.template.id,
    markId: a.markId,
    identifiedBy: a.identifiedBy,
    alignmentScore: round3(a.alignmentScore),
    class: result.cls,
    fields,
    changes: result.changedBoxes,
    residuals: result.residuals,
    post: round6(result.post),
    pConsistent: round6(result.pConsistent),
    timingsMs: timings,
    readerVersion: readerVersion(),
    // Where the page sat in the photo, and the frame the ROIs refer to: what a reviewer needs to
    // draw each number's boxes over the original photo.
    ...({ frame: { pxPerMm: PX_PER_MM, corners: a.corners.map((p) => [round(p.x), round(p.y)]) }, decoderReasons: result.reasons } as object),
  };
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
