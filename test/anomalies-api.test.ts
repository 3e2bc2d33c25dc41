/** The public anomaly feed and the client settings, over HTTP on a seeded database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createApp } from '../server/http/app.js';
import { loadConfig } from '../server/config.js';
import { createUserWithToken } from '../db/repositories/tokens.js';

describe('GET /api/anomalies and /api/client-config', () => {
  let db: TestDatabase;
  let server: Server;
  let base: string;
  let bawasluToken: string;

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_SERVE_CLIENT: '0', PORT: '0', HOST: '127.0.0.1', REKAP_TILE_URL: 'https://tiles.example/{z}/{x}/{y}.png' });
    server = createServer(createApp({ config, database: db, log: () => {} }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    bawasluToken = (await createUserWithToken(db.sql, { name: 'Analis Bawaslu', role: 'bawaslu', scopeCode: null })).token;
    const tps = '6201011013001';
    await db.sql`
      insert into anomalies (dedupe_key, rule, kind, contest_id, tps_code, area_code, severity, detail) values
        ('t-h1', 'H1', 'hard_rule', 'pkwkp-62', ${tps}, '6201011013', 80, '{"message":"sum differs"}'::jsonb),
        ('t-sib', 'SIBLING', 'statistical', 'pkwkp-62', ${tps}, '6201011013', 40, '{"message":"share outlier"}'::jsonb),
        ('t-other', 'H2', 'hard_rule', 'pkwkp-62', '6202011001001', '6202011001', 30, '{}'::jsonb)`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  const get = async (path: string, token?: string) => {
    const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as { total?: number; anomalies?: { rule: string; tpsCode: string }[]; error?: { code: string } } & Record<string, unknown> };
  };

  it('shows the public only deterministic findings, filtered by area', async () => {
    const all = await get('/api/anomalies');
    expect(all.status).toBe(200);
    expect(all.body.anomalies!.map((a) => a.rule).sort()).toEqual(['H1', 'H2']);
    const kobar = await get('/api/anomalies?area=6201');
    expect(kobar.body.anomalies!.map((a) => a.rule)).toEqual(['H1']);
  });

  it('shows investigators the statistical findings too', async () => {
    const r = await get('/api/anomalies?area=6201', bawasluToken);
    expect(r.body.anomalies!.map((a) => a.rule).sort()).toEqual(['H1', 'SIBLING']);
  });

  it('answers bad parameters with 400 JSON', async () => {
    expect((await get('/api/anomalies?area=abc')).body.error!.code).toBe('invalid_area_code');
    expect((await get('/api/anomalies?limit=0')).status).toBe(400);
  });

  it('counts active findings per child area for the map, public and investigator views', async () => {
    const nat = (await get('/api/anomalies/counts')).body as unknown as { counts: Record<string, number> };
    expect(nat.counts).toEqual({ '62': 2 });
    const prov = (await get('/api/anomalies/counts?area=62')).body as unknown as { counts: Record<string, number> };
    expect(prov.counts).toEqual({ '6201': 1, '6202': 1 });
    const inv = (await get('/api/anomalies/counts?area=6201', bawasluToken)).body as unknown as { counts: Record<string, number> };
    expect(inv.counts).toEqual({ '620101': 2 });
    const desa = (await get('/api/anomalies/counts?area=6201011013')).body as unknown as { counts: Record<string, number> };
    expect(desa.counts).toEqual({ '6201011013001': 1 });
    expect((await get('/api/anomalies/counts?area=62x')).status).toBe(400);
  });

  it('passes the optional tile URL to the dashboard', async () => {
    const r = await get('/api/client-config');
    expect(r.body.tileUrl).toBe('https://tiles.example/{z}/{x}/{y}.png');
  });
});
