import { describe, expect, it } from 'vitest';
import { templateFor } from '../template/index.js';
import { Rng } from './random.js';
import { checkIdentities, generateTpsValues, pageValues, plantMistake } from './values.js';

describe('synthetic TPS values', () => {
  it('satisfy every identity of both pages, stay within 0..999 and respect the master register', () => {
    const admin = templateFor('administrasi');
    for (let n = 1; n <= 6; n++) {
      const per = templateFor('perolehan', n);
      for (let k = 0; k < 300; k++) {
        const rng = new Rng(`values-test:${n}:${k}`);
        const master = k % 3 === 0 ? { votersL: 100 + k, votersP: 120 + (k % 50) } : {};
        const v = generateTpsValues(rng, n, master);
        for (const t of [admin, per]) {
          const page = pageValues(t, v);
          const bad = checkIdentities(t.identities, page).filter((c) => !c.ok);
          expect(bad, `${t.id} seed ${k}`).toEqual([]);
          for (const x of Object.values(page)) expect(Number.isInteger(x) && x >= 0 && x <= 999).toBe(true);
        }
        if (k % 3 === 0) expect([v.pemilih_dpt_l, v.pemilih_dpt_p]).toEqual([100 + k, 120 + (k % 50)]);
        // Cross-page and soft rules the templates do not carry (H4, H11, H12, H13, H14).
        expect(v.suara_total).toBe(v.pengguna_total_j);
        expect(v.pengguna_total_j).toBeLessThanOrEqual(v.surat_diterima!);
        const reserve = Math.ceil(0.025 * v.pemilih_dpt_j!);
        expect(v.surat_diterima! - v.pemilih_dpt_j! - reserve).toBeGreaterThanOrEqual(0);
        expect(v.surat_diterima! - v.pemilih_dpt_j! - reserve).toBeLessThanOrEqual(2);
        expect(v.pemilih_dpt_j).toBeLessThanOrEqual(600);
        expect(v.suara_kolom_kosong === undefined).toBe(n !== 1);
      }
    }
  });

  it('violate identities exactly where a KPPS mistake was planted, and the share follows the setting', () => {
    let planted = 0;
    let inconsistent = 0;
    const pages = 3000;
    for (let k = 0; k < pages; k++) {
      const n = 1 + (k % 6);
      const t = k % 2 === 0 ? templateFor('administrasi') : templateFor('perolehan', n);
      const v = pageValues(t, generateTpsValues(new Rng(`m:${k}`), n));
      const rng = new Rng(`mistake:${k}`);
      let mistake = null;
      if (rng.chance(0.05)) {
        mistake = plantMistake(rng, t, v);
        expect(mistake).not.toBeNull();
        planted++;
      }
      const bad = checkIdentities(t.identities, v).filter((c) => !c.ok);
      if (bad.length > 0) inconsistent++;
      if (mistake) {
        expect(v[mistake.field]).toBe(mistake.written);
        expect(mistake.written).not.toBe(mistake.correct);
        expect(bad.map((b) => b.id)).toContain(mistake.identity);
        // Every broken identity involves the field KPPS got wrong.
        for (const b of bad) {
          const idn = t.identities.find((i) => i.id === b.id)!;
          expect([idn.total, ...idn.parts]).toContain(mistake.field);
        }
      } else expect(bad).toEqual([]);
    }
    expect(inconsistent).toBe(planted);
    // 5% of 3000 = 150; a binomial 99.9% interval is roughly ±37.
    expect(planted).toBeGreaterThan(110);
    expect(planted).toBeLessThan(190);
  });

  it('are reproducible from the seed', () => {
    expect(generateTpsValues(new Rng('same'), 4)).toEqual(generateTpsValues(new Rng('same'), 4));
    expect(generateTpsValues(new Rng('same'), 4)).not.toEqual(generateTpsValues(new Rng('other'), 4));
  });
});
