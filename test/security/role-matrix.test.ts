/**
 * Role × endpoint × area matrix (RELIABILITY §8, ASVS V8): every cell is asserted allow or deny against
 * the real API. "Allow" means authorisation passed (the route answered anything but 401/403: a 400 for
 * an empty body is still an allow); "deny" means 401 without a token, 403 with one. Areas: each scoped
 * actor is tried on a TPS inside and a TPS outside its scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithToken, type Role } from '../../db/repositories/tokens.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const CONTEST = 'pkwkp-62';
let tpsIn = '';
let tpsOut = '';
const tokens: Record<string, string | null> = { public: null };

/** Actors: [name, role, scope]; scope 'IN_TPS' / 'IN_KAB' / 'OUT_KAB' are resolved from the seed. */
const ACTORS: [string, Role, 'IN_TPS' | 'IN_KAB' | 'OUT_KAB' | null][] = [
  ['kpps', 'kpps', 'IN_TPS'],
  ['kpu_operator', 'kpu_operator', 'IN_KAB'],
  ['kpu_operator_other', 'kpu_operator', 'OUT_KAB'],
  ['kpu_reviewer', 'kpu_reviewer', 'IN_KAB'],
  ['kpu_reviewer_other', 'kpu_reviewer', 'OUT_KAB'],
  ['bawaslu', 'bawaslu', null],
  ['admin', 'admin', null],
];
const WHO = ['public', ...ACTORS.map((a) => a[0])];

beforeAll(async () => {
  server = await startTestServer({ template: 'kalteng', env: { REKAP_RATE_PER_TOKEN: '0', REKAP_RATE_PER_IP: '0' } });
  const sql = server.db.sql;
  // Two TPS in different kabupaten of the seed.
  const [a] = await sql<{ code: string }[]>`select code from tps where code like '62%' order by code limit 1`;
  const [b] = await sql<{ code: string }[]>`select code from tps where code like '62%' and substr(code, 1, 4) <> ${a.code.slice(0, 4)} order by code limit 1`;
  tpsIn = a.code;
  tpsOut = b.code;
  for (const [name, role, scope] of ACTORS) {
    const scopeCode = scope === 'IN_TPS' ? tpsIn : scope === 'IN_KAB' ? tpsIn.slice(0, 4) : scope === 'OUT_KAB' ? tpsOut.slice(0, 4) : null;
    tokens[name] = (await createUserWithToken(sql, { name: `matrix ${name}`, role, scopeCode })).token;
  }
});

afterAll(async () => {
  await server?.close();
});

type Cell = 'allow' | 'deny';
interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: (tps: string) => string;
  body?: (tps: string) => FormData | string;
  /** Expected verdict per actor for a TPS in the actor's area, and (if the route is TPS-bound) for one outside. */
  cells: Record<string, Cell | [Cell, Cell]>;
}

const ALL_ALLOW = Object.fromEntries(WHO.map((w) => [w, 'allow'])) as Record<string, Cell>;
const only = (...allowed: string[]) => Object.fromEntries(WHO.map((w) => [w, allowed.includes(w) ? 'allow' : 'deny'])) as Record<string, Cell>;
const STAFF = ['kpu_operator', 'kpu_operator_other', 'kpu_reviewer', 'kpu_reviewer_other', 'bawaslu', 'admin'];

function uploadForm(tps: string): FormData {
  const f = new FormData();
  f.set('tps', tps);
  f.set('contest', CONTEST);
  // No photo: an authorised caller gets 400 missing_photo, an unauthorised one 401/403 first.
  return f;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'read areas', method: 'GET', path: () => '/api/areas/62', cells: ALL_ALLOW },
  { name: 'read results feed', method: 'GET', path: () => `/api/results/${CONTEST}/62`, cells: ALL_ALLOW },
  { name: 'read a TPS', method: 'GET', path: (t) => `/api/tps/${t}`, cells: ALL_ALLOW },
  { name: 'list findings', method: 'GET', path: () => '/api/findings', cells: only(...STAFF) },
  { name: 'list cases', method: 'GET', path: () => '/api/cases', cells: only(...STAFF) },
  { name: 'list operators', method: 'GET', path: () => '/api/operators?area=62', cells: only(...STAFF) },
  { name: 'who am I', method: 'GET', path: () => '/api/operators/me', cells: only('kpps', ...STAFF) },
  {
    // Quarantine detail: KPU staff within their area, Bawaslu and admins; never the public or a phone.
    name: 'read the review queue', method: 'GET', path: (t) => `/api/review-queue?area=${t.slice(0, 4)}`,
    cells: { ...only(), kpu_operator: ['allow', 'deny'], kpu_operator_other: ['allow', 'deny'], kpu_reviewer: ['allow', 'deny'], kpu_reviewer_other: ['allow', 'deny'], bawaslu: ['allow', 'allow'], admin: ['allow', 'allow'] },
  },
  { name: 'reset practice', method: 'POST', path: () => '/api/practice/reset', cells: only('admin') },
  {
    name: 'upload a photo', method: 'POST', path: () => '/api/submissions', body: uploadForm,
    cells: { ...only(), kpps: ['allow', 'deny'], kpu_operator: ['allow', 'deny'], kpu_operator_other: ['allow', 'deny'], admin: ['allow', 'allow'] },
  },
  {
    name: 'confirm a TPS result', method: 'POST', path: (t) => `/api/tps/${t}/${CONTEST}/confirm`, body: () => '{}',
    cells: { ...only(), kpps: ['allow', 'deny'], kpu_operator: ['allow', 'deny'], kpu_operator_other: ['allow', 'deny'], admin: ['allow', 'allow'] },
  },
  {
    name: 'propose a correction', method: 'POST', path: (t) => `/api/tps/${t}/${CONTEST}/corrections`, body: () => '{}',
    cells: {
      ...only(), kpu_operator: ['allow', 'deny'], kpu_operator_other: ['allow', 'deny'], kpu_reviewer: ['allow', 'deny'], kpu_reviewer_other: ['allow', 'deny'], admin: ['allow', 'allow'],
    },
  },
];

/** The TPS "in" the actor's area and the one "outside" it (the *_other actors are scoped to tpsOut's kabupaten). */
const areaPair = (who: string): [string, string] => (who.endsWith('_other') ? [tpsOut, tpsIn] : [tpsIn, tpsOut]);

async function call(ep: Endpoint, who: string, tps: string): Promise<{ status: number; code: string | undefined }> {
  const headers: Record<string, string> = {};
  if (tokens[who]) headers.authorization = `Bearer ${tokens[who]}`;
  let body: FormData | string | undefined;
  if (ep.body) {
    body = ep.body(tps);
    if (typeof body === 'string') headers['content-type'] = 'application/json';
  }
  const res = await fetch(server.url + ep.path(tps), { method: ep.method, headers, body });
  const json = await res.json().catch(() => null);
  return { status: res.status, code: json?.error?.code };
}

describe('role × endpoint × area matrix', () => {
  for (const ep of ENDPOINTS) {
    it(ep.name, async () => {
      const failures: string[] = [];
      const seen: string[] = [];
      for (const who of WHO) {
        const cell = ep.cells[who];
        const [inside, outside] = areaPair(who);
        const cases: [string, Cell][] = Array.isArray(cell) ? [[inside, cell[0]], [outside, cell[1]]] : [[inside, cell]];
        for (const [tps, want] of cases) {
          const { status, code } = await call(ep, who, tps);
          const got: Cell = status === 401 || status === 403 ? 'deny' : 'allow';
          seen.push(`${who}@${tps === inside ? 'in' : 'out'}=${status}`);
          if (got !== want) failures.push(`${who} on ${tps === inside ? 'own area' : 'other area'}: expected ${want}, got ${status} ${code ?? ''}`);
          // A denial is explicit and names itself; an allow never hides a server error.
          if (want === 'deny') expect(code, `${ep.name} ${who}`).toMatch(/auth_required|role_not_allowed|tps_out_of_scope|out_of_scope|forbidden/);
          expect(status, `${ep.name} ${who}`).toBeLessThan(500);
          if (who === 'public' && want === 'deny') expect(status).toBe(401);
        }
      }
      expect(failures, seen.join(' ')).toEqual([]);
    });
  }

  it('a revoked token is refused at once', async () => {
    const t = await createUserWithToken(server.db.sql, { name: 'to revoke', role: 'bawaslu', scopeCode: null });
    const get = () => fetch(`${server.url}/api/findings`, { headers: { authorization: `Bearer ${t.token}` } });
    expect((await get()).status).toBe(200);
    await server.db.sql`update tokens set revoked_at = now() where id = ${t.tokenId}`;
    const res = await get();
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('invalid_token');
  });

  it('an expired session is refused', async () => {
    const t = await createUserWithToken(server.db.sql, { name: 'expired', role: 'admin', scopeCode: null, kind: 'session', expiresAt: new Date(Date.now() - 1000) });
    const res = await fetch(`${server.url}/api/findings`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(res.status).toBe(401);
  });
});
