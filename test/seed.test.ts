/**
 * Seeding against a real PostgreSQL. Expected figures are computed here from ../shared/data
 * (the public sources), not from db/data, so a wrong build or a wrong seed both fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { feature } from 'topojson-client';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { ensureSeeded, planTps, SeedConflictError } from '../db/seed/index.js';
import type { Sql } from '../db/client.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = fileURLToPath(new URL('../../shared/data/', import.meta.url));
const sharedJson = <T>(rel: string): T => JSON.parse(readFileSync(join(shared, rel), 'utf8')) as T;
const csvLines = (rel: string) => readFileSync(join(shared, rel), 'utf8').trim().split('\n').length - 1;

interface Hhcw { tungsura: { chart: { progres: { total: number } }; table: Record<string, { progres: { total: number } }> } }

/** KPU's Pilkada TPS per kecamatan of Kalimantan Tengah: progres.total in the governor race's kab/kota files. */
function kpuKecamatanTps(prov: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of readdirSync(join(shared, 'pilkada2024/pkwkp', prov)).filter((x) => /^\d{4}\.json$/.test(x))) {
    const file = sharedJson<Hhcw>(`pilkada2024/pkwkp/${prov}/${f}`);
    for (const [code, row] of Object.entries(file.tungsura.table)) out.set(code, row.progres.total);
  }
  return out;
}

/** A fingerprint of every row's content and physical version (xmin changes on any UPDATE, even to equal values). */
async function fingerprint(sql: Sql) {
  const [r] = await sql`
    select (select md5(string_agg(code || ':' || xmin::text, ',' order by code)) from areas) as areas,
           (select md5(string_agg(code || ':' || xmin::text || ':' || voters_l || ':' || voters_p, ',' order by code)) from tps) as tps,
           (select md5(string_agg(id || ':' || xmin::text || ':' || tps_expected, ',' order by id)) from contests) as contests,
           (select md5(string_agg(id || ':' || xmin::text, ',' order by id)) from candidates) as candidates,
           (select md5(string_agg(key || ':' || value || ':' || updated_at::text, ',' order by key)) from meta) as meta`;
  return r;
}

const tpsContent = (sql: Sql) =>
  sql<{ code: string; votersL: number; votersP: number; isSpecial: boolean }[]>`
    select code, voters_l as "votersL", voters_p as "votersP", is_special as "isSpecial" from tps order by code`;

describe('seed (Kalimantan Tengah template)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('holds every Kemendagri area with the source counts, codes without dots', async () => {
    const rows = await db.sql<{ level: number; n: number }[]>`select level, count(*)::int as n from areas group by level order by level`;
    expect(rows.map((r) => r.n)).toEqual([38, 514, 7285, 83762]);
    // The same counts as the source lists, so a dropped or duplicated row shows up.
    expect(rows.map((r) => r.n)).toEqual(['provinces', 'regencies', 'districts', 'villages'].map((f) => csvLines(`wilayah/${f}.csv`)));
    const [desa] = await db.sql`select name, parent_code, level, lat, lon from areas where code = '6201011013'`;
    expect(desa).toMatchObject({ name: 'Kumai Hilir', parent_code: '620101', level: 4 });
    expect(desa.lat).toBeLessThan(0);
    expect(desa.lon).toBeGreaterThan(110);
    const [bad] = await db.sql`select count(*)::int as n from areas where code like '%.%' or (level > 1 and left(code, length(parent_code)) <> parent_code)`;
    expect(bad.n).toBe(0);
  });

  it('seeds Kalimantan Tengah: 14 kab/kota and KPU\'s 4,446 Pilkada TPS, nothing elsewhere', async () => {
    const [kab] = await db.sql`select count(*)::int as n from areas where parent_code = '62'`;
    expect(kab.n).toBe(14);
    const kpuTotal = sharedJson<Hhcw>('pilkada2024/pkwkp/62/62.json').tungsura.chart.progres.total;
    expect(kpuTotal).toBe(4446);
    const [t] = await db.sql`select count(*)::int as n, count(*) filter (where prov_code <> '62')::int as outside from tps`;
    expect(t.n).toBe(kpuTotal);
    expect(t.outside).toBe(0);
  });

  it("gives every kecamatan exactly KPU's Pilkada TPS count", async () => {
    const expected = kpuKecamatanTps('62');
    expect(expected.size).toBe(136);
    const rows = await db.sql<{ kec: string; n: number }[]>`select kec_code as kec, count(*)::int as n from tps group by 1`;
    const actual = new Map(rows.map((r) => [r.kec, r.n]));
    const wrong = [...expected].filter(([code, n]) => actual.get(code) !== n).map(([code, n]) => `${code}: expected ${n}, got ${actual.get(code) ?? 0}`);
    expect(wrong).toEqual([]);
    expect([...actual.keys()].filter((k) => !expected.has(k))).toEqual([]);
  });

  it('places TPS in real desa with consistent codes and realistic registers', async () => {
    const [r] = await db.sql`
      select count(*)::int as n,
             count(*) filter (where t.code <> t.desa_code || lpad(t.number::text, 3, '0'))::int as bad_code,
             count(*) filter (where a.code is null or a.level <> 4 or a.parent_code <> t.kec_code
                               or left(t.kec_code, 4) <> t.kab_code or left(t.kab_code, 2) <> t.prov_code)::int as bad_area,
             max(voters_l + voters_p)::int as max_voters, min(voters_l + voters_p)::int as min_voters,
             avg(voters_l + voters_p)::float as mean_voters,
             sum(voters_l)::float / sum(voters_l + voters_p) as share_l,
             count(*) filter (where is_special)::int as special,
             count(*) filter (where is_special <> (number >= 900))::int as bad_special,
             count(distinct desa_code)::int as desa
      from tps t left join areas a on a.code = t.desa_code`;
    expect(r.bad_code).toBe(0);
    expect(r.bad_area).toBe(0);
    expect(r.max_voters).toBeLessThanOrEqual(600);
    expect(r.min_voters).toBeGreaterThan(0);
    // Kalimantan Tengah: ~1.9 M voters over 4,446 TPS, i.e. a few hundred per TPS; L/P close to even.
    expect(r.mean_voters).toBeGreaterThan(250);
    expect(r.mean_voters).toBeLessThan(560);
    expect(r.share_l).toBeGreaterThan(0.47);
    expect(r.share_l).toBeLessThan(0.54);
    // KPU's Pemilu 2024 list has 51 special-location TPS (9xx) in the province: some carry over.
    expect(r.special).toBeGreaterThan(0);
    expect(r.special).toBeLessThanOrEqual(51);
    expect(r.bad_special).toBe(0);
    // Nearly every one of the 1,571 desa has a polling station.
    expect(r.desa).toBeGreaterThan(1500);
  });

  it('stores all 545 Pilkada 2024 races with KPU candidates, and the four real governor pairs of Kalimantan Tengah', async () => {
    const [e] = await db.sql`select kind, polling_date::text as date, is_practice from elections where id = 'pilkada2024'`;
    expect(e).toEqual({ kind: 'pilkada', date: '2024-11-27', is_practice: false });
    const [c] = await db.sql`select count(*)::int as n, count(*) filter (where type = 'pkwkp')::int as gov, count(*) filter (where type = 'pkwkk')::int as kab from contests where election_id = 'pilkada2024'`;
    expect(c).toEqual({ n: 545, gov: 37, kab: 508 });

    const paslon = sharedJson<Record<string, Record<string, { nama: string; nomor_urut: number; warna: string }>>>('pilkada2024/paslon/pkwkp.json')['62'];
    const rows = await db.sql`select id, number, head_name, deputy_name, colour, is_empty_column from candidates where contest_id = 'pkwkp-62' order by number`;
    expect(rows.map((r) => r.id)).toEqual(['1000048', '1000049', '1000050', '1000051']);
    for (const r of rows) {
      const src = paslon[r.id];
      expect(r.number).toBe(src.nomor_urut);
      expect(`${r.head_name} - ${r.deputy_name}`).toBe(src.nama);
      expect(r.colour.toLowerCase()).toBe(src.warna.toLowerCase());
      expect(r.is_empty_column).toBe(false);
    }
    const [{ name }] = await db.sql`select name from contests where id = 'pkwkp-62'`;
    expect(name).toContain('Kalimantan Tengah');

    const [ids] = await db.sql`select count(*) filter (where id !~ '^[0-9]{7}$')::int as bad, count(*)::int as n from candidates`;
    expect(ids.bad).toBe(0);
    // Every single-pair race carries its "kolom kosong" column, and no race has fewer than two columns.
    const [k] = await db.sql`
      select count(*) filter (where real = 1 and empty = 0)::int as missing_empty, count(*) filter (where real + empty < 2)::int as too_few
      from (select contest_id, count(*) filter (where not is_empty_column) as real, count(*) filter (where is_empty_column) as empty
            from candidates group by contest_id) x`;
    expect(k).toEqual({ missing_empty: 0, too_few: 0 });
  });

  it('sets tps_expected per race from the seeded TPS (KPU figures in scope, zero outside)', async () => {
    const expected = sharedJson<Hhcw>('pilkada2024/pkwkk/62/6201.json').tungsura.chart.progres.total;
    const rows = await db.sql`select id, tps_expected from contests where id in ('pkwkp-62', 'pkwkk-6201', 'pkwkp-11') order by id`;
    expect(Object.fromEntries(rows.map((r) => [r.id, r.tps_expected]))).toEqual({ 'pkwkk-6201': expected, 'pkwkp-11': 0, 'pkwkp-62': 4446 });
  });

  it('records scope and seed in meta, and a second run changes nothing', async () => {
    const meta = Object.fromEntries((await db.sql`select key, value from meta`).map((r) => [r.key, r.value]));
    expect(meta['seed.scope']).toBe('kalteng');
    expect(meta['seed.number']).toBe('2024');
    const before = await fingerprint(db.sql);
    const result = await ensureSeeded(db, { scope: 'kalteng', seed: 2024 }, { log: () => {} });
    expect(result.changed).toBe(false);
    expect(await fingerprint(db.sql)).toEqual(before);
  });

  it('keeps the stored seed when started with another one, and refuses to re-draw voters under results', async () => {
    const before = await fingerprint(db.sql);
    const kept = await ensureSeeded(db, { scope: 'kalteng', seed: 99 }, { log: () => {} });
    expect(kept.seed).toBe(2024);
    expect(await fingerprint(db.sql)).toEqual(before);

    const [tps] = await db.sql`select code from tps order by code limit 1`;
    await db.sql`insert into tps_results (tps_code, contest_id, version, stage, status, values, votes, rules)
                 values (${tps.code}, 'pkwkp-62', 1, 'machine', 'published', '{}', '{}', '[]')`;
    await expect(ensureSeeded(db, { scope: 'kalteng', seed: 99 }, { reseed: true, log: () => {} })).rejects.toBeInstanceOf(SeedConflictError);
    expect(await fingerprint(db.sql)).toEqual(before);
  });

  it('rejects a bad scope or seed number with a clear error', async () => {
    await expect(ensureSeeded(db, { scope: 'jakarta' as never, seed: 1 })).rejects.toThrow(/scope must be one of kalteng, national/);
    await expect(ensureSeeded(db, { scope: 'kalteng', seed: -3 })).rejects.toThrow(/non-negative integer/);
  });
});

describe('seed determinism (fresh databases)', () => {
  let template: TestDatabase;
  let fresh: TestDatabase;
  beforeAll(async () => {
    template = await createTestDatabase('kalteng');
    fresh = await createTestDatabase('empty');
  });
  afterAll(async () => {
    await template?.close();
    await fresh?.close();
  });

  it('same seed gives the same TPS on another database', async () => {
    const result = await ensureSeeded(fresh, { scope: 'kalteng', seed: 2024 }, { log: () => {} });
    expect(result).toMatchObject({ changed: true, tps: 4446 });
    expect(await tpsContent(fresh.sql)).toEqual(await tpsContent(template.sql));
  }, 120_000);

  it('`rekap seed --seed 7` re-draws registered voters on the same TPS and prints a summary', async () => {
    const before = await tpsContent(fresh.sql);
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'server', 'cli', 'main.ts'), 'seed', '--seed', '7'], {
      cwd: root, env: { ...process.env, DATABASE_URL: fresh.url }, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.stderr).not.toContain('unexpected error');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/seeded pilkada2024 \(kalteng, seed 7\).*4,446 TPS/);
    const after = await tpsContent(fresh.sql);
    expect(after.map((t) => t.code)).toEqual(before.map((t) => t.code));
    const changed = after.filter((t, i) => t.votersL !== before[i].votersL || t.votersP !== before[i].votersP).length;
    expect(changed).toBeGreaterThan(after.length * 0.9);
    expect(Math.max(...after.map((t) => t.votersL + t.votersP))).toBeLessThanOrEqual(600);
    const [m] = await fresh.sql`select value from meta where key = 'seed.number'`;
    expect(m.value).toBe('7');
  }, 180_000);

  it('the CLI refuses a bad --scope with exit 2 and a message naming it', () => {
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'server', 'cli', 'main.ts'), 'seed', '--scope', 'mars'], {
      cwd: root, env: { ...process.env, DATABASE_URL: fresh.url }, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--scope must be one of kalteng, national');
  }, 120_000);

  it('plans every KPU Pilkada TPS nationally (no TPS lost or duplicated), Kalimantan Tengah identical in both scopes', () => {
    const national = planTps('national', 2024);
    // KPU's governor-race total plus DI Yogyakarta (no governor race; its TPS come from the bupati/walikota files).
    const gov = sharedJson<Hhcw>('pilkada2024/pkwkp/0.json').tungsura.chart.progres.total;
    const diy = readdirSync(join(shared, 'pilkada2024/pkwkk/34')).filter((f) => /^\d{4}\.json$/.test(f))
      .reduce((n, f) => n + sharedJson<Hhcw>(`pilkada2024/pkwkk/34/${f}`).tungsura.chart.progres.total, 0);
    expect(existsSync(join(shared, 'pilkada2024/pkwkp/34'))).toBe(false);
    expect(national.code.length).toBe(gov + diy);
    expect(new Set(national.code).size).toBe(national.code.length);
    const kalteng = planTps('kalteng', 2024);
    const start = national.code.indexOf(kalteng.code[0]);
    expect(national.code.slice(start, start + kalteng.code.length)).toEqual(kalteng.code);
    expect(national.votersL.slice(start, start + kalteng.code.length)).toEqual(kalteng.votersL);
  }, 120_000);
});

describe('shipped boundaries (client/public/geo)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
  });
  afterAll(async () => {
    await db?.close();
  });

  const geo = (file: string) => {
    const path = join(root, 'client/public/geo', file);
    const topo = JSON.parse(readFileSync(path, 'utf8'));
    const fc = feature(topo, topo.objects.areas) as unknown as { features: { properties: { code: string; name: string }; geometry: unknown }[] };
    return { bytes: statSync(path).size, features: fc.features };
  };
  const codesAt = async (level: number, prefix = '') =>
    (await db.sql<{ code: string }[]>`select code from areas where level = ${level} and code like ${prefix + '%'} order by code`).map((r) => r.code);

  it('cover exactly the seeded areas, keyed by the same codes, with geometry for every feature', async () => {
    const index = JSON.parse(readFileSync(join(root, 'client/public/geo/index.json'), 'utf8'));
    const files: [string, number, string][] = [
      [index.provinces, 1, ''],
      [index.kabkota, 2, ''],
      ...index.kecamatan.map((f: string) => [f, 3, /kecamatan-(\d{2})/.exec(f)![1]] as [string, number, string]),
      ...index.desa.map((f: string) => [f, 4, /desa-(\d{2})/.exec(f)![1]] as [string, number, string]),
    ];
    expect(index.kecamatan).toHaveLength(38);
    expect(index.desa).toContain('desa-62.json');
    for (const [file, level, prefix] of files) {
      const { features } = geo(file);
      expect(features.map((f) => f.properties.code).sort(), file).toEqual(await codesAt(level, prefix));
      expect(features.filter((f) => !f.geometry).length, file).toBe(0);
    }
  }, 120_000);

  it('stay small enough to load fast (national kab/kota under 1.5 MB)', () => {
    expect(geo('kabkota.json').bytes).toBeLessThan(1.5e6);
    expect(geo('provinsi.json').bytes).toBeLessThan(1e6);
    expect(geo('desa-62.json').bytes).toBeLessThan(1e6);
  });
});
