/**
 * Security headers (helmet + CSP), CORS only on the public feeds, and rate limits stored in PostgreSQL:
 * 429 + Retry-After per IP and per token, the budget shared by two API nodes on one database, and the
 * Socket.IO handshake refused past its budget. Runs against the real API on a private database copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { createUserWithToken } from '../../db/repositories/tokens.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureClientBuilt, startTestServer, type TestServer } from '../support/server.js';

let db: TestDatabase;
let a: TestServer;
let b: TestServer;
const LIMIT_IP = 12;
const LIMIT_TOKEN = 5;
const HANDSHAKES = 4;

beforeAll(async () => {
  ensureClientBuilt();
  db = await createTestDatabase('kalteng', { max: 10 });
  const env = { REKAP_RATE_PER_IP: String(LIMIT_IP), REKAP_RATE_PER_TOKEN: String(LIMIT_TOKEN), REKAP_RATE_HANDSHAKES_PER_IP: String(HANDSHAKES), REKAP_RATE_WINDOW_SECONDS: '3600', REKAP_RATE_EXEMPT_LOOPBACK: '0' };
  a = await startTestServer({ db, env, apiOptions: { socketAdapter: false } });
  b = await startTestServer({ db, env, apiOptions: { socketAdapter: false } });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.close();
});

/** Rate-limit counters are per window; each test starts from a clean table so budgets are exact. */
const resetCounters = () => db.sql`delete from rate_limits`;

describe('security headers', () => {
  it('sends CSP, nosniff, frame denial on the dashboard and the API', async () => {
    await resetCounters();
    for (const path of ['/', '/area/62', '/api/areas']) {
      const res = await fetch(a.url + path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('lets the embeds be framed by any site, and only them', async () => {
    await resetCounters();
    for (const path of ['/embed/map', '/embed/scoreboard']) {
      const res = await fetch(a.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain('frame-ancestors *');
      expect(res.headers.get('x-frame-options')).toBeNull();
    }
  });
});

describe('CORS', () => {
  it('allows cross-origin GET on the public feeds, without credentials', async () => {
    await resetCounters();
    const res = await fetch(`${a.url}/api/results/pkwkp-62/62`, { headers: { Origin: 'https://news.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await fetch(`${a.url}/api/changes`, { method: 'OPTIONS', headers: { Origin: 'https://news.example', 'Access-Control-Request-Method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
  });

  it('sends no CORS header on operator routes and refuses their preflight', async () => {
    await resetCounters();
    const res = await fetch(`${a.url}/api/cases`, { headers: { Origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${a.url}/api/submissions`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(403);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect((await pre.json()).error.code).toBe('cors_not_allowed');
  });
});

describe('rate limits (PostgreSQL, shared by nodes)', () => {
  it('answers 429 with Retry-After once the per-IP budget is spent across two nodes', async () => {
    await resetCounters();
    const statuses: number[] = [];
    // Alternate nodes: the budget is one, not one per node.
    for (let i = 0; i < LIMIT_IP + 3; i++) statuses.push((await fetch(`${(i % 2 ? b : a).url}/api/areas/62`)).status);
    expect(statuses.slice(0, LIMIT_IP).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(LIMIT_IP)).toEqual([429, 429, 429]);
    const res = await fetch(`${a.url}/api/areas/62`);
    expect(res.status).toBe(429);
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(3600);
    const body = await res.json();
    expect(body.error.code).toBe('rate_limited');
    // Health stays reachable for load balancers.
    expect((await fetch(`${a.url}/api/health`)).status).toBe(200);
    const [row] = await db.sql<{ count: number }[]>`select sum(count)::int as count from rate_limits where key like 'ip:%'`;
    expect(row.count).toBe(LIMIT_IP + 4);
  });

  it('counts each bearer token on its own budget', async () => {
    await resetCounters();
    const t1 = await createUserWithToken(db.sql, { name: 'rl-1', role: 'bawaslu', scopeCode: null });
    const t2 = await createUserWithToken(db.sql, { name: 'rl-2', role: 'bawaslu', scopeCode: null });
    const get = (t: string) => fetch(`${a.url}/api/findings`, { headers: { Authorization: `Bearer ${t}` } }).then((r) => r.status);
    const s1: number[] = [];
    for (let i = 0; i < LIMIT_TOKEN + 1; i++) s1.push(await get(t1.token));
    expect(s1.slice(0, LIMIT_TOKEN).every((s) => s === 200)).toBe(true);
    expect(s1[LIMIT_TOKEN]).toBe(429);
    // Another token from the same address still has its budget (the IP budget is larger).
    expect(await get(t2.token)).toBe(200);
  });

  it('refuses Socket.IO handshakes past the per-IP handshake budget', async () => {
    await resetCounters();
    const outcomes: string[] = [];
    for (let i = 0; i < HANDSHAKES + 2; i++) {
      const s = ioClient(a.url, { transports: ['websocket'], reconnection: false, timeout: 5000 });
      outcomes.push(await new Promise<string>((resolve) => {
        s.on('connect', () => resolve('ok'));
        s.on('connect_error', () => resolve('refused'));
      }));
      s.close();
    }
    expect(outcomes).toEqual([...Array(HANDSHAKES).fill('ok'), 'refused', 'refused']);
  });

  it('counts the forwarded address behind a local proxy, each client on its own budget', async () => {
    await resetCounters();
    const get = (ip: string) => fetch(`${a.url}/api/areas/62`, { headers: { 'X-Forwarded-For': ip } }).then((r) => r.status);
    for (let i = 0; i < LIMIT_IP; i++) expect(await get('203.0.113.7')).toBe(200);
    expect(await get('203.0.113.7')).toBe(429);
    expect(await get('198.51.100.9')).toBe(200);
  });
});
