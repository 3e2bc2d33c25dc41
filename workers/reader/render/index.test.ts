import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { loadTemplates, templateFor } from '../template/index.js';
import type { FormTemplate, RectMm } from '../template/types.js';
import { boxGlyphs, pageSizePx, renderForm, type FormHeader } from './index.js';
import { PAGE_MARK_CELLS, pageMarkMatrix } from '../template/pagemark.js';

const header: FormHeader = {
  provinsi: 'KALIMANTAN TENGAH',
  kabupaten: 'KOTA PALANGKA RAYA',
  kecamatan: 'PAHANDUT',
  desa: 'LANGKAI',
  tps: '005',
  contestTitle: 'Pemilihan Gubernur dan Wakil Gubernur Kalimantan Tengah',
  candidates: [1, 2, 3, 4, 5, 6].map((number) => ({ number, headName: `CALON ${number}`, deputyName: `WAKIL ${number}` })),
};

async function grey(t: FormTemplate, dpi: number, values?: Record<string, number>) {
  const png = await renderForm(t, header, { dpi, values });
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const s = info.width / t.sizeMm.width;
  /** Mean darkness (0 white .. 1 black) of the central 60% of a rect in mm. */
  const dark = (r: RectMm) => {
    const x0 = Math.round((r.x + r.w * 0.2) * s), x1 = Math.round((r.x + r.w * 0.8) * s);
    const y0 = Math.round((r.y + r.h * 0.2) * s), y1 = Math.round((r.y + r.h * 0.8) * s);
    let sum = 0, n = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { sum += 255 - data[y * info.width + x]!; n++; }
    return sum / n / 255;
  };
  return { info, dark };
}

describe('renderForm', () => {
  it('renders every template at its size with fiducials, page mark and empty boxes where the template says', async () => {
    for (const t of loadTemplates()) {
      const dpi = 100;
      const { info, dark } = await grey(t, dpi);
      expect({ width: info.width, height: info.height }).toEqual(pageSizePx(t, dpi));
      expect([info.width, info.height]).toEqual([Math.round((t.sizeMm.width * dpi) / 25.4), Math.round((t.sizeMm.height * dpi) / 25.4)]);
      for (const c of t.fiducials.corners) {
        const h = t.fiducials.sizeMm / 2;
        expect(dark({ x: c.x, y: c.y, w: h, h })).toBeGreaterThan(0.95);
        expect(dark({ x: c.x + h, y: c.y + h, w: h, h })).toBeGreaterThan(0.95);
        expect(dark({ x: c.x + h, y: c.y, w: h, h })).toBeLessThan(0.05);
        expect(dark({ x: c.x, y: c.y + h, w: h, h })).toBeLessThan(0.05);
      }
      const m = pageMarkMatrix(t.markId);
      const cell = t.pageMark.w / PAGE_MARK_CELLS;
      for (let r = 0; r < PAGE_MARK_CELLS; r++)
        for (let c = 0; c < PAGE_MARK_CELLS; c++) {
          const d = dark({ x: t.pageMark.x + c * cell, y: t.pageMark.y + r * cell, w: cell, h: cell });
          if (m[r]![c]) expect(d).toBeGreaterThan(0.9);
          else expect(d).toBeLessThan(0.1);
        }
      for (const f of t.fields) for (const b of f.boxes) expect(dark(b)).toBeLessThan(0.02);
    }
  });

  it('writes typed values into the right boxes, X in unused leading boxes', async () => {
    const t = templateFor('perolehan', 2);
    const { dark } = await grey(t, 150, { suara_paslon_1: 7, suara_sah: 123 });
    const f = (k: string) => t.fields.find((x) => x.key === k)!.boxes;
    for (const b of [...f('suara_paslon_1'), ...f('suara_sah')]) expect(dark(b)).toBeGreaterThan(0.04);
    for (const b of f('suara_paslon_2')) expect(dark(b)).toBeLessThan(0.02);
    expect(boxGlyphs(7, 3)).toEqual(['X', 'X', '7']);
    expect(boxGlyphs(0, 3, '0')).toEqual(['0', '0', '0']);
    expect(boxGlyphs(120, 3)).toEqual(['1', '2', '0']);
    expect(() => boxGlyphs(1000, 3)).toThrow(/does not fit/);
  });

  it('renders a vector PDF', async () => {
    const pdf = await renderForm(templateFor('administrasi'), header, { format: 'pdf' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
