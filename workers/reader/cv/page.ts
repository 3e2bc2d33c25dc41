/**
 * One photo's geometry, from decoded grey pixels to cut boxes: find the corner checkerboards, decide
 * which way up the page is by reading its page mark, fit the homography page-mm → photo, check that
 * every field lies inside the photo, locate each field locally, score the alignment and cut the boxes.
 * Everything that cannot be established is a ReadReject with a reason; nothing is guessed.
 */
import type { Cv, Mat } from './opencv.js';
import type { FormTemplate, TextSpec } from '../template/types.js';
import { COARSE_LONG_SIDE, SEEN_CHECKER, WORK_LONG_SIDE, findCheckerCandidates, rankQuads, refineCorners, seekChecker, weakestChecker, workFactor, type Pt } from './fiducials.js';
import { apply, homography, multiply, warpRegion, type H3 } from './geometry.js';
import { readPageMark } from './pagemark-read.js';
import { cutFields, type CutField } from './boxes.js';
import { ReadReject } from './reject.js';
import { findSheetOutlines, type Quad } from './page-outline.js';
import { decodeGray } from './decode.js';
import { processCpuMs as cpuNow } from '../cpu-time.js';

/** Resolution of the warped page frame (and of PageReading ROIs). A 9 mm box → 54 px. */
export const PX_PER_MM = 6;
/** Below this median per-field score the printed boxes are not where the template says: reject. */
export const MIN_ALIGNMENT = 0.5;

export interface PageAnalysis {
  template: FormTemplate;
  /** The page mark's id; null when the mark could not be read and the layout identified the page. */
  markId: number | null;
  markErrors: number;
  /**
   * How the page was told apart from the others: its page mark, or (the mark covered or unreadable)
   * its printed layout: (nearly) every field's boxes found where that template alone puts them, and for
   * templates with the same boxes, the text only one of them prints (identifyByLayout).
   */
  identifiedBy: 'page_mark' | 'layout';
  /** Fiducial centres in the photo (TL, TR, BR, BL of the page). */
  corners: Pt[];
  mmToImage: H3;
  alignmentScore: number;
  fields: CutField[];
  timingsMs: { find: number; mark: number; cut: number };
  /** CPU time of the same steps (process.cpuUsage). */
  cpuMs: { find: number; mark: number; cut: number };
}

interface Geometry {
  centresMm: Pt[];
  quadrantMm: number;
  widthMm: number;
  heightMm: number;
  /** The sheet's size: its outline is the fallback when the checkerboards are not seen. */
  sheetMm: { width: number; height: number };
  templates: FormTemplate[];
}

function geometries(templates: FormTemplate[]): Geometry[] {
  const groups = new Map<string, Geometry>();
  for (const t of templates) {
    const centresMm = t.fiducials.corners.map((c) => ({ x: c.x + c.w / 2, y: c.y + c.h / 2 }));
    const key = JSON.stringify([centresMm, t.fiducials.sizeMm, t.pageMark, t.sizeMm]);
    const g = groups.get(key);
    if (g) g.templates.push(t);
    else {
      groups.set(key, {
        centresMm,
        quadrantMm: t.fiducials.sizeMm / 2,
        widthMm: centresMm[1]!.x - centresMm[0]!.x,
        heightMm: centresMm[3]!.y - centresMm[0]!.y,
        sheetMm: t.sizeMm,
        templates: [t],
      });
    }
  }
  return [...groups.values()];
}

export function analysePage(cv: Cv, gray: Mat, templates: FormTemplate[]): PageAnalysis {
  const L = Math.max(gray.rows, gray.cols);
  const coarse = workFactor(L, COARSE_LONG_SIDE);
  const fine = workFactor(L, WORK_LONG_SIDE);
  const t0 = performance.now();
  const c0 = cpuNow();
  const first = orReject(() => analyseLevels(cv, gray, templates, coarse, fine, t0, c0));
  if (!(first instanceof ReadReject)) return first;
  // A page turned about 45° in the photo (the phone held askew): the checker response fades to 0 at
  // 45°, so the photo is turned back by an eighth and searched once more. Only photos that would
  // otherwise be refused pay for it.
  if (first.reason !== 'no_page_found' && first.reason !== 'page_mark_unreadable') throw first;
  const turned = turnEighth(cv, gray);
  try {
    const again = orReject(() => {
      // Without placeByWideMark/identifyByLayout: the upright search has tried the photo's placements for that already.
      const a = analyseLevels(cv, turned.img, templates, coarse, fine, t0, c0, false);
      const inPhoto = { ...a, corners: a.corners.map((p) => apply(turned.toPhoto, p)), mmToImage: multiply(turned.toPhoto, a.mmToImage) };
      // The turned canvas is larger than the photo: a field in its corners lies outside the photo.
      checkInside(a.template, inPhoto.mmToImage, gray.cols, gray.rows);
      return inPhoto;
    });
    if (!(again instanceof ReadReject)) return again;
    throw deeper(first, again);
  } finally {
    turned.img.release();
  }
}

/**
 * Coarse level first, then fine. Nearly every phone photo shows the page large enough to be found on
 * the coarse working image (4–9× cheaper); a page small in the frame, or one the coarse level cannot
 * place, is looked for again at the fine level before the photo is refused. The sheet's outline and
 * two-checker hypotheses (the last fallbacks) do not depend on the level: they run once, at the end.
 */
function analyseLevels(cv: Cv, gray: Mat, templates: FormTemplate[], coarse: number, fine: number, t0: number, c0: number, unmarkedToo = true): PageAnalysis {
  if (coarse === fine) return analyseAt(cv, gray, templates, WORK_LONG_SIDE, t0, c0, true, unmarkedToo);
  const atCoarse = orReject(() => analyseAt(cv, gray, templates, COARSE_LONG_SIDE, t0, c0, false, false));
  if (!(atCoarse instanceof ReadReject)) return atCoarse;
  const atFine = orReject(() => analyseAt(cv, gray, templates, WORK_LONG_SIDE, t0, c0, true, unmarkedToo));
  if (!(atFine instanceof ReadReject)) return atFine;
  throw deeper(atCoarse, atFine);
}

/** fn's analysis, or the ReadReject it threw (anything else is rethrown). */
function orReject(fn: () => PageAnalysis): PageAnalysis | ReadReject {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ReadReject) return err;
    throw err;
  }
}

/** Of two rejections, the one from the search that got further (placed the page > saw a mark it could not read > found no page). */
function deeper(a: ReadReject, b: ReadReject): ReadReject {
  return (REJECT_DEPTH[a.reason] ?? 0) > (REJECT_DEPTH[b.reason] ?? 0) ? a : b;
}

/** The photo turned by 45° about its centre into a canvas that holds all of it, and the map back to photo pixels. */
function turnEighth(cv: Cv, gray: Mat): { img: Mat; toPhoto: H3 } {
  const W = gray.cols;
  const H = gray.rows;
  const side = Math.ceil((W + H) / Math.SQRT2);
  const c = Math.SQRT1_2;
  // Photo → canvas: rotate by 45° about the photo's centre, then centre in the canvas.
  const toCanvas: H3 = [c, c, 0, -c, c, 0, 0, 0, 1];
  toCanvas[2] = side / 2 - (c * W) / 2 - (c * H) / 2;
  toCanvas[5] = side / 2 + (c * W) / 2 - (c * H) / 2;
  const m = new cv.Mat([toCanvas.slice(0, 3), toCanvas.slice(3, 6)], cv.CV_64F);
  const img = gray.warpAffine(m, new cv.Size(side, side), cv.INTER_LINEAR, cv.BORDER_REPLICATE);
  // Inverse of a rotation plus shift: rotate back by −45° after removing the shift.
  const [tx, ty] = [toCanvas[2]!, toCanvas[5]!];
  const toPhoto: H3 = [c, -c, -(c * tx - c * ty), c, c, -(c * tx + c * ty), 0, 0, 1];
  return { img, toPhoto };
}

/** How far the page search got before a rejection: a bigger number names the more useful reason. */
const REJECT_DEPTH: Record<string, number> = { no_page_found: 0, page_mark_unreadable: 1, misaligned: 2, page_cropped: 2 };

function analyseAt(cv: Cv, gray: Mat, templates: FormTemplate[], longSide: number, t0: number, c0: number, tryOutline: boolean, unmarkedToo: boolean): PageAnalysis {
  const groups = geometries(templates);
  const L = Math.max(gray.rows, gray.cols);
  const work = workFactor(L, longSide) * L; // working long side, as in findCheckerCandidates
  // Checker size range: the page's long side spans 25%..110% of the photo's long side.
  const qMin = Math.min(...groups.map((g) => (0.25 * work * g.quadrantMm) / Math.max(g.widthMm, g.heightMm)));
  const qMax = Math.max(...groups.map((g) => (1.1 * work * g.quadrantMm) / Math.min(g.widthMm, g.heightMm)));
  // The search's scoreAt reads integral images shared between calls: use it before the next search.
  const search = findCheckerCandidates(cv, gray, { minQuadrant: qMin, maxQuadrant: qMax, longSide });
  let tFind = performance.now();
  let cFind = cpuNow();
  if (search.candidates.length < 3 && !tryOutline) {
    throw new ReadReject('no_page_found', `found ${search.candidates.length} of the 4 corner checkerboards; is the whole page in the photo?`);
  }
  let tried = 0;
  let sawQuad = false;
  let setAside: ReadReject | undefined;
  let markFailure = '';
  // Placements whose page mark could not be read: the layout may still tell which page it is (below).
  const unmarked: Unmarked[] = [];
  const unmarkedOf = { quad: 0, triple: 0, sheet: 0 };
  const attempt = (g: Geometry, pts: Pt[], found: boolean[], kind: keyof typeof UNMARKED_PER_KIND): PageAnalysis | null => {
    tried++;
    const ids = g.templates.map((t) => t.markId);
    const h = homography(cv, g.centresMm, pts);
    const mark = readPageMark(cv, gray, h, g.templates[0]!.pageMark, ids);
    if (mark.id === null) {
      if (mark.contrast >= 0.25) markFailure = `a page mark was seen but not decoded (${mark.bits.join('')})`;
      if (unmarkedOf[kind]++ < UNMARKED_PER_KIND[kind]) unmarked.push({ g, pts, found, kind });
      return null;
    }
    const template = g.templates.find((t) => t.markId === mark.id)!;
    return place(g, pts, found, template, { markId: mark.id, markErrors: mark.errors });
  };
  /**
   * The page placed as `template`: corners refined, fields located and cut, the alignment scored. A
   * placement whose page is cut off or whose boxes do not line up is set aside (null), not final: a
   * false checker (the edge of a thumb across the paper's corner) can make a quad that reads the mark
   * and places everything else wrong, while another hypothesis places the page right. The first one
   * set aside is the answer if none fits.
   */
  const place = (g: Geometry, pts: Pt[], found: boolean[], template: FormTemplate, mark: { markId: number | null; markErrors: number }): PageAnalysis | null => {
    // Sub-pixel corners now that the page is known; the window is a third of a checker quadrant.
    const pxPerMmPhoto = Math.hypot(pts[1]!.x - pts[0]!.x, pts[1]!.y - pts[0]!.y) / g.widthMm;
    const refinedAll = refineCorners(cv, gray, pts, (g.quadrantMm * pxPerMmPhoto) / 3);
    const refined = refinedAll.map((p, i) => (found[i] ? p : pts[i]!));
    let mmToImage = homography(cv, g.centresMm, refined);
    if (!found.every(Boolean)) mmToImage = refitFromFields(cv, gray, mmToImage, template, g, refined, found);
    const tMark = performance.now();
    const cMark = cpuNow();
    const context = { page: template.page, templateId: template.id, ...(mark.markId === null ? {} : { markId: mark.markId }) };
    const cut = (h: H3) => {
      checkInside(template, h, gray.cols, gray.rows);
      const fields = cutFields(cv, gray, h, template, PX_PER_MM);
      const scores = fields.map((f) => f.score).sort((x, y) => x - y);
      return { fields, alignmentScore: scores[Math.floor(scores.length / 2)]! };
    };
    let fields: CutField[];
    let alignmentScore: number;
    try {
      ({ fields, alignmentScore } = cut(mmToImage));
      // A page placed from fewer than four checkerboards and still off (a similarity from two of them
      // ignores perspective): refit to the fields it does line up, which reach further each round.
      for (let round = 1; round < MAX_REFITS && alignmentScore < MIN_ALIGNMENT && alignmentScore >= REFIT_FROM_ALIGNMENT && !found.every(Boolean); round++) {
        const h = refitFromFields(cv, gray, mmToImage, template, g, refined, found);
        if (h === mmToImage) break;
        const again = cut(h);
        if (again.alignmentScore <= alignmentScore) break;
        ({ fields, alignmentScore } = again);
        mmToImage = h;
      }
    } catch (err) {
      if (!(err instanceof ReadReject)) throw err;
      setAside ??= new ReadReject(err.reason, err.detail, context);
      return null;
    }
    const tCut = performance.now();
    const cCut = cpuNow();
    if (alignmentScore < MIN_ALIGNMENT) {
      const unseen = found.filter((f) => !f).length;
      setAside ??= new ReadReject(
        'misaligned',
        `the printed boxes do not line up with template ${template.id} (alignment ${alignmentScore.toFixed(2)} < ${MIN_ALIGNMENT}); ` +
          `${fields.filter((f) => !f.located).length} of ${fields.length} fields not located` +
          (unseen ? `; ${unseen} corner checkerboard(s) not seen` : ''),
        { ...context, alignmentScore },
      );
      return null;
    }
    return {
      template,
      markId: mark.markId,
      markErrors: mark.markErrors,
      identifiedBy: mark.markId === null ? 'layout' : 'page_mark',
      // An unseen checker is where the fitted page puts it (its first estimate can be mm off).
      corners: refined.map((p, i) => (found[i] ? p : apply(mmToImage, g.centresMm[i]!))),
      mmToImage,
      alignmentScore,
      fields,
      timingsMs: { find: tFind - t0, mark: tMark - tFind, cut: tCut - tMark },
      cpuMs: { find: cFind - c0, mark: cMark - cFind, cut: cCut - cMark },
    };
  };
  const full = (p: Pt) => ({ x: p.x / search.factor, y: p.y / search.factor });
  for (const g of groups) {
    const quads = rankQuads(search, g, 6);
    if (quads.length) sawQuad = true;
    for (const q of quads) {
      const coarse = q.points.map(full);
      // The checkers look alike after a half turn (and alike-but-negated after a quarter turn), so
      // each cyclic labelling is a hypothesis; only the right one shows the page mark where expected.
      const shifts = q.points[0].score > 0 ? [0, 2, 1, 3] : [1, 3, 0, 2];
      for (const shift of shifts) {
        const hit = attempt(g, [0, 1, 2, 3].map((k) => coarse[(k + shift) % 4]!), [true, true, true, true], 'quad');
        if (hit) return hit;
      }
    }
  }
  // Fallback: a corner covered by a thumb, lost in glare or just outside the frame. Three
  // checkerboards fix an affine map; the fourth is looked for where it predicts, else predicted.
  for (const g of groups) {
    for (const t of rankTriples(search, g, 4)) {
      const hit = attempt(g, t.points.map(full), t.found, 'triple');
      if (hit) return hit;
    }
  }
  // Last: the sheet's outline, for a photo in which two or more checkerboards are hidden or lost;
  // then two checkerboards alone (a similarity: right when the photo is taken square to the page).
  let sawSheet = false;
  if (tryOutline) {
    const outlines = findSheetOutlines(cv, gray);
    for (const g of groups) {
      const hypotheses = [...outlineHypotheses(cv, outlines, search, g), ...rankPairs(search, g, 6).map((t) => ({ points: t.points.map(full), found: t.found }))];
      for (const o of hypotheses) {
        sawSheet = true;
        // The search time now includes the outline's (it only runs when the checkers failed).
        tFind = performance.now();
        cFind = cpuNow();
        const hit = attempt(g, o.points, o.found, 'sheet');
        if (hit) return hit;
      }
    }
  }
  // The page mark was not read on any placement: a placement a few mm off where the mark is, a thumb
  // over it, glare. The fields may place it better, or the printed layout say which page this is
  // (placeByWideMark, identifyByLayout); only at the last level, as the other fallbacks.
  let layoutFailure = '';
  if (unmarkedToo && unmarked.length) {
    const byMark = placeByWideMark(cv, gray, unmarked, place);
    if (byMark) return byMark;
    // A template tried by its layout and not fitting is not a misaligned page: what was set aside
    // stays. (A mark read by the wider search on a page that stays misaligned is: the officer is
    // told to photograph the boxes again, not the page code.)
    const before = setAside;
    const byLayout = identifyByLayout(cv, gray, unmarked, place);
    setAside = before;
    if (byLayout.analysis) return byLayout.analysis;
    layoutFailure = byLayout.why;
  }
  if (setAside) throw setAside;
  if (layoutFailure) markFailure = `${markFailure || 'the page mark was not read'}; ${layoutFailure}`;
  if (sawSheet && !sawQuad) {
    throw new ReadReject('page_mark_unreadable', markFailure || `the sheet's outline was found but not its page mark (${tried} page hypotheses tried); is the photo sharp and the page mark uncovered?`);
  }
  // Without four checkerboards a page-mark failure is more likely a wrong guess than a bad mark.
  if (!sawQuad) {
    throw new ReadReject('no_page_found', `fewer than four corner checkerboards form a page (${search.candidates.length} candidates) and no sheet outline was found; is the whole page in the photo?`);
  }
  throw new ReadReject('page_mark_unreadable', markFailure || `no page mark found at the expected place (${tried} page hypotheses tried)`);
}

/**
 * At most this many placements without a readable mark are kept for placeByWideMark and identifyByLayout, the best ranked
 * of each kind: with fingers on the sheet the quads are mostly false checkers at a thumb's edge, and
 * the right placement is often a triple or the sheet's outline, which come later.
 */
const UNMARKED_PER_KIND = { quad: 8, triple: 4, sheet: 8 };
/** A placement whose mark was not read, and how it was found. */
interface Unmarked {
  g: Geometry;
  pts: Pt[];
  found: boolean[];
  kind: keyof typeof UNMARKED_PER_KIND;
}
/**
 * Of those, the best ranked of each kind tried by layout: each costs every template's placement and
 * cuts, and only refused photos pay for it.
 */
const LAYOUT_PER_KIND = 2;
/**
 * Share of a template's fields that must be located for its layout to fit. Fingers hold a sheet by its
 * edges and may hide a few of the 34 fields of the administrasi page (three at most); a perolehan page
 * (5–9 fields) must show every one, and another count's page leaves two or more of a template's rows
 * where it has no boxes.
 */
const LAYOUT_MIN_LOCATED = 0.9;
/** How far (page-mark cells) the mark is looked for around where a rough placement puts it. */
const WIDE_MARK_SEARCH_CELLS = 3;
/** Fits of a page placed from fewer than four checkerboards, the first included (see place). */
const MAX_REFITS = 3;
/** ... and the alignment from which it is worth another fit: some fields line up (junk placements score 0.2–0.35). */
const REFIT_FROM_ALIGNMENT = 0.35;

/**
 * Placements whose page mark could not be read, tried once more (placeByWideMark, then identifyByLayout).
 *
 * 1. A placement from fewer than four checkerboards (a triple, the sheet's outline, a pair) can be
 *    several mm off at the far corners (a similarity ignores perspective; an outline side runs along a
 *    shadow), and the page mark sits near a corner: the mark is looked for further around (±3 cells,
 *    its sides fitted one by one). A mark read there identifies the page as usual, and place() pulls
 *    the placement in with the fields.
 * 2. A mark still unread (a thumb over it, glare): the printed layout. A template FITS only when
 *    (nearly) every one of its fields' box outlines is found by its own comb search, at an offset that
 *    agrees with its neighbours (cutFields' `located`). A turned or mislabelled placement, or another
 *    candidate count's page (whose totals rows sit elsewhere), leaves fields unlocated. Exactly one
 *    template may fit, or, for templates with the same box geometry (the 1-candidate page, with its
 *    kolom kosong row, and the 2-candidate page), their printed text must tell them apart (tellByPrint);
 *    the upload's own claim (its contest) is what the mark is there to check, so it never stands in for
 *    it. The pipeline compares the page found with the upload afterwards, as for a mark.
 */
type Place = (g: Geometry, pts: Pt[], found: boolean[], t: FormTemplate, mark: { markId: number | null; markErrors: number }) => PageAnalysis | null;

/** Step 1 above: the mark looked for further around each partial placement. */
function placeByWideMark(cv: Cv, gray: Mat, unmarked: Unmarked[], place: Place): PageAnalysis | null {
  for (const { g, pts, found } of unmarked) {
    if (found.every(Boolean)) continue;
    const ids = g.templates.map((t) => t.markId);
    const mark = readPageMark(cv, gray, homography(cv, g.centresMm, pts), g.templates[0]!.pageMark, ids, WIDE_MARK_SEARCH_CELLS);
    if (mark.id === null) continue;
    const a = place(g, pts, found, g.templates.find((t) => t.markId === mark.id)!, { markId: mark.id, markErrors: mark.errors });
    if (a) return a;
  }
  return null;
}

/** Step 2 above: the printed layout, when no mark was read. */
function identifyByLayout(cv: Cv, gray: Mat, unmarked: Unmarked[], place: Place): { analysis?: PageAnalysis; why: string } {
  const fits = new Map<string, PageAnalysis>();
  const byKind = { quad: 0, triple: 0, sheet: 0 };
  for (const { g, pts, found, kind } of unmarked) {
    if (byKind[kind]++ >= LAYOUT_PER_KIND) continue;
    const h = homography(cv, g.centresMm, pts);
    for (const t of g.templates) {
      if (fits.has(t.id) || !inside(t, h, gray.cols, gray.rows)) continue;
      const a = place(g, pts, found, t, { markId: null, markErrors: 0 });
      if (a && a.fields.filter((f) => f.located).length >= LAYOUT_MIN_LOCATED * a.fields.length) fits.set(t.id, a);
    }
  }
  if (fits.size === 1) return { analysis: [...fits.values()][0]!, why: '' };
  if (fits.size === 0) return { why: 'no template fits the printed layout' };
  const told = tellByPrint(cv, gray, [...fits.values()]);
  if (told) return { analysis: told, why: '' };
  return { why: `the printed layout fits ${[...fits.keys()].join(' and ')} alike and their printed text does not tell them apart: the page mark must be readable` };
}

/**
 * Templates whose boxes sit in the same places (the 1-candidate page, whose second row is the kolom
 * kosong, and the 2-candidate page) differ in what is printed: the 2-candidate page prints the row number
 * "2", the kolom kosong row none. Each template's own printed text (what none of the others prints at
 * that place) must show as print (dark strokes with paper between) and the others' as bare paper;
 * exactly one template may pass. A thumb or a smudge over the place is neither, and the page is refused.
 */
function tellByPrint(cv: Cv, gray: Mat, fits: PageAnalysis[]): PageAnalysis | null {
  // A place where another template prints anything (other wording of the same line) is print either way.
  const at = (x: TextSpec) => `${x.x},${x.y}`;
  const own = fits.map((a) => a.template.text.filter((x) => !fits.some((b) => b !== a && b.template.text.some((y) => at(y) === at(x)))));
  if (own.every((o) => o.length === 0)) return null;
  const passing = fits.filter((a, i) => {
    const paper = pagePaperLevel(cv, gray, a.mmToImage, a.template);
    return own.every((texts, j) => texts.every((x) => printedAt(cv, gray, a.mmToImage, x, paper) === (j === i ? 'print' : 'paper')));
  });
  return passing.length === 1 ? passing[0]! : null;
}

/**
 * The sheet's paper level: the median over a grid of 1-cm cells of each cell's 90th percentile (a cell
 * of print still has paper between the strokes; a thumb or a shadow covers a few cells, not the median).
 */
function pagePaperLevel(cv: Cv, gray: Mat, h: H3, t: FormTemplate): number {
  const patch = warpRegion(cv, gray, h, 1, 0, 0, Math.round(t.sizeMm.width), Math.round(t.sizeMm.height));
  const px: Uint8Array = patch.getData();
  const W = patch.cols;
  const H = patch.rows;
  patch.release();
  const levels: number[] = [];
  const hist = new Uint32Array(256);
  for (let y0 = 0; y0 + 10 <= H; y0 += 10) {
    for (let x0 = 0; x0 + 10 <= W; x0 += 10) {
      hist.fill(0);
      for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) hist[px[y * W + x]!]!++;
      levels.push(byteQuantile(hist, 100, 0.9));
    }
  }
  levels.sort((a, b) => a - b);
  return levels[Math.floor(levels.length / 2)] ?? 0;
}

/** The k-th smallest of n bytes counted in `hist`, k = ⌊q·(n − 1)⌋ (what sorting and indexing would give). */
function byteQuantile(hist: Uint32Array, n: number, q: number): number {
  let k = Math.floor(q * (n - 1));
  for (let v = 0; v < 256; v++) {
    k -= hist[v]!;
    if (k < 0) return v;
  }
  return 255;
}

/**
 * What a text element's place shows: 'print', bare 'paper' (as bright as the sheet's paper, `pagePaper`),
 * or neither ('unsure': a thumb, a shadow, a smudge).
 */
function printedAt(cv: Cv, gray: Mat, h: H3, t: TextSpec, pagePaper: number): 'print' | 'paper' | 'unsure' {
  // The glyphs' box (alphabetic baseline at y; cap height ~0.75 of the size; width from the length) and
  // a margin of paper around it for the paper's own level.
  const w = Math.max(t.sizeMm, 0.65 * t.sizeMm * t.text.length);
  const x0 = t.align === 'center' ? t.x - w / 2 : t.align === 'right' ? t.x - w : t.x;
  const box = { x: x0 - 0.5, y: t.y - 0.8 * t.sizeMm, w: w + 1, h: 0.8 * t.sizeMm + 0.5 };
  const P = PX_PER_MM;
  const m = 2; // mm of paper around
  const patch = warpRegion(cv, gray, h, P, Math.round((box.x - m) * P), Math.round((box.y - m) * P), Math.round((box.w + 2 * m) * P), Math.round((box.h + 2 * m) * P));
  const px: Uint8Array = patch.getData();
  const W = patch.cols;
  const H = patch.rows;
  patch.release();
  const hist = new Uint32Array(256);
  for (const v of px) hist[v]!++;
  const paper = byteQuantile(hist, px.length, 0.9);
  // Darker than the sheet's own paper: something lies over the place (a thumb), or a shadow.
  if (paper < 60 || paper < 0.85 * pagePaper) return 'unsure';
  let dark = 0;
  let bright = 0;
  let n = 0;
  for (let y = Math.round(m * P); y < H - Math.round(m * P); y++) {
    for (let x = Math.round(m * P); x < W - Math.round(m * P); x++) {
      const v = px[y * W + x]!;
      n++;
      if (v < 0.55 * paper) dark++;
      else if (v > 0.85 * paper) bright++;
    }
  }
  const darkShare = dark / n;
  const brightShare = bright / n;
  if (darkShare <= 0.01 && brightShare >= 0.9) return 'paper';
  if (darkShare >= 0.08 && brightShare >= 0.35) return 'print';
  return 'unsure';
}

/** checkInside as a yes or no: a placement that puts the template's fields outside the photo costs no cuts. */
function inside(t: FormTemplate, h: H3, width: number, height: number): boolean {
  try {
    checkInside(t, h, width, height);
    return true;
  } catch (err) {
    if (err instanceof ReadReject) return false;
    throw err;
  }
}

/**
 * With a corner predicted rather than seen, perspective can put far fields several mm off. Locate
 * every field with a wide search, then fit the homography to the seen checkerboards plus the
 * located fields (RANSAC: a field mislocated by a whole box pitch is an outlier, not a pull).
 */
function refitFromFields(cv: Cv, gray: Mat, h: H3, template: FormTemplate, g: Geometry, corners: Pt[], found: boolean[]): H3 {
  const wide = cutFields(cv, gray, h, template, PX_PER_MM, { searchMm: 5, keepOwnOffsets: true });
  const src: Pt[] = [];
  const dst: Pt[] = [];
  corners.forEach((p, i) => {
    if (found[i]) {
      src.push(g.centresMm[i]!);
      dst.push(p);
    }
  });
  for (const f of wide) {
    if (f.score < 0.6) continue;
    const spec = template.fields.find((x) => x.key === f.key)!;
    const b0 = spec.boxes[0]!;
    const b1 = spec.boxes[spec.boxes.length - 1]!;
    for (const c of [
      { x: b0.x, y: b0.y },
      { x: b1.x + b1.w, y: b1.y + b1.h },
    ]) {
      src.push(c);
      dst.push(apply(h, { x: c.x + f.dx / PX_PER_MM, y: c.y + f.dy / PX_PER_MM }));
    }
  }
  if (src.length < 8) return h;
  const m = cv.findHomography(
    src.map((p) => new cv.Point2(p.x, p.y)),
    dst.map((p) => new cv.Point2(p.x, p.y)),
    cv.RANSAC,
    3,
  );
  const out = m.homography.getDataAsArray().flat();
  return out.length === 9 && out.every(Number.isFinite) ? out : h;
}

/**
 * Page hypotheses from the sheet's outline (page-outline.ts), in photo pixels: each of the outline's
 * four corners may be the sheet's top-left (the page mark decides). The outline puts each checker;
 * one seen within 4 mm of there is used (found), the others stay where the outline puts them, and
 * attempt() fits the page to the found ones and the located fields.
 */
function outlineHypotheses(cv: Cv, outlines: Quad[], search: ReturnType<typeof findCheckerCandidates>, g: Geometry): { points: Pt[]; found: boolean[] }[] {
  const { width: W, height: H } = g.sheetMm;
  const sheet: Pt[] = [
    { x: 0, y: 0 },
    { x: W, y: 0 },
    { x: W, y: H },
    { x: 0, y: H },
  ];
  const f = search.factor;
  const out: { points: Pt[]; found: boolean[] }[] = [];
  for (const quad of outlines) {
    for (let shift = 0; shift < 4; shift++) {
      const corners = [0, 1, 2, 3].map((k) => quad[(k + shift) % 4]!);
      const side = (i: number) => Math.hypot(corners[(i + 1) % 4]!.x - corners[i]!.x, corners[(i + 1) % 4]!.y - corners[i]!.y);
      const wPx = (side(0) + side(2)) / 2;
      const hPx = (side(1) + side(3)) / 2;
      // Width along the sheet's width: a quarter turn of the labels is a different hypothesis.
      if (Math.abs(Math.log(wPx / hPx / (W / H))) > Math.log(1.45)) continue;
      const sheetToImage = homography(cv, sheet, corners);
      const pxPerMm = Math.sqrt((wPx * hPx) / (W * H)) * f; // working px per mm
      const sc = Math.max(2, g.quadrantMm * pxPerMm * 0.75);
      const radius = Math.max(3, Math.round(4 * pxPerMm));
      const points: Pt[] = [];
      const found: boolean[] = [];
      for (const c of g.centresMm) {
        const p = apply(sheetToImage, c);
        const best = seekChecker(search, { x: Math.round(p.x * f), y: Math.round(p.y * f) }, radius, sc, 0);
        const seen = best.score >= SEEN_CHECKER;
        points.push(seen ? { x: best.x / f, y: best.y / f } : p);
        found.push(seen);
      }
      out.push({ points, found });
    }
  }
  return out;
}

/** Affine map from three point pairs (solves the 3 × 3 system directly). */
function affine3(src: Pt[], dst: Pt[]): ((p: Pt) => Pt) | null {
  const [a, b, c] = src as [Pt, Pt, Pt];
  const det = a.x * (b.y - c.y) - a.y * (b.x - c.x) + (b.x * c.y - c.x * b.y);
  if (Math.abs(det) < 1e-9) return null;
  const solve = (ra: number, rb: number, rc: number) => {
    const m0 = (ra * (b.y - c.y) - a.y * (rb - rc) + (rb * c.y - rc * b.y)) / det;
    const m1 = (a.x * (rb - rc) - ra * (b.x - c.x) + (b.x * rc - c.x * rb)) / det;
    const m2 = (a.x * (b.y * rc - c.y * rb) - a.y * (b.x * rc - c.x * rb) + ra * (b.x * c.y - c.x * b.y)) / det;
    return [m0, m1, m2] as const;
  };
  const X = solve(dst[0]!.x, dst[1]!.x, dst[2]!.x);
  const Y = solve(dst[0]!.y, dst[1]!.y, dst[2]!.y);
  return (p) => ({ x: X[0] * p.x + X[1] * p.y + X[2], y: Y[0] * p.x + Y[1] * p.y + Y[2] });
}

/**
 * Page hypotheses from three checkerboards (working-image coordinates, TL TR BR BL order), best
 * first; `found` says which of the four were seen (the missing one is predicted, or found near its
 * prediction with a lower bar).
 */
function rankTriples(search: ReturnType<typeof findCheckerCandidates>, g: Geometry, limit: number): { points: Pt[]; found: boolean[]; rank: number }[] {
  const top = search.candidates.slice(0, 12);
  const out: { points: Pt[]; found: boolean[]; rank: number }[] = [];
  const cross = (p: Pt, q: Pt, r: Pt) => (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
  for (let i = 0; i < top.length; i++)
    for (let j = 0; j < top.length; j++)
      for (let k = 0; k < top.length; k++) {
        if (i === j || j === k || i === k) continue;
        const tri = [top[i]!, top[j]!, top[k]!];
        if (tri.some((p) => Math.sign(p.score) !== Math.sign(tri[0]!.score))) continue;
        for (let missing = 0; missing < 4; missing++) {
          const idx = [0, 1, 2, 3].filter((c) => c !== missing);
          const mm = idx.map((c) => g.centresMm[c]!);
          // Same turning direction as the template (a photo is never mirrored).
          if (Math.sign(cross(tri[0]!, tri[1]!, tri[2]!)) !== Math.sign(cross(mm[0]!, mm[1]!, mm[2]!))) continue;
          const map = affine3(mm, tri);
          if (!map) continue;
          // Scale along the two page axes must agree with a plausible view (aspect within 45%).
          const o = map({ x: 0, y: 0 });
          const ux = map({ x: 1, y: 0 });
          const uy = map({ x: 0, y: 1 });
          const sx = Math.hypot(ux.x - o.x, ux.y - o.y);
          const sy = Math.hypot(uy.x - o.x, uy.y - o.y);
          if (Math.abs(Math.log(sx / sy)) > Math.log(1.45)) continue;
          const cos = ((ux.x - o.x) * (uy.x - o.x) + (ux.y - o.y) * (uy.y - o.y)) / (sx * sy);
          if (Math.abs(cos) > 0.6) continue;
          const quadrant = g.quadrantMm * Math.sqrt(sx * sy);
          const sc = Math.max(2, quadrant * 0.75);
          const minScore = weakestChecker(search, tri, sc);
          if (minScore < 0.6) continue;
          const predicted = map(g.centresMm[missing]!);
          // Look for the fourth around its prediction (perspective moves it a few % of the page).
          const radius = Math.max(4, 0.06 * Math.sqrt(sx * sy) * Math.max(g.widthMm, g.heightMm));
          const best = seekChecker(search, predicted, radius, sc, Math.sign(tri[0]!.score), 2);
          const found = best.score >= SEEN_CHECKER;
          const fourth = found ? { x: best.x, y: best.y } : predicted;
          const points: Pt[] = [];
          const seen: boolean[] = [];
          let t = 0;
          for (let c = 0; c < 4; c++) {
            points.push(c === missing ? fourth : tri[t++]!);
            seen.push(c === missing ? found : true);
          }
          out.push({ points, found: seen, rank: minScore + (found ? 0.5 : 0) + 0.1 * Math.log(sx * sy) });
        }
      }
  out.sort((a, b) => b.rank - a.rank);
  return out.slice(0, limit);
}

/**
 * Page hypotheses from two checkerboards (working-image coordinates, TL TR BR BL order), best first:
 * each pair of same-polarity candidates, as each pair of corners, fixes a similarity (scale,
 * rotation, shift); the checker size it implies must score at both, the page must be of a plausible
 * size, and the polarity must match the turn (upright and half-turned checkers score +, quarter-turned
 * −). The other two corners are looked for near where it puts them, else predicted.
 */
function rankPairs(search: ReturnType<typeof findCheckerCandidates>, g: Geometry, limit: number): { points: Pt[]; found: boolean[]; rank: number }[] {
  const top = search.candidates.filter((c) => Math.abs(c.score) >= 0.7).slice(0, 10);
  const out: { points: Pt[]; found: boolean[]; rank: number }[] = [];
  const pageMm = Math.hypot(g.widthMm, g.heightMm);
  // The extent of the candidates (working px): the page's diagonal must be of that order.
  const L = Math.max(...search.candidates.map((c) => Math.max(c.x, c.y)), 1);
  for (let i = 0; i < top.length; i++) {
    for (let j = 0; j < top.length; j++) {
      if (i === j || Math.sign(top[i]!.score) !== Math.sign(top[j]!.score)) continue;
      const p = top[i]!;
      const q = top[j]!;
      for (let ci = 0; ci < 4; ci++) {
        for (let cj = ci + 1; cj < 4; cj++) {
          const m = g.centresMm[ci]!;
          const n = g.centresMm[cj]!;
          // z = a·w + b in complex numbers: w page mm, z working px.
          const wx = n.x - m.x;
          const wy = n.y - m.y;
          const zx = q.x - p.x;
          const zy = q.y - p.y;
          const den = wx * wx + wy * wy;
          const ar = (zx * wx + zy * wy) / den;
          const ai = (zy * wx - zx * wy) / den;
          const scale = Math.hypot(ar, ai); // working px per mm
          const turn = Math.atan2(ai, ar);
          const quarter = Math.abs(Math.sin(turn)) > Math.SQRT1_2;
          if ((p.score > 0) === quarter) continue;
          const map = (w: Pt): Pt => ({ x: p.x + ar * (w.x - m.x) - ai * (w.y - m.y), y: p.y + ai * (w.x - m.x) + ar * (w.y - m.y) });
          const diagonal = scale * pageMm;
          if (diagonal < 0.25 * L || diagonal > 2 * L) continue;
          const sc = Math.max(2, g.quadrantMm * scale * 0.75);
          const minScore = weakestChecker(search, [p, q], sc);
          if (minScore < 0.6) continue;
          const points: Pt[] = [];
          const found: boolean[] = [];
          const radius = Math.max(4, 0.06 * scale * Math.max(g.widthMm, g.heightMm));
          for (let c = 0; c < 4; c++) {
            if (c === ci || c === cj) {
              points.push(c === ci ? p : q);
              found.push(true);
              continue;
            }
            const predicted = map(g.centresMm[c]!);
            const best = seekChecker(search, predicted, radius, sc, Math.sign(p.score), 2);
            const seen = best.score >= SEEN_CHECKER;
            points.push(seen ? { x: best.x, y: best.y } : predicted);
            found.push(seen);
          }
          out.push({ points, found, rank: minScore + 0.1 * Math.log(scale) });
        }
      }
    }
  }
  out.sort((a, b) => b.rank - a.rank);
  return out.slice(0, limit);
}

/** Every box must be in the photo: a cut-off field would otherwise read as blank. */
function checkInside(template: FormTemplate, mmToImage: H3, width: number, height: number): void {
  const missing: string[] = [];
  for (const f of template.fields) {
    const out = f.boxes.some((b) =>
      [
        { x: b.x, y: b.y },
        { x: b.x + b.w, y: b.y + b.h },
        { x: b.x + b.w, y: b.y },
        { x: b.x, y: b.y + b.h },
      ].some((p) => {
        const q = apply(mmToImage, p);
        return !(q.x >= 0 && q.y >= 0 && q.x < width && q.y < height);
      }),
    );
    if (out) missing.push(f.key);
  }
  if (missing.length) {
    throw new ReadReject('page_cropped', `${missing.length} field(s) lie outside the photo: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  }
}

/**
 * A photo's bytes → its page analysis, the grey photo freed as soon as the boxes are cut. Throws
 * ReadReject like analysePage. For tools that read many photos (benches, training data); readPhoto
 * does the same two steps but times each.
 */
export function analysePhoto(cv: Cv, bytes: Uint8Array, templates: FormTemplate[]): PageAnalysis {
  const { gray } = decodeGray(cv, bytes);
  try {
    return analysePage(cv, gray, templates);
  } finally {
    gray.release();
  }
}
