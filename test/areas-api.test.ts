/** The areas API over HTTP, on a private copy of the Kalimantan Tengah database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createApp } from '../server/http/app.js';
import { loadConfig } from '../server/config.js';
import type { AreaResponse } from '../server/contract/index.js';

const shared = fileURLToPath(new URL('../../shared/data/', import.meta.url));

describe('GET /api/areas', () => {
  let db: TestDatabase;
  let server: Server;
  let base: string;
  const logged: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('kalteng');
    const config = loadConfig({ DATABASE_URL: db.url, REKAP_SERVE_CLIENT: '0', PORT: '0', HOST: '127.0.0.1' });
    const app = createApp({ config, database: db, log: (msg, err) => logged.push([msg, err]) });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  };

  it('GET /api/areas/62 lists the 14 kab/kota whose TPS add up to 4,446', async () => {
    const { status, body } = await get('/api/areas/62');
    expect(status).toBe(200);
    const area = body as unknown as AreaResponse;
    expect(area.area).toMatchObject({ code: '62', level: 1, name: 'Kalimantan Tengah' });
    expect(area.children).toHaveLength(14);
    expect(area.children.every((c) => c.level === 2 && c.code.startsWith('62') && c.code.length === 4)).toBe(true);
    expect(area.children.reduce((n, c) => n + c.tpsCount, 0)).toBe(4446);
    expect(area.tpsCount).toBe(4446);
    // Kotawaringin Barat: KPU's bupati race file says 413 TPS.
    const kpu = JSON.parse(readFileSync(`${shared}pilkada2024/pkwkk/62/6201.json`, 'utf8')).tungsura.chart.progres.total;
    expect(area.children.find((c) => c.code === '6201')?.tpsCount).toBe(kpu);
    expect(area.path.map((p) => p.code)).toEqual(['00']);
    // The governor race of the province is among the tallies, with its real candidates.
    const gov = area.tallies.find((t) => t.contestId === 'pkwkp-62');
    expect(gov?.candidates.map((c) => c.id)).toEqual(['1000048', '1000049', '1000050', '1000051']);
  });

  it('accepts a dotted Kemendagri code and walks down to desa', async () => {
    const { status, body } = await get('/api/areas/62.01.01');
    expect(status).toBe(200);
    const kec = body as unknown as AreaResponse;
    expect(kec.area.code).toBe('620101');
    expect(kec.path.map((p) => p.code)).toEqual(['00', '62', '6201']);
    expect(kec.children.length).toBeGreaterThan(5);
    expect(kec.children.reduce((n, c) => n + c.tpsCount, 0)).toBe(kec.tpsCount);
  });

  it('GET /api/areas/00 lists the 38 provinces', async () => {
    const { status, body } = await get('/api/areas/00');
    expect(status).toBe(200);
    const national = body as unknown as AreaResponse;
    expect(national.children).toHaveLength(38);
    expect(national.children.every((c) => c.level === 1 && c.code.length === 2)).toBe(true);
    expect(national.children.find((c) => c.code === '62')?.tpsCount).toBe(4446);
    expect(national.children.filter((c) => c.tpsCount > 0).map((c) => c.code)).toEqual(['62']);
  });

  it('answers an unknown code with 404 JSON naming it', async () => {
    const { status, type, body } = await get('/api/areas/6299');
    expect(status).toBe(404);
    expect(type).toContain('application/json');
    expect(body.error).toMatchObject({ code: 'area_not_found' });
    expect(String((body.error as { message: string }).message)).toContain('6299');
  });

  it('answers a malformed code with 400 JSON naming it', async () => {
    for (const bad of ['62x', '123', "62'%20or%201=1"]) {
      const { status, type, body } = await get(`/api/areas/${bad}`);
      expect(status, bad).toBe(400);
      expect(type).toContain('application/json');
      expect(body.error).toMatchObject({ code: 'invalid_area_code' });
    }
  });

  it('GET /api/health is 200 with the database reachable', async () => {
    const { status, body } = await get('/api/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, database: 'ok' });
    expect(logged).toEqual([]);
  });
});
