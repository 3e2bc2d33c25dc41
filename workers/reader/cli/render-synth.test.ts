import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createHash } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.js';
import { templateFor } from '../template/index.js';
import { pageSizePx } from '../render/index.js';
import type { GroundTruth } from '../synth/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let db: TestDatabase;
let dir: string;
let contestId: string;
let candidateCount: number;
let tpsCode: string;
let otherTps: string;

function rekap(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.url },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  db = await createTestDatabase('kalteng');
  dir = mkdtempSync(join(tmpdir(), 'rekap-render-'));
  const [c] = await db.sql<{ id: string; n: number }[]>`
    select c.id, count(k.*)::int as n from contests c join candidates k on k.contest_id = c.id and not k.is_empty_column
    where c.id = 'pkwkp-62' group by c.id`;
  contestId = c!.id;
  candidateCount = c!.n;
  const rows = await db.sql<{ code: string }[]>`select code from tps where prov_code = '62' order by code limit 1`;
  tpsCode = rows[0]!.code;
  const outside = await db.sql<{ code: string }[]>`select code from areas where level = 4 and code not like '62%' limit 1`;
  otherTps = `${outside[0]!.code}001`;
});
afterAll(async () => {
  await db?.close();
});

describe('rekap form render', () => {
  it('prints a blank page with the TPS header from the database', async () => {
    const out = join(dir, 'perolehan.png');
    const r = rekap(['form', 'render', '--contest', contestId, '--tps', tpsCode, '--page', 'perolehan', '--out', out, '--dpi', '100']);
    expect(r.stderr).toContain(`c-hasil-kwk-perolehan-${candidateCount}-v1`);
    expect(r.code).toBe(0);
    const meta = await sharp(out).metadata();
    const size = pageSizePx(templateFor('perolehan', candidateCount), 100);
    expect([meta.width, meta.height]).toEqual([size.width, size.height]);
    const pdf = join(dir, 'admin.pdf');
    expect(rekap(['form', 'render', '--contest', contestId, '--tps', tpsCode, '--page', 'administrasi', '--out', pdf]).code).toBe(0);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
  }, 300_000);

  it('prints from --header-json without the database', async () => {
    const out = join(dir, 'offline.png');
    const header = JSON.stringify({ provinsi: 'P', kabupaten: 'K', kecamatan: 'C', desa: 'D', tps: '001' });
    const r = rekap(['form', 'render', '--page', 'perolehan', '--candidates', '4', '--header-json', header, '--out', out, '--dpi', '60']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('c-hasil-kwk-perolehan-4-v1');
    const meta = await sharp(out).metadata();
    expect(meta.width).toBe(pageSizePx(templateFor('perolehan', 4), 60).width);
    const bad = rekap(['form', 'render', '--page', 'administrasi', '--header-json', '{"provinsi": 3}', '--out', join(dir, 'y.png')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--header-json: provinsi/);
  }, 300_000);

  it('refuses bad arguments with one clear line and exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--contest', 'pkwkp-99x', '--tps', tpsCode, '--page', 'perolehan', '--out', join(dir, 'x.png')], /unknown contest "pkwkp-99x"/],
      [['--contest', contestId, '--tps', otherTps, '--page', 'perolehan', '--out', join(dir, 'x.png')], /(unknown TPS|is not in the area)/],
      [['--contest', contestId, '--tps', '12', '--page', 'perolehan', '--out', join(dir, 'x.png')], /13 digits/],
      [['--contest', contestId, '--tps', tpsCode, '--page', 'hal3', '--out', join(dir, 'x.png')], /--page must be/],
      [['--contest', contestId, '--tps', tpsCode, '--page', 'perolehan', '--out', join(dir, 'x.gif')], /\.png or \.pdf/],
    ];
    for (const [args, msg] of cases) {
      const r = rekap(['form', 'render', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
  }, 300_000);
});

describe('rekap synth', () => {
  it('writes photos and ground truth for TPS of the contest, with the register voters on the form', async () => {
    const out = join(dir, 'synth');
    // One photo per child process: the sliced path (each child attaches to the same database).
    const r = rekap(['synth', '--contest', contestId, '--n', '2', '--out', out, '--seed', '5', '--page', 'both', '--photos-per-process', '1']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ n: 2, contest: contestId });
    const files = readdirSync(out).sort();
    expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(2);
    const truths = files.filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as GroundTruth);
    expect(truths.map((t) => t.page)).toEqual(['administrasi', 'perolehan']);
    expect(truths[0]!.kode_tps).toBe(truths[1]!.kode_tps);
    const code = truths[0]!.kode_tps;
    expect(code.startsWith('62')).toBe(true);
    const [t] = await db.sql<{ l: number; p: number }[]>`select voters_l as l, voters_p as p from tps where code = ${code}`;
    expect([truths[0]!.values.pemilih_dpt_l, truths[0]!.values.pemilih_dpt_p]).toEqual([t!.l, t!.p]);
    expect(truths[1]!.paslon_ids).toHaveLength(candidateCount);
    expect(truths[1]!.templateId).toBe(`c-hasil-kwk-perolehan-${candidateCount}-v1`);
  }, 300_000);

  it('same seed → the same files, byte for byte (offline mode)', () => {
    const runs = ['a', 'b'].map((k) => {
      const out = join(dir, `det-${k}`);
      const r = rekap(['synth', '--contest', 'pkwkk-6201', '--no-db', '--candidates', '1', '--n', '1', '--page', 'perolehan', '--seed', '42', '--mistakes', '0.5', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      return Object.fromEntries(readdirSync(out).map((f) => [f, createHash('sha256').update(readFileSync(join(out, f))).digest('hex')]));
    });
    expect(Object.keys(runs[0]!)).toHaveLength(2);
    expect(runs[1]).toEqual(runs[0]);
  }, 300_000);

  it('a run cut into child processes writes the same files as one process, and one summary', () => {
    const hashes = (out: string) => Object.fromEntries(readdirSync(out).map((f) => [f, createHash('sha256').update(readFileSync(join(out, f))).digest('hex')]));
    const args = ['synth', '--contest', 'pkwkp-62', '--no-db', '--candidates', '2', '--n', '3', '--seed', '7', '--mistakes', '0.5'];
    const one = rekap([...args, '--out', join(dir, 'one')]);
    const sliced = rekap([...args, '--out', join(dir, 'sliced'), '--photos-per-process', '2']);
    expect(one.code, one.stderr).toBe(0);
    expect(sliced.code, sliced.stderr).toBe(0);
    expect(Object.keys(hashes(join(dir, 'one')))).toHaveLength(6);
    expect(hashes(join(dir, 'sliced'))).toEqual(hashes(join(dir, 'one')));
    const summary = (out: string) => {
      const { msPerPhoto: _ms, out: _out, ...rest } = JSON.parse(out.trim().split('\n').pop()!);
      return rest;
    };
    expect(sliced.stdout.trim().split('\n')).toHaveLength(1);
    expect(summary(sliced.stdout)).toEqual(summary(one.stdout));
  }, 300_000);

  it('refuses bad arguments with exit 2', () => {
    const r1 = rekap(['synth', '--contest', contestId, '--n', '2', '--out', join(dir, 's2'), '--mistakes', '1.5']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--mistakes must be a share/);
    const r2 = rekap(['synth', '--contest', 'nope', '--n', '1', '--out', join(dir, 's3')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown contest "nope"/);
  }, 300_000);
});
