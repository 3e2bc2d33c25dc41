import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { templateFor } from '../template/index.js';
import { applyHomography } from './photo.js';
import { checkIdentities, loadGlyphLibrary, synthesizePhoto, type GroundTruth, type SynthContest, type SynthTps } from './index.js';

const contest: SynthContest = {
  id: 'pkwkp-62',
  jenis: 'pkwkp',
  candidateCount: 2,
  paslonIds: ['1000101', '1000102'],
  header: { contestTitle: 'Pemilihan Gubernur dan Wakil Gubernur Kalimantan Tengah', candidates: [1, 2].map((number) => ({ number, headName: `CALON ${number}`, deputyName: `WAKIL ${number}` })) },
};
const tps: SynthTps[] = [
  { code: '6271011001001', votersL: 140, votersP: 151, header: { provinsi: 'KALIMANTAN TENGAH', kabupaten: 'KOTA PALANGKA RAYA', kecamatan: 'PAHANDUT', desa: 'LANGKAI', tps: '001' } },
  { code: '6271011001002', votersL: 201, votersP: 188, header: { provinsi: 'KALIMANTAN TENGAH', kabupaten: 'KOTA PALANGKA RAYA', kecamatan: 'PAHANDUT', desa: 'LANGKAI', tps: '002' } },
];

function valueFromBoxes(boxes: GroundTruth['boxes'][string]): number {
  return Number(boxes.map((b) => (b.class === 'X' || b.class === 'blank' ? '' : b.class)).join('') || 'NaN');
}

async function lumaAt(jpeg: Buffer, points: [number, number][]): Promise<number[]> {
  const { data, info } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  return points.map(([x, y]) => {
    let s = 0, n = 0;
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) { s += data[(Math.round(y) + dy) * info.width + Math.round(x) + dx]!; n++; }
    return s / n;
  });
}

describe('synthesizePhoto', () => {
  it('writes a photo whose ground truth matches the values, the boxes and the geometry; same seed → same bytes', async () => {
    const lib = await loadGlyphLibrary();
    const opts = { seed: 'test-seed', mistakes: 1, unreadable: 0, page: 'both' as const };
    const a = await synthesizePhoto(1, contest, tps, opts, lib);
    const b = await synthesizePhoto(1, contest, tps, opts, lib);
    expect(b.truth).toEqual(a.truth);
    expect(createHash('sha256').update(b.jpeg).digest('hex')).toBe(createHash('sha256').update(a.jpeg).digest('hex'));

    const t = a.truth;
    expect(t.page).toBe('perolehan');
    expect(t.templateId).toBe('c-hasil-kwk-perolehan-2-v1');
    const template = templateFor('perolehan', 2);
    expect(Object.keys(t.values).sort()).toEqual(template.fields.map((f) => f.key).sort());
    for (const f of template.fields) expect(valueFromBoxes(t.boxes[f.key]!), f.key).toBe(t.values[f.key]);
    // mistakes = 1: exactly one planted, and the truth's list of broken identities is the real one.
    expect(t.mistakes).toHaveLength(1);
    expect(t.violatedIdentities).toEqual(checkIdentities(template.identities, t.values).filter((c) => !c.ok).map((c) => c.id));
    expect(t.violatedIdentities).toContain(t.mistakes[0]!.identity);

    const meta = await sharp(a.jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([t.degradation.photo.width, t.degradation.photo.height]);
    const mp = (meta.width! * meta.height!) / 1e6;
    expect(mp).toBeGreaterThanOrEqual(7.9);
    expect(mp).toBeLessThanOrEqual(12.3);
    expect(Math.abs(t.degradation.rotationDeg)).toBeLessThanOrEqual(15);
    expect(t.readable).toBe(true);

    // mmToPhoto really maps the template into the photo: black fiducial quadrants are darker than white ones.
    const dark: [number, number][] = [];
    const light: [number, number][] = [];
    for (const c of template.fiducials.corners) {
      const q = c.w / 4;
      dark.push(applyHomography(t.mmToPhoto, [c.x + q, c.y + q]), applyHomography(t.mmToPhoto, [c.x + 3 * q, c.y + 3 * q]));
      light.push(applyHomography(t.mmToPhoto, [c.x + 3 * q, c.y + q]), applyHomography(t.mmToPhoto, [c.x + q, c.y + 3 * q]));
    }
    const [d, l] = [await lumaAt(a.jpeg, dark), await lumaAt(a.jpeg, light)];
    for (let i = 0; i < d.length; i++) expect(l[i]! - d[i]!).toBeGreaterThan(50);

    // Both pages of one TPS slot share one set of TPS values.
    const admin = await synthesizePhoto(0, contest, tps, { ...opts, mistakes: 0 }, lib);
    expect(admin.truth.kode_tps).toBe(t.kode_tps);
    expect(admin.truth.values.pengguna_total_j).toBe(admin.truth.values.surat_digunakan);
    expect(admin.truth.mistakes).toEqual([]);
    expect(admin.truth.violatedIdentities).toEqual([]);
  }, 300_000);

  it('marks deliberately unreadable photos so in the ground truth', async () => {
    const lib = await loadGlyphLibrary({ realCrops: false });
    const reasons = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const { truth } = await synthesizePhoto(i, contest, tps, { seed: 'unreadable', mistakes: 0, unreadable: 1, page: 'administrasi' }, lib);
      expect(truth.readable).toBe(false);
      reasons.add(truth.unreadableReason!);
      if (truth.unreadableReason === 'partial_crop') {
        const { width, height } = truth.degradation.photo;
        expect(truth.fiducialCentres.some(([x, y]) => x < 0 || y < 0 || x >= width || y >= height)).toBe(true);
      } else expect(truth.degradation.blur.sigmaPx).toBeGreaterThan(10);
    }
    expect([...reasons].every((r) => r === 'partial_crop' || r === 'heavy_blur')).toBe(true);
  }, 300_000);
});
