/**
 * The sheet's outline as four corners (page-outline.ts quadOfPolygon), on polygons whose answer is
 * known; the photo-level behaviour (covered checkers, thumbs over corners) is in page.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { quadOfPolygon } from './page-outline.js';

const W = 1000;
const H = 1200;
const sheet = [
  { x: 200, y: 150 },
  { x: 800, y: 200 },
  { x: 760, y: 1050 },
  { x: 180, y: 1000 },
];

/** A point a share t of the way from p to q. */
const along = (p: { x: number; y: number }, q: { x: number; y: number }, t: number) => ({ x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t });

describe('quadOfPolygon', () => {
  it('gives a clean quad its own corners, clockwise on screen whichever way it was listed', () => {
    expect(quadOfPolygon(sheet, W, H)).toEqual(sheet);
    const back = quadOfPolygon([...sheet].reverse(), W, H)!;
    // Same corners, clockwise, starting anywhere.
    expect(back.map((p) => `${p.x},${p.y}`).sort()).toEqual(sheet.map((p) => `${p.x},${p.y}`).sort());
    const k = back.findIndex((p) => p.x === 200 && p.y === 150);
    expect([0, 1, 2, 3].map((i) => back[(k + i) % 4])).toEqual(sheet);
  });

  it('puts a corner cut off by a thumb where its two sides meet', () => {
    const [tl, tr, br, bl] = sheet as [typeof sheet[0], typeof sheet[0], typeof sheet[0], typeof sheet[0]];
    // The top-left and bottom-right corners cut: each becomes a short side between two points on the
    // sides that meet there.
    const cut = [along(tl, tr, 0.08), tr, along(br, tr, 0.1), along(br, bl, 0.1), bl, along(tl, bl, 0.08)];
    const q = quadOfPolygon(cut, W, H)!;
    expect(q).not.toBeNull();
    q.forEach((p, i) => expect(Math.hypot(p.x - sheet[i]!.x, p.y - sheet[i]!.y)).toBeLessThan(1e-6));
  });

  it('refuses a region that touches the photo edge, a blob with no four dominant sides, and too few sides', () => {
    expect(quadOfPolygon([{ x: 0, y: 150 }, ...sheet.slice(1)], W, H)).toBeNull();
    const round = Array.from({ length: 12 }, (_, i) => ({ x: 500 + 300 * Math.cos((i * Math.PI) / 6), y: 600 + 300 * Math.sin((i * Math.PI) / 6) }));
    expect(quadOfPolygon(round, W, H)).toBeNull();
    expect(quadOfPolygon(sheet.slice(0, 3), W, H)).toBeNull();
  });
});
