/**
 * Reading the page mark through a page placement that is off in scale: a page placed from two
 * checkerboards ignores perspective, so the mark can appear 10–20% larger or smaller than the placement
 * says. The border's sides are then located one by one and the cells read between them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCv, type Cv } from './opencv.js';
import { decodeGray } from './decode.js';
import { readPageMark } from './pagemark-read.js';
import { loadTemplates } from '../template/index.js';
import { renderForm } from '../render/index.js';
import type { H3 } from './geometry.js';

let cv: Cv;
beforeAll(() => {
  cv = loadCv();
});

describe('readPageMark', () => {
  it('reads the mark through a placement 15–20% off in scale, and never reads another id', async () => {
    const t = loadTemplates().find((x) => x.candidateCount === 4)!;
    const png = await renderForm(t, { provinsi: 'A', kabupaten: 'B', kecamatan: 'C', desa: 'D', tps: '001', candidates: [] }, { dpi: 254, values: {} });
    const gray = decodeGray(cv, png).gray;
    const ids = loadTemplates().map((x) => x.markId);
    const cx = t.pageMark.x + t.pageMark.w / 2;
    const cy = t.pageMark.y + t.pageMark.h / 2;
    // page mm → image px (10 px/mm), scaled about the mark's centre and shifted 0.4 mm.
    const placed = (sx: number, sy: number): H3 => [10 * sx, 0, 10 * cx * (1 - sx) + 4, 0, 10 * sy, 10 * cy * (1 - sy) - 3, 0, 0, 1];
    const read = (sx: number, sy: number) => readPageMark(cv, gray, placed(sx, sy), t.pageMark, ids).id;
    expect(read(1, 1)).toBe(t.markId);
    // The square border search alone reads these up to about 12% (checked against session 8's reader).
    for (const [sx, sy] of [[1.15, 1], [1, 1.15], [1.2, 1], [1, 1.2], [1.15, 1.15]] as const) expect(read(sx, sy), `${sx}×${sy}`).toBe(t.markId);
    // Further off the mark is not read, and no placement reads it as another page.
    for (const [sx, sy] of [[1.3, 1], [1, 1.3], [0.75, 1], [1, 0.75], [0.85, 0.85]] as const) expect([null, t.markId]).toContain(read(sx, sy));
    gray.release();
  });
});
