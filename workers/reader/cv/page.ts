/**
 * One photo's geometry, from decoded grey pixels to cut boxes: find the corner checkerboards, decide
 * which way up the page is by reading its page mark, fit the homography page-mm → photo, check that
 * every field lies inside the photo, locate each field locally, score the alignment and cut the boxes.
 * Everything that cannot be established is a ReadReject with a reason; nothing is guessed.
 */
import type { Cv, Mat } from './opencv.js';
import type { FormTemplate } from '../template/types.js';
import { findCheckerCandidates, rankQuads, refineCorners, workFactor, type Pt } from './fiducials.js';
import { apply, homography, type H3 } from './geometry.js';
import { readPageMark } from './pagemark-read.js';
import { cutFields, type CutField } from './boxes.js';
import { ReadReject } from './reject.js';

/** Resolution of the warped page frame (and of PageReading ROIs). A 9 mm box → 54 px. */
export const PX_PER_MM = 6;
/** Below this median per-field score the printed boxes are not where the template says: reject. */
export const MIN_ALIGNMENT = 0.5;

export interface PageAnalysis {
  template: FormTemplate;
  markId: number;
  markErrors: number;
  /** Fiducial centres in the photo (TL, TR, BR, BL of the page). */
  corners: Pt[];
  mmToImage: H3;
  alignmentScore: number;
  fields: CutField[];
  timingsMs: { find: number; mark: number; cut: number };
}

interface Geometry {
  centresMm: Pt[];
  quadrantMm: number;
  widthMm: number;
  heightMm: number;
  templates: FormTemplate[];
}

function geometries(templates: FormTemplate[]): Geometry[] {
  const groups = new Map<string, Geometry>();
  for (const t of templates) {
    const centresMm = t.fiducials.corners.map((c) => ({ x: c.x + c.w / 2, y: c.y + c.h / 2 }));
    const key = JSON.stringify([centresMm, t.fiducials.sizeMm, t.pageMark]);
    const g = groups.get(key);
    if (g) g.templates.push(t);
    else {
      groups.set(key, {
        centresMm,
        quadrantMm: t.fiducials.sizeMm / 2,
        widthMm: centresMm[1]!.x - centresMm[0]!.x,
        heightMm: centresMm[3]!.y - centresMm[0]!.y,
        templates: [t],
      });
    }
  }
  return [...groups.values()];
}

export function analysePage(cv: Cv, gray: Mat, templates: FormTemplate[]): PageAnalysis {
  const t0 = performance.now();
  const groups = geometries(templates);
  const L = Math.max(gray.rows, gray.cols);
  const work = workFactor(L) * L; // working long side, as in findCheckerCandidates
  // Checker size range: the page's long side spans 25%..110% of the photo's long side.
  const qMin = Math.min(...groups.map((g) => (0.25 * work * g.quadrantMm) / Math.max(g.widthMm, g.heightMm)));
  const qMax = Math.max(...groups.map((g) => (1.1 * work * g.quadrantMm) / Math.min(g.widthMm, g.heightMm)));
  const search = findCheckerCandidates(cv, gray, { minQuadrant: qMin, maxQuadrant: qMax });
  const tFind = performance.now();
  if (search.candidates.length < 4) {
    throw new ReadReject('no_page_found', `found ${search.candidates.length} of the 4 corner checkerboards; is the whole page in the photo?`);
  }
  let tried = 0;
  let sawQuad = false;
  let markFailure = '';
  for (const g of groups) {
    const quads = rankQuads(search, g, 6);
    if (quads.length) sawQuad = true;
    const ids = g.templates.map((t) => t.markId);
    for (const q of quads) {
      const coarse = q.points.map((p) => ({ x: p.x / search.factor, y: p.y / search.factor }));
      // The checkers look alike after a half turn (and alike-but-negated after a quarter turn), so
      // each cyclic labelling is a hypothesis; only the right one shows the page mark where expected.
      const shifts = q.points[0].score > 0 ? [0, 2, 1, 3] : [1, 3, 0, 2];
      for (const shift of shifts) {
        tried++;
        const pts = [0, 1, 2, 3].map((k) => coarse[(k + shift) % 4]!);
        const h = homography(cv, g.centresMm, pts);
        const mark = readPageMark(cv, gray, h, g.templates[0]!.pageMark, ids);
        if (mark.id === null) {
          if (mark.contrast >= 0.25) markFailure = `a page mark was seen but not decoded (${mark.bits.join('')})`;
          continue;
        }
        const template = g.templates.find((t) => t.markId === mark.id)!;
        // Sub-pixel corners now that the page is known; the window is a third of a checker quadrant.
        const pxPerMmPhoto = Math.hypot(pts[1]!.x - pts[0]!.x, pts[1]!.y - pts[0]!.y) / g.widthMm;
        const refined = refineCorners(cv, gray, pts, (g.quadrantMm * pxPerMmPhoto) / 3);
        const mmToImage = homography(cv, g.centresMm, refined);
        const tMark = performance.now();
        try {
          checkInside(template, mmToImage, gray.cols, gray.rows);
        } catch (err) {
          if (err instanceof ReadReject) throw new ReadReject(err.reason, err.detail, { page: template.page, templateId: template.id, markId: mark.id });
          throw err;
        }
        const fields = cutFields(cv, gray, mmToImage, template, PX_PER_MM);
        const scores = fields.map((f) => f.score).sort((a, b) => a - b);
        const alignmentScore = scores[Math.floor(scores.length / 2)]!;
        const tCut = performance.now();
        if (alignmentScore < MIN_ALIGNMENT) {
          throw new ReadReject(
            'misaligned',
            `the printed boxes do not line up with template ${template.id} (alignment ${alignmentScore.toFixed(2)} < ${MIN_ALIGNMENT}); ` +
              `${fields.filter((f) => !f.located).length} of ${fields.length} fields not located`,
            { page: template.page, templateId: template.id, markId: mark.id, alignmentScore },
          );
        }
        return {
          template,
          markId: mark.id,
          markErrors: mark.errors,
          corners: refined,
          mmToImage,
          alignmentScore,
          fields,
          timingsMs: { find: tFind - t0, mark: tMark - tFind, cut: tCut - tMark },
        };
      }
    }
  }
  if (!sawQuad) throw new ReadReject('no_page_found', `no four checkerboards form a page (${search.candidates.length} candidates)`);
  throw new ReadReject('page_mark_unreadable', markFailure || `no page mark found at the expected place (${tried} page hypotheses tried)`);
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
