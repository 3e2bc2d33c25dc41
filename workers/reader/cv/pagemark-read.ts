/**
 * Sampling the page mark from the photo: warp its neighbourhood to a small square, locate the black
 * border precisely (the fiducial homography is good to a millimetre or so, a cell is 2.5 mm), then
 * read each data cell's centre against a threshold set between the border's black and the quiet
 * zone's white. Decoding (error correction, the id's meaning) is the template engineer's pagemark.ts.
 */
import type { Cv, Mat } from './opencv.js';
import type { RectMm } from '../template/types.js';
import { PAGE_MARK_CELLS, PAGE_MARK_DATA_CELLS, decodePageMarkNearest } from '../template/pagemark.js';
import { warpRegion, type H3 } from './geometry.js';

export interface MarkRead {
  id: number | null;
  errors: number;
  /** black/white separation of the border vs quiet zone, 0..1: how sure we are there is a mark at all. */
  contrast: number;
  bits: number[];
}

const CELL_PX = 12;
/** How far (patch px) each side of the border may sit from where the square search put it. */
const SIDE_SEARCH_PX = 8;
/** Bit errors a decoded mark may have (nearest valid id among the candidates). */
const MAX_MARK_ERRORS = 4;

/**
 * `searchCells`: how far (in cells, 2.5 mm) from where the placement puts it the border is looked for;
 * one for a page placed from its four checkerboards, more for a rougher placement (two checkerboards).
 */
export function readPageMark(cv: Cv, gray: Mat, mmToImage: H3, mark: RectMm, candidateIds: readonly number[], searchCells = 1): MarkRead {
  const cellMm = mark.w / PAGE_MARK_CELLS;
  const pxPerMm = CELL_PX / cellMm;
  const reach = searchCells * CELL_PX;
  const margin = reach + CELL_PX; // the search, plus one cell of quiet zone around the border
  const size = PAGE_MARK_CELLS * CELL_PX + 2 * margin;
  const patch = warpRegion(cv, gray, mmToImage, pxPerMm, mark.x * pxPerMm - margin, mark.y * pxPerMm - margin, size, size);
  const px = patch.getData();
  patch.release(); // the pixels are copied out; free the native buffer now
  // Integral image of the patch: the border search below takes ~10⁴ cell means per hypothesis.
  const W1 = size + 1;
  const I = new Float64Array(W1 * (size + 1));
  for (let y = 0; y < size; y++) {
    let row = 0;
    for (let x = 0; x < size; x++) {
      row += px[y * size + x]!;
      I[(y + 1) * W1 + x + 1] = I[y * W1 + x + 1]! + row;
    }
  }
  // Mean of the central half of a cell whose top-left is at (x, y) (clipped to the patch; 255 outside).
  const q = CELL_PX / 4;
  const cellMean = (x: number, y: number): number => {
    const x0 = Math.max(0, Math.round(x + q));
    const x1 = Math.min(size, Math.round(x + CELL_PX - q));
    const y0 = Math.max(0, Math.round(y + q));
    const y1 = Math.min(size, Math.round(y + CELL_PX - q));
    if (x1 <= x0 || y1 <= y0) return 255;
    return (I[y1 * W1 + x1]! - I[y0 * W1 + x1]! - I[y1 * W1 + x0]! + I[y0 * W1 + x0]!) / ((x1 - x0) * (y1 - y0));
  };
  let best = { dx: 0, dy: 0, fit: -Infinity, black: 0, white: 255 };
  const N = PAGE_MARK_CELLS;
  for (let dy = -reach; dy <= reach; dy += 2) {
    for (let dx = -reach; dx <= reach; dx += 2) {
      const ox = margin + dx;
      const oy = margin + dy;
      let black = 0;
      let white = 0;
      for (let i = 0; i < N; i++) {
        black += cellMean(ox + i * CELL_PX, oy) + cellMean(ox + i * CELL_PX, oy + (N - 1) * CELL_PX);
        white += cellMean(ox + i * CELL_PX, oy - CELL_PX) + cellMean(ox + i * CELL_PX, oy + N * CELL_PX);
        if (i > 0 && i < N - 1) {
          black += cellMean(ox, oy + i * CELL_PX) + cellMean(ox + (N - 1) * CELL_PX, oy + i * CELL_PX);
          white += cellMean(ox - CELL_PX, oy + i * CELL_PX) + cellMean(ox + N * CELL_PX, oy + i * CELL_PX);
        }
      }
      black /= 4 * N - 4;
      white /= 4 * N - 4;
      const fit = white - black;
      if (fit > best.fit) best = { dx, dy, fit, black, white };
    }
  }
  const threshold = (best.black + best.white) / 2;
  const sample = (left: number, top: number, pitchX: number, pitchY: number): number[] => {
    const bits: number[] = [];
    for (let r = 0; r < PAGE_MARK_DATA_CELLS; r++) {
      for (let c = 0; c < PAGE_MARK_DATA_CELLS; c++) bits.push(cellMean(left + (c + 1) * pitchX, top + (r + 1) * pitchY) < threshold ? 1 : 0);
    }
    return bits;
  };
  const ox = margin + best.dx;
  const oy = margin + best.dy;
  const bits = sample(ox, oy, CELL_PX, CELL_PX);
  const contrast = Math.max(0, best.fit) / Math.max(1, best.white);
  if (contrast < 0.25) return { id: null, errors: 0, contrast, bits };
  const hit = decodePageMarkNearest(bits, candidateIds, MAX_MARK_ERRORS);
  if (hit) return { id: hit.id, errors: hit.errors, contrast, bits };
  // The border is there but the cells do not decode: the page placement may be a few % off in scale
  // (a page placed from two checkerboards ignores perspective), which moves the far cells by most of a
  // cell. Each side of the border is located on its own and the cells are read between them.
  const side = (at: (o: number, i: number) => [number, number, number, number]): number => {
    let bestO = 0;
    let bestFit = -Infinity;
    for (let o = -SIDE_SEARCH_PX; o <= SIDE_SEARCH_PX; o++) {
      let fit = 0;
      for (let i = 1; i < N - 1; i++) {
        const [bx, by, wx, wy] = at(o, i);
        fit += cellMean(wx, wy) - cellMean(bx, by);
      }
      if (fit > bestFit) {
        bestFit = fit;
        bestO = o;
      }
    }
    return bestO;
  };
  const last = (N - 1) * CELL_PX;
  const top = side((o, i) => [ox + i * CELL_PX, oy + o, ox + i * CELL_PX, oy + o - CELL_PX]);
  const bottom = side((o, i) => [ox + i * CELL_PX, oy + last + o, ox + i * CELL_PX, oy + last + o + CELL_PX]);
  const left = side((o, i) => [ox + o, oy + i * CELL_PX, ox + o - CELL_PX, oy + i * CELL_PX]);
  const right = side((o, i) => [ox + last + o, oy + i * CELL_PX, ox + last + o + CELL_PX, oy + i * CELL_PX]);
  const fitted = sample(ox + left, oy + top, (last + right - left) / (N - 1), (last + bottom - top) / (N - 1));
  const again = decodePageMarkNearest(fitted, candidateIds, MAX_MARK_ERRORS);
  return { id: again?.id ?? null, errors: again?.errors ?? 0, contrast, bits: fitted };
}
