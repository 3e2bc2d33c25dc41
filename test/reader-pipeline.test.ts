/**
 * The reader end to end: render → readPhoto for every template, rejections with reasons for bad
 * input, page/contest checks, the reader process pool surviving a crashed child, and the
 * `rekap read` command line (JSON lines, exit codes, --contest from the real database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readPhoto } from '../workers/reader/pipeline.js';
import { createReaderPool, ReaderCrashError } from '../workers/reader/process/pool.js';
import { loadTemplates, templateFor } from '../workers/reader/template/index.js';
import type { FormTemplate } from '../workers/reader/template/types.js';
import { renderForm } from '../workers/reader/render/index.js';
import { generateTpsValues, pageValues, Rng } from '../workers/reader/synth/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const HEADER = { provinsi: 'KALIMANTAN TENGAH', kabupaten: 'KOTAWARINGIN BARAT', kecamatan: 'ARUT SELATAN', desa: 'MENDAWAI', tps: '001' };
const tmp = mkdtempSync(path.join(tmpdir(), 'rekap-read-'));

/** A consistent set of values for one TPS (every identity holds), restricted to the page. */
function valuesFor(t: FormTemplate, seed: string): Record<string, number> {
  return pageValues(t, generateTpsValues(new Rng(seed), t.candidateCount ?? 3));
}

async function renderWith(t: FormTemplate, values: Record<string, number>, dpi = 150): Promise<Buffer> {
  return renderForm(t, { ...HEADER, candidates: Array.from({ length: t.candidateCount ?? 0 }, (_, i) => ({ number: i + 1, headName: `CALON ${i + 1}`, deputyName: `WAKIL ${i + 1}` })) }, { dpi, values });
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readPhoto: clean renders read exactly', () => {
  for (const t of loadTemplates()) {
    it(`${t.id}`, async () => {
      const values = valuesFor(t, `clean:${t.id}`);
      const png = await renderWith(t, values);
      const r = readPhoto(png, { file: `${t.id}.png` });
      expect(r.rejectReason).toBeUndefined();
      expect(r.templateId).toBe(t.id);
      expect(r.page).toBe(t.page);
      expect(r.markId).toBe(t.markId);
      const read = Object.fromEntries(Object.entries(r.fields).map(([k, f]) => [k, f.value]));
      expect(read).toEqual(values);
      // Values exact; whether the form is also auto-published depends on how sure the digit model is
      // of typed glyphs, which bench:read measures on handwriting.
      expect(['READ_OK', 'AUTO_CORRECTED', 'NEEDS_REVIEW']).toContain(r.class);
      // Every number is traceable to its boxes: three boxes, 12 probabilities each, and where they are.
      for (const f of t.fields) {
        const fr = r.fields[f.key]!;
        expect(fr.boxes).toHaveLength(f.boxes.length);
        expect(fr.roi).toHaveLength(f.boxes.length);
        for (const b of fr.boxes) expect(b.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
        expect(fr.p).toBeGreaterThan(0);
      }
      for (const step of ['decode', 'find', 'cut', 'classify', 'constraints', 'total']) expect(r.timingsMs[step]).toBeGreaterThanOrEqual(0);
      expect(r.readerVersion).toMatch(/^cv[0-9]+\+digits-[0-9a-f]{12}\+decoder[0-9]*$/);
    });
  }
});

describe('readPhoto: a 48 MP photo (a phone\'s high-resolution mode)', () => {
  it('is decoded at half size by libjpeg and read exactly, its size and scale in the reading', { timeout: 120_000 }, async () => {
    const t = templateFor('administrasi');
    const values = valuesFor(t, 'phone-48mp');
    const png = await renderWith(t, values);
    // The page fills a 6000 × 8000 frame on a darker table: 48 MP, over the reader's 26 MP working size.
    const page = await sharp(png).resize({ height: 7600 }).toBuffer();
    const meta = await sharp(page).metadata();
    const jpeg = await sharp({ create: { width: 6000, height: 8000, channels: 3, background: { r: 90, g: 80, b: 70 } } })
      .composite([{ input: page, left: Math.round((6000 - meta.width!) / 2), top: 200 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const r = readPhoto(jpeg, { file: '48mp.jpg' });
    expect(r.rejectReason).toBeUndefined();
    expect(r.image).toEqual({ width: 6000, height: 8000, scaleDenominator: 2 });
    expect(r.templateId).toBe(t.id);
    expect(Object.fromEntries(Object.entries(r.fields).map(([k, f]) => [k, f.value]))).toEqual(values);
  });
});

describe('readPhoto: rejections carry a reason', () => {
  it('bad bytes', async () => {
    const jpeg = await sharp({ create: { width: 1200, height: 1600, channels: 3, background: '#eee' } }).jpeg().toBuffer();
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(), 'not_an_image'],
      [Buffer.from('Formulir C.Hasil, TPS 001: 123 suara\n'), 'not_an_image'],
      [jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'truncated_image'],
      [Buffer.from('%PDF-1.4 …'), 'unsupported_format'],
      [jpeg, 'no_page_found'], // a photo with no form in it
    ];
    for (const [bytes, reason] of cases) {
      const r = readPhoto(bytes);
      expect(r.class).toBe('REJECTED');
      expect(r.rejectReason).toBe(reason);
      expect(r.rejectDetail).toBeTruthy();
      expect(r.fields).toEqual({});
    }
  });

  it('wrong page and wrong candidate count', async () => {
    const t = templateFor('perolehan', 3);
    const png = await renderWith(t, valuesFor(t, 'wrong'));
    const a = readPhoto(png, { expectedPage: 'administrasi' });
    expect(a.rejectReason).toBe('wrong_page');
    expect(a.page).toBe('perolehan');
    const b = readPhoto(png, { contestCandidateCount: 4 });
    expect(b.rejectReason).toBe('wrong_candidate_count');
    expect(b.rejectDetail).toMatch(/3 candidate pair\(s\).*contest has 4/);
    expect(readPhoto(png, { expectedPage: 'perolehan', contestCandidateCount: 3 }).class).not.toBe('REJECTED');
  });

  it('a page whose printed boxes are not where the template says is rejected as misaligned', async () => {
    // The right page mark and fiducials, but every field drawn 4 mm lower: a different layout.
    const t = templateFor('perolehan', 2);
    const shifted: FormTemplate = { ...t, fields: t.fields.map((f) => ({ ...f, boxes: f.boxes.map((b) => ({ ...b, y: b.y + 4 })) })), lines: [], text: [] };
    const png = await renderWith(shifted, {});
    const r = readPhoto(png);
    expect(r.class).toBe('REJECTED');
    expect(r.rejectReason).toBe('misaligned');
    expect(r.templateId).toBe(t.id);
  });
});

describe('reader process pool', () => {
  it('reads bytes and paths, and survives a child crash', { timeout: 300_000 }, async () => {
    const t = templateFor('perolehan', 2);
    const values = valuesFor(t, 'pool');
    const png = await renderWith(t, values);
    const file = path.join(tmp, 'page.png');
    writeFileSync(file, png);
    const lines: string[] = [];
    const pool = createReaderPool(1, { log: (l) => lines.push(l) });
    try {
      const first = await pool.read(file);
      expect(first.file).toBe(file);
      expect(first.fields.suara_sah!.value).toBe(values.suara_sah);
      expect(first).not.toHaveProperty('decodeBaseline');
      // The bench's decode-only baseline, timed in the reader process beside the read; the reading is the same.
      for (let k = 0; k < 2; k++) {
        const timed = (await pool.read(file, {}, { decodeBaseline: true })) as typeof first & { decodeBaseline?: { ms: number; cpuMs: number } };
        expect(timed.fields.suara_sah!.value).toBe(values.suara_sah);
        expect(timed.decodeBaseline!.ms).toBeGreaterThan(0);
        expect(timed.decodeBaseline!.cpuMs).toBeGreaterThanOrEqual(0);
      }
      const [pid] = pool.pids();
      // Kill the child while it holds a job: that job fails with a clear error…
      const doomed = pool.read(png, { file: 'doomed.png' });
      process.kill(pid!, 'SIGKILL');
      await expect(doomed).rejects.toThrow(ReaderCrashError);
      await expect(doomed).rejects.toThrow(/killed \(SIGKILL\) while reading doomed\.png/);
      // …and the pool carries on with a new child.
      const after = await pool.read(png);
      expect(after.fields.suara_sah!.value).toBe(values.suara_sah);
      expect(pool.pids()[0]).not.toBe(pid);
      expect(pool.restarts()).toBe(1);
      expect(lines.join('\n')).toMatch(/restarting/);
      const bad = await pool.read(Buffer.from('not an image'));
      expect(bad.rejectReason).toBe('not_an_image');
      const missing = await pool.read(path.join(tmp, 'nope.jpg'));
      expect(missing.rejectReason).toBe('unreadable_file');
    } finally {
      await pool.close();
    }
    await expect(pool.read(png)).rejects.toThrow(/closed/);
  });
});

describe('rekap read', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
  });
  afterAll(async () => {
    await db?.close();
  });

  function cli(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'server', 'cli', 'main.ts'), 'read', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 240_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('prints one JSON line per input, errors on stderr, exit 1 when any input failed', { timeout: 400_000 }, async () => {
    const t = templateFor('perolehan', 4);
    const values = valuesFor(t, 'cli');
    const good = path.join(tmp, 'cli-good.png');
    const text = path.join(tmp, 'cli-text.jpg');
    writeFileSync(good, await renderWith(t, values));
    writeFileSync(text, 'hello');
    const r = cli([good, text, '--json', '--candidates', '4']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(r.stdout).not.toMatch(/Info:/);
    const [a, b] = lines.map((l) => JSON.parse(l));
    expect(a.file).toBe(good);
    expect(a.page).toBe('perolehan');
    expect(Object.fromEntries(Object.entries(a.fields as Record<string, { value: number }>).map(([k, f]) => [k, f.value]))).toEqual(values);
    expect(typeof a.fields.suara_paslon_1.p).toBe('number');
    expect(b).toMatchObject({ file: text, class: 'REJECTED', rejectReason: 'not_an_image' });
    expect(r.stderr).toMatch(/cli-text\.jpg: rejected \(not_an_image\)/);

    const ok = cli([good, '--json']);
    expect(ok.code).toBe(0);
    const table = cli([good]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/suara_sah\s+\d+/);
  });

  it('--contest takes the candidate count from the database', { timeout: 300_000 }, async () => {
    const four = path.join(tmp, 'cli-four.png');
    const three = path.join(tmp, 'cli-three.png');
    writeFileSync(four, await renderWith(templateFor('perolehan', 4), valuesFor(templateFor('perolehan', 4), 'c4')));
    writeFileSync(three, await renderWith(templateFor('perolehan', 3), valuesFor(templateFor('perolehan', 3), 'c3')));
    // Kalimantan Tengah's governor race has four paslon.
    const r = cli([four, three, '--json', '--contest', 'pkwkp-62'], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    const [a, b] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(a.class).not.toBe('REJECTED');
    expect(b.rejectReason).toBe('wrong_candidate_count');
    const unknown = cli([four, '--contest', 'pkwkp-00'], { DATABASE_URL: db.url });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown contest/);
  });

  it('usage errors exit 2 with one line', { timeout: 120_000 }, () => {
    expect(cli([]).code).toBe(2);
    const r = cli(['x.jpg', '--candidates', '9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--candidates must be an integer 1\.\.6/);
  });
});
