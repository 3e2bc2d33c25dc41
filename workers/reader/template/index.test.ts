import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fieldKeysFor, loadTemplates, parseTemplate, TEMPLATE_DIR, templateByMarkId, templateFor, TemplateError } from './index.js';
import { buildTemplates } from './generate.js';
import { decodePageMark, encodePageMark } from './pagemark.js';

describe('templates', () => {
  it('loads and validates the seven v1 layouts', () => {
    const all = loadTemplates();
    expect(all.map((t) => t.id).sort()).toEqual([
      'c-hasil-kwk-administrasi-v1',
      ...[1, 2, 3, 4, 5, 6].map((n) => `c-hasil-kwk-perolehan-${n}-v1`),
    ]);
    for (const t of all) {
      for (const f of t.fields) expect(f.boxes).toHaveLength(3);
      expect(t.fiducials.corners).toHaveLength(4);
      expect(decodePageMark(encodePageMark(t.markId))).toBe(t.markId);
      expect(templateByMarkId(t.markId)?.id).toBe(t.id);
    }
  });

  it('the committed JSON is what the generator produces (no hand edits drifting from the source)', () => {
    for (const t of buildTemplates()) {
      const onDisk = JSON.parse(readFileSync(join(TEMPLATE_DIR, `${t.id}.json`), 'utf8'));
      expect(onDisk).toEqual(JSON.parse(JSON.stringify(t)));
    }
  });

  it('has the administrasi fields and identities the issue names', () => {
    const t = templateFor('administrasi');
    const keys = t.fields.map((f) => f.key);
    for (const row of ['pemilih_dpt', 'pemilih_dpph', 'pemilih_dptb', 'pemilih_total', 'pengguna_dpt', 'pengguna_dpph', 'pengguna_dptb', 'pengguna_total', 'pemilih_disabilitas', 'pengguna_disabilitas'])
      for (const s of ['l', 'p', 'j']) expect(keys).toContain(`${row}_${s}`);
    for (const k of ['surat_diterima', 'surat_dikembalikan', 'surat_tidak_digunakan', 'surat_digunakan']) expect(keys).toContain(k);
    expect(keys).toHaveLength(34);
    const rules = new Set(t.identities.map((i) => i.rule));
    for (const r of ['H3', 'H5', 'H6', 'H7', 'H10']) expect(rules).toContain(r);
    const h6 = t.identities.find((i) => i.rule === 'H6')!;
    expect(h6).toMatchObject({ kind: 'sum', total: 'surat_diterima' });
    expect([...h6.parts].sort()).toEqual(['surat_digunakan', 'surat_dikembalikan', 'surat_tidak_digunakan']);
    expect(t.identities.filter((i) => i.rule === 'H7')).toHaveLength(10);
    expect(t.identities.find((i) => i.id === 'H10_dpt_j')).toMatchObject({ kind: 'le', total: 'pemilih_dpt_j', parts: ['pengguna_dpt_j'] });
  });

  it('has one perolehan layout per candidate count, kolom kosong only for a single paslon', () => {
    for (let n = 1; n <= 6; n++) {
      const t = templateFor('perolehan', n);
      const keys = t.fields.map((f) => f.key);
      expect(keys.filter((k) => k.startsWith('suara_paslon_'))).toHaveLength(n);
      expect(keys.includes('suara_kolom_kosong')).toBe(n === 1);
      const h1 = t.identities.find((i) => i.rule === 'H1')!;
      expect(h1.total).toBe('suara_sah');
      expect(h1.parts).toHaveLength(n === 1 ? 2 : n);
      expect(t.identities.find((i) => i.rule === 'H2')).toMatchObject({ total: 'suara_total', parts: ['suara_sah', 'suara_tidak_sah'] });
    }
    expect(fieldKeysFor(3)).toHaveLength(34 + 6);
  });

  it('rejects bad requests and bad template files with a message naming the problem', () => {
    expect(() => templateFor('perolehan')).toThrow(TemplateError);
    expect(() => templateFor('perolehan', 7)).toThrow(/1\.\.6/);
    expect(templateByMarkId(999)).toBeNull();
    const good = templateFor('perolehan', 2);
    const broken = structuredClone(good);
    broken.identities[0]!.parts.push('suara_paslon_9');
    expect(() => parseTemplate(broken, 'x.json')).toThrow(/unknown field suara_paslon_9/);
    const overlap = structuredClone(good);
    overlap.fields[1]!.boxes[0] = { ...overlap.fields[0]!.boxes[0]! };
    expect(() => parseTemplate(overlap, 'x.json')).toThrow(/overlap/);
    const wrongMark = { ...structuredClone(good), markId: 223 };
    expect(() => parseTemplate(wrongMark, 'x.json')).toThrow(/does not encode 2 candidates/);
    expect(() => parseTemplate({ ...good, fields: 'nope' }, 'x.json')).toThrow(/x\.json: fields/);
    const dir = mkdtempSync(join(tmpdir(), 'tpl-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(() => loadTemplates(dir + '/')).toThrow(/bad\.json: not valid JSON/);
    expect(readdirSync(dir)).toEqual(['bad.json']);
  });
});
