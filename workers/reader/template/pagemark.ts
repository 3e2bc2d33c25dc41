/**
 * The page mark: a square black-bordered binary tag printed at the top right of every page, under
 * the form id box (like the AprilTag on the 2024 plano). It tells the reader which template a photo
 * shows (form type, page, candidate count) before any box is read.
 *
 * Why not an AprilTag/ArUco: the OpenCV build we ship may lack the aruco module, and we want the
 * decoder in plain TypeScript so that it is testable without OpenCV. The design is ArUco-like:
 *
 *   ┌──────────── PAGE_MARK_CELLS = 8 cells ────────────┐
 *   │ black border (1 cell)                             │
 *   │   6 × 6 data cells, bit 1 = black, row-major      │
 *   │   from the top-left data cell (bit 0) to the      │
 *   │   bottom-right one (bit 35)                       │
 *   │ black border (1 cell)                             │
 *   └───────────────────────────────────────────────────┘
 *   plus a white quiet zone of ≥ 1 cell around it (the renderer leaves it empty).
 *
 * Codeword (36 bits):
 *   bits 0..11  : the mark id, most significant bit first (0..4095);
 *   bits 12..35 : 24 parity bits, parity k = popcount(id & PARITY_MASKS[k]) mod 2;
 *   then the whole word is XORed with COSET so that no valid mark is all white or all black.
 * The code's minimum Hamming distance is 10 (checked in pagemark.test.ts): up to 9 flipped cells are
 * always detected, and up to 4 are corrected by `decodePageMarkNearest`.
 *
 * Orientation: the corner checkerboards look the same after a 180° turn, so a reader that warped a
 * page upside down sees the tag rotated. `decodePageMarkAnyRotation` tries the four quarter turns; a
 * rotated valid mark is far from every codeword (tested for every id we use), so exactly one turn
 * decodes and it tells the reader how to rotate the page.
 *
 * Mark ids: FORM_TYPE_KWK * 100 + page * 10 + candidateCount, i.e. 210 = administrasi,
 * 221..226 = perolehan for 1..6 paslon. (The 2024 PPWP plano used 101..103 for its pages.)
 */

export const PAGE_MARK_CELLS = 8;
export const PAGE_MARK_DATA_CELLS = 6;
export const PAGE_MARK_BITS = PAGE_MARK_DATA_CELLS * PAGE_MARK_DATA_CELLS;
const ID_BITS = 12;
export const MAX_MARK_ID = (1 << ID_BITS) - 1;

/** A [36,12] linear code found by a seeded search for the largest minimum distance (10). */
const PARITY_MASKS = [
  744, 3641, 2684, 493, 1734, 297, 292, 2132, 1753, 2694, 1939, 2514, 2643, 1880, 1279, 1042, 1436, 3219, 1622, 3744,
  3743, 927, 501, 3155,
] as const;

/** XOR pattern over the 36 bits (alternating 0b0110): keeps id 0 from being an all-white square. */
const COSET: readonly number[] = Array.from({ length: PAGE_MARK_BITS }, (_, i) => (i % 4 === 1 || i % 4 === 2 ? 1 : 0));

export const FORM_TYPE_KWK = 2;
export const PAGE_INDEX = { administrasi: 1, perolehan: 2 } as const;

/** The id a template's page mark carries. */
export function markIdFor(page: keyof typeof PAGE_INDEX, candidateCount = 0): number {
  if (!Number.isInteger(candidateCount) || candidateCount < 0 || candidateCount > 9) {
    throw new RangeError(`candidate count must be 0..9, got ${candidateCount}`);
  }
  return FORM_TYPE_KWK * 100 + PAGE_INDEX[page] * 10 + candidateCount;
}

/** Splits a mark id back into its parts (no check that a template exists for it). */
export function parseMarkId(id: number): { formType: number; page: number; candidateCount: number } {
  return { formType: Math.floor(id / 100), page: Math.floor(id / 10) % 10, candidateCount: id % 10 };
}

function parity(x: number): number {
  let c = 0;
  while (x) {
    x &= x - 1;
    c ^= 1;
  }
  return c;
}

/** The 36 data bits (1 = black cell), row-major over the 6 × 6 data grid. */
export function encodePageMark(id: number): number[] {
  if (!Number.isInteger(id) || id < 0 || id > MAX_MARK_ID) throw new RangeError(`page mark id must be 0..${MAX_MARK_ID}, got ${id}`);
  const bits: number[] = [];
  for (let b = ID_BITS - 1; b >= 0; b--) bits.push((id >> b) & 1);
  for (const mask of PARITY_MASKS) bits.push(parity(id & mask));
  return bits.map((bit, i) => bit ^ COSET[i]!);
}

function idOf(bits: readonly number[]): number {
  let id = 0;
  for (let i = 0; i < ID_BITS; i++) id = (id << 1) | ((bits[i]! ^ COSET[i]!) & 1);
  return id;
}

function checkBits(bits: readonly number[]): void {
  if (bits.length !== PAGE_MARK_BITS) throw new RangeError(`a page mark has ${PAGE_MARK_BITS} bits, got ${bits.length}`);
}

/** Strict decode: the id when the 36 bits are exactly a valid codeword, else null (any flipped bit is detected). */
export function decodePageMark(bits: readonly number[]): number | null {
  checkBits(bits);
  const id = idOf(bits);
  const expected = encodePageMark(id);
  for (let i = 0; i < PAGE_MARK_BITS; i++) if ((bits[i]! & 1) !== expected[i]) return null;
  return id;
}

export function hammingDistance(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if ((a[i]! & 1) !== (b[i]! & 1)) d++;
  return d;
}

/**
 * Error-correcting decode against the ids that can actually occur (the templates' mark ids): the
 * nearest codeword when it is within maxErrors flips and clearly nearer than the runner-up.
 * Returns the id and how many cells were wrong, or null.
 */
export function decodePageMarkNearest(
  bits: readonly number[],
  candidateIds: readonly number[],
  maxErrors = 4,
): { id: number; errors: number } | null {
  checkBits(bits);
  let best = -1;
  let bestD = Infinity;
  let secondD = Infinity;
  for (const id of candidateIds) {
    const d = hammingDistance(bits, encodePageMark(id));
    if (d < bestD) {
      secondD = bestD;
      bestD = d;
      best = id;
    } else if (d < secondD) secondD = d;
  }
  if (best < 0 || bestD > maxErrors || secondD - bestD < 3) return null;
  return { id: best, errors: bestD };
}

/** Rotates a 6 × 6 bit grid by quarter turns clockwise (as the image would be rotated). */
export function rotateMarkBits(bits: readonly number[], quarterTurns: number): number[] {
  checkBits(bits);
  const n = PAGE_MARK_DATA_CELLS;
  let cur = [...bits];
  const turns = ((quarterTurns % 4) + 4) % 4;
  for (let t = 0; t < turns; t++) {
    const next = new Array<number>(n * n);
    // Clockwise: the cell at (row r, col c) moves to (row c, col n-1-r).
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) next[c * n + (n - 1 - r)] = cur[r * n + c]!;
    cur = next;
  }
  return cur;
}

/**
 * Decodes bits sampled from a mark in unknown orientation. `rotation` is the number of clockwise
 * quarter turns that bring the sampled grid back upright (apply the same turn to the page).
 */
export function decodePageMarkAnyRotation(
  bits: readonly number[],
  candidateIds?: readonly number[],
  maxErrors = 4,
): { id: number; rotation: number; errors: number } | null {
  const found: { id: number; rotation: number; errors: number }[] = [];
  for (let rotation = 0; rotation < 4; rotation++) {
    const upright = rotateMarkBits(bits, rotation);
    if (candidateIds) {
      const hit = decodePageMarkNearest(upright, candidateIds, maxErrors);
      if (hit) found.push({ ...hit, rotation });
    } else {
      const id = decodePageMark(upright);
      if (id !== null) found.push({ id, rotation, errors: 0 });
    }
  }
  found.sort((a, b) => a.errors - b.errors);
  // Two orientations equally plausible = we cannot tell which way up the page is: refuse.
  if (found.length === 0 || (found.length > 1 && found[1]!.errors === found[0]!.errors)) return null;
  return found[0]!;
}

/**
 * The full 8 × 8 cell matrix (1 = black) including the border, row-major: what the renderer draws and
 * what the reader samples. Cell (r, c) with 1 ≤ r, c ≤ 6 is data bit (r-1)*6 + (c-1).
 */
export function pageMarkMatrix(id: number): number[][] {
  const bits = encodePageMark(id);
  const n = PAGE_MARK_CELLS;
  return Array.from({ length: n }, (_, r) =>
    Array.from({ length: n }, (_, c) => (r === 0 || c === 0 || r === n - 1 || c === n - 1 ? 1 : bits[(r - 1) * PAGE_MARK_DATA_CELLS + (c - 1)]!)),
  );
}
