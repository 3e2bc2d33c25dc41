// `rekap import sirekap` against a real PostgreSQL, on the real Sirekap DKI sample (1,000 raw records).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(repo, '..', 'shared', 'data', 'results', 'sirekap_tps_raw_dki_sample_2024-02-16.json');

function cli(db: TestDatabase, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'server/cli/main.ts'), 'import', 'sirekap', ...args], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url, REKAP_LOG_LEVEL: 'warn' }, timeout: 240_000,
  });
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  return { status: r.status, stderr: r.stderr, json: lines.length ? JSON.parse(lines[lines.length - 1]) : null };
}

type Raw = { chart: Record<string, number | null> | null; administrasi: Record<string, number> | null };

describe.skipIf(!existsSync(SAMPLE))('rekap import sirekap', () => {
  let db: TestDatabase;
  const sample = existsSync(SAMPLE) ? (JSON.parse(readFileSync(SAMPLE, 'utf8')) as { tps: Record<string, Raw> }) : { tps: {} };
  // Computed here, independently of the importer: Σ chart ≠ suara_sah, and records consistent in every identity.
  const sumOf = (c: Record<string, number | null>) => Object.entries(c).filter(([k, v]) => k !== 'null' && v !== null).reduce((s, [, v]) => s + (v as number), 0);
  const h1 = Object.entries(sample.tps).filter(([, r]) => r.chart && r.administrasi && sumOf(r.chart) !== r.administrasi.suara_sah).map(([c]) => c).sort();
  const consistent = Object.entries(sample.tps).filter(([, r]) => {
    if (!r.chart || !r.administrasi) return false;
    const a = r.administrasi;
    const lpj = ['pemilih_dpt', 'pengguna_dpt', 'pengguna_dptb', 'pengguna_non_dpt', 'pengguna_total'].every((k) => a[`${k}_l`] + a[`${k}_p`] === a[`${k}_j`]);
    const lists = ['l', 'p', 'j'].every((s) => a[`pengguna_dpt_${s}`] + a[`pengguna_dptb_${s}`] + a[`pengguna_non_dpt_${s}`] === a[`pengguna_total_${s}`]);
    return sumOf(r.chart) === a.suara_sah && a.suara_sah + a.suara_tidak_sah === a.suara_total && a.pengguna_total_j === a.suara_total
      && lpj && lists && a.pengguna_dpt_j <= a.pemilih_dpt_j;
  }).map(([c]) => c);

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
  });
  afterAll(async () => {
    await db?.close();
  });

  const snapshot = async () => {
    const [s] = await db.sql`select count(*)::int as n, max(imported_at) as t, md5(string_agg(values::text, ',' order by tps_code)) as h from source_results`;
    const [a] = await db.sql`select count(*)::int as n, max(updated_at) as t, md5(string_agg(dedupe_key || status || severity::text, ',' order by id)) as h from anomalies`;
    const [c] = await db.sql`select count(*)::int as n, max(updated_at) as t, md5(string_agg(state || severity::text, ',' order by id)) as h from cases`;
    const [l] = await db.sql`select count(*)::int as n from audit_log`;
    return { s, a, c, l };
  };

  it('flags exactly the TPS whose candidate sum differs from suara_sah, and no consistent TPS', async () => {
    expect(h1).toHaveLength(28); // SOURCE.md says so; the test recomputes it
    expect(consistent.length).toBeGreaterThan(0);
    const r = cli(db, SAMPLE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.files).toBe(1);
    // Records with no number at all (chart of nulls, no administrasi) carry nothing to import.
    const withData = Object.values(sample.tps).filter((x) => Object.entries(x.chart ?? {}).some(([k, v]) => k !== 'null' && v !== null) || Object.keys(x.administrasi ?? {}).length > 0);
    expect(r.json.tps).toBe(withData.length);
    expect(r.json.findings.H1).toEqual(h1);
    const flagged = new Set(Object.values(r.json.findings as Record<string, string[]>).flat());
    expect(consistent.filter((c) => flagged.has(c))).toEqual([]);
    expect(flagged.has('3101011001005')).toBe(false); // SOURCE.md's clean fixture

    const [{ n }] = await db.sql`select count(*)::int as n from source_results where source = 'kpu' and contest_id = 'ppwp'`;
    expect(n).toBe(r.json.tps);
    const [contest] = await db.sql`select type from contests where id = 'ppwp'`;
    expect(contest.type).toBe('ppwp');
    // Every H1 finding has a case, with the source record as evidence.
    const rows = await db.sql`select c.tps_code, a.detail from cases c join anomalies a on a.tps_code = c.tps_code and a.contest_id = c.contest_id and a.rule = 'H1' order by c.tps_code`;
    expect(rows.map((x) => x.tps_code)).toEqual(h1);
    expect(rows[0].detail.evidence[0]).toMatch(/^source:kpu\/.*#\d{13}$/);
  });

  it('importing the same file twice changes nothing', async () => {
    const before = await snapshot();
    const r = cli(db, SAMPLE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.findings.H1).toEqual(h1);
    expect(await snapshot()).toEqual(before);
  });

  it('reports malformed files and records one by one and imports the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sirekap-'));
    writeFileSync(join(dir, 'a-broken.json'), '{"tps": {"3101011001001": ');
    writeFileSync(join(dir, 'b-shape.json'), JSON.stringify([1, 2, 3]));
    writeFileSync(join(dir, 'c-records.json'), JSON.stringify({ tps: {
      '3173011001001': { chart: { null: null, '100025': 10, '100026': 20, '100027': -5 }, administrasi: null },
      '31730110010': { chart: { '100025': 1 }, administrasi: null },
      '3173011001002': { chart: { null: null, '100025': 10, '100026': 20, '100027': 5 }, administrasi: { suara_sah: 40, suara_tidak_sah: 1, suara_total: 41 } },
    } }));
    writeFileSync(join(dir, '3173011001003.json'), JSON.stringify({ chart: { null: null, '100025': 1, '100026': 2, '100027': 3 }, administrasi: { suara_sah: 6, suara_tidak_sah: 0, suara_total: 6 } }));
    const r = cli(db, dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/a-broken\.json: skipped file: not valid JSON/);
    expect(r.stderr).toMatch(/b-shape\.json: skipped file/);
    expect(r.stderr).toMatch(/c-records\.json: skipped record: TPS 3173011001001: chart\["100027"\] = -5/);
    expect(r.stderr).toMatch(/"31730110010" is not a 13-digit TPS code/);
    expect(r.json).toEqual({ files: 2, tps: 2, findings: { H1: ['3173011001002'] } });
  });

  it('M1: a photo read that disagrees with the KPU record is a source mismatch', async () => {
    const code = '3101011001005';
    const kpu = sample.tps[code];
    await db.sql`insert into tps_results (tps_code, contest_id, version, stage, status, is_current, values, votes, rules)
      values (${code}, 'ppwp', 1, 'machine', 'published', true, ${JSON.stringify({ ...kpu.chart, null: undefined, '100026': (kpu.chart!['100026'] as number) + 100 })}::jsonb, '{}'::jsonb, '[]'::jsonb)`;
    const r = cli(db, SAMPLE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.findings.M1).toEqual([code]);
    const [f] = await db.sql`select kind, impact_votes, detail from anomalies where rule = 'M1' and tps_code = ${code}`;
    expect(f.kind).toBe('SOURCE_MISMATCH');
    expect(f.impact_votes).toBe(100);
  });

  it('a path that does not exist is a clear CLI error', () => {
    const r = cli(db, '/nonexistent/sirekap');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no such file or directory/);
  });
});
