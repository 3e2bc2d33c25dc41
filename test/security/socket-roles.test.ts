/**
 * Roles on sockets (issue 9, RELIABILITY §8.4 test 6, ASVS 8.3.2): the handshake token decides a
 * socket's role and area; a public socket cannot join operator rooms; quarantine detail reaches
 * operator rooms only; revoking a token, a session or a user, or changing a role, reaches live
 * sockets within seconds — measured here against the real server and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { createUserWithToken, revokeToken, setUserRole } from '../../db/repositories/tokens.js';
import { publishBatch } from '../../db/repositories/publish.js';
import { evaluateBuiltin } from '../../workers/jobs/rules.js';
import type { ClientToServerEvents, OpsEvent, ServerToClientEvents } from '../../server/contract/index.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { createPasswordUser } from '../../db/repositories/tokens.js';
import { candidateCount, formValues, pickTps, rng, type TpsInfo } from '../ingest-helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
let server: TestServer;
const CONTEST = 'pkwkp-62';
let tpsA: TpsInfo;
let tpsB: TpsInfo;
const sockets: Client[] = [];

function connect(token?: string): Promise<Client> {
  const s: Client = ioClient(server.url, { transports: ['websocket'], reconnection: false, auth: token ? { token } : {} });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => reject(err));
  });
}
const joinOps = (s: Client, area: string) => s.timeout(5000).emitWithAck('subscribe-ops', { area });

beforeAll(async () => {
  server = await startTestServer({ template: 'kalteng', env: { REKAP_RATE_PER_TOKEN: '0', REKAP_RATE_PER_IP: '0' } });
  const [a] = await pickTps(server.db.sql, '62', 1);
  const [b] = await server.db.sql<TpsInfo[]>`
    select code, voters_l as "votersL", voters_p as "votersP", desa_code as "desaCode", kec_code as "kecCode", kab_code as "kabCode", prov_code as "provCode"
    from tps where code like '62%' and kab_code <> ${a.kabCode} and not is_special order by code limit 1`;
  tpsA = a;
  tpsB = b;
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

describe('socket roles and rooms', () => {
  it('refuses a handshake with an unknown token, naming why', async () => {
    const err = await connect('rk_not-a-real-token').then(() => null, (e: Error & { data?: { code: string } }) => e);
    expect(err?.message).toBe('invalid_token');
    expect(err?.data?.code).toBe('invalid_token');
  });

  it('a public socket reads public rooms but cannot join an operator room', async () => {
    const s = await connect();
    const pub = await s.timeout(5000).emitWithAck('subscribe', { area: '62', contest: CONTEST });
    expect(pub.ok).toBe(true);
    expect(await joinOps(s, '62')).toEqual({ ok: false, error: expect.objectContaining({ code: 'auth_required' }) });
    // The operator room's name is not a public room key either.
    expect((await s.timeout(5000).emitWithAck('subscribe', { area: '62', contest: '#ops/62' })).ok).toBe(false);
  });

  it('staff join operator rooms inside their scope only; a KPPS phone its own TPS only', async () => {
    const reviewer = await createUserWithToken(server.db.sql, { name: 'reviewer A', role: 'kpu_reviewer', scopeCode: tpsA.kabCode });
    const kpps = await createUserWithToken(server.db.sql, { name: 'kpps A', role: 'kpps', scopeCode: tpsA.code });
    const bawaslu = await createUserWithToken(server.db.sql, { name: 'bawaslu', role: 'bawaslu', scopeCode: null });
    const r = await connect(reviewer.token);
    expect((await joinOps(r, tpsA.kabCode)).ok).toBe(true);
    expect((await joinOps(r, tpsA.desaCode)).ok).toBe(true);
    expect((await joinOps(r, tpsB.kabCode)).error?.code).toBe('out_of_scope');
    expect((await joinOps(r, '00')).error?.code).toBe('out_of_scope');
    expect((await joinOps(r, 'x')).error?.code).toBe('invalid_area_code');
    const k = await connect(kpps.token);
    expect((await joinOps(k, tpsA.code)).ok).toBe(true);
    expect((await joinOps(k, tpsA.desaCode)).error?.code).toBe('out_of_scope');
    const b = await connect(bawaslu.token);
    expect((await joinOps(b, '00')).ok).toBe(true);
    expect((await joinOps(b, tpsB.kabCode)).ok).toBe(true);
  });

  it('quarantine detail reaches operator rooms in scope, never public sockets or other areas', async () => {
    const reviewer = await createUserWithToken(server.db.sql, { name: 'reviewer A2', role: 'kpu_reviewer', scopeCode: tpsA.kabCode });
    const other = await createUserWithToken(server.db.sql, { name: 'reviewer B', role: 'kpu_reviewer', scopeCode: tpsB.kabCode });
    const inScope = await connect(reviewer.token);
    const outScope = await connect(other.token);
    const pub = await connect();
    expect((await joinOps(inScope, tpsA.kabCode)).ok).toBe(true);
    expect((await joinOps(outScope, tpsB.kabCode)).ok).toBe(true);
    expect((await pub.timeout(5000).emitWithAck('subscribe', { area: tpsA.kabCode, contest: CONTEST })).ok).toBe(true);
    const got: Record<string, OpsEvent[]> = { in: [], out: [], pub: [] };
    inScope.on('review', (e) => got.in.push(e));
    outScope.on('review', (e) => got.out.push(e));
    pub.on('review', (e) => got.pub.push(e));
    let pubDeltas = 0;
    pub.on('delta', () => pubDeltas++);

    const n = await candidateCount(server.db.sql, CONTEST);
    const bad = formValues(tpsA, n, rng(7));
    bad.suara_paslon_1 += 500; // Σ paslon ≠ suara sah: a hard rule fails, the result is quarantined
    const [outcome] = await publishBatch(server.db.sql, [{ tpsCode: tpsA.code, contestId: CONTEST, stage: 'kpps', values: bad, actorId: null, actor: 'test' }], evaluateBuiltin);
    expect(outcome.outcome).toBe('created');
    await server.api.realtime!.flush();
    const deadline = Date.now() + 10_000;
    while ((got.in.length === 0 || pubDeltas === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(got.in).toEqual([expect.objectContaining({ tpsCode: tpsA.code, contestId: CONTEST, status: 'quarantined' })]);
    expect(pubDeltas).toBeGreaterThan(0); // the public room did get its (public) delta …
    expect(got.pub).toEqual([]); // … but no operator detail
    expect(got.out).toEqual([]);
  });
});

describe('live revocation', () => {
  /** Time from the change in PostgreSQL to the socket being told and disconnected. */
  async function timeToRevoke(s: Client, revoke: () => Promise<unknown>): Promise<{ toldMs: number; disconnectedMs: number }> {
    let told = 0;
    s.on('auth_revoked', () => (told = performance.now()));
    const gone = new Promise<number>((resolve) => s.once('disconnect', () => resolve(performance.now())));
    const t0 = performance.now();
    await revoke();
    const disconnected = await Promise.race([gone, new Promise<number>((r) => setTimeout(() => r(-1), 15_000))]);
    expect(disconnected, 'socket still connected 15 s after revocation').toBeGreaterThan(0);
    expect(told, 'the socket was told before being cut').toBeGreaterThan(0);
    return { toldMs: Math.round(told - t0), disconnectedMs: Math.round(disconnected - t0) };
  }

  it('revoking a device token, a user or a session disconnects live sockets within seconds; a role change drops operator rooms', async () => {
    const sql = server.db.sql;
    const device = await createUserWithToken(sql, { name: 'kpps revoke', role: 'kpps', scopeCode: tpsA.code });
    const staff = await createUserWithToken(sql, { name: 'operator revoke', role: 'kpu_operator', scopeCode: tpsA.kabCode });
    const created = await createPasswordUser(sql, { username: 'sock.reviewer', name: 'Sock Reviewer', role: 'kpu_reviewer', scopeCode: tpsA.kabCode, passwordHash: await hashPassword('a long enough password') });
    const login = await (await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sock.reviewer', password: 'a long enough password' }) })).json();
    const changed = await createUserWithToken(sql, { name: 'role change', role: 'kpu_reviewer', scopeCode: tpsA.kabCode });

    const [sd, ss, sl, sc] = await Promise.all([connect(device.token), connect(staff.token), connect(login.token), connect(changed.token)]);
    for (const [s, area] of [[sd, tpsA.code], [ss, tpsA.kabCode], [sl, tpsA.kabCode], [sc, tpsA.kabCode]] as const) expect((await joinOps(s, area)).ok).toBe(true);

    const latencies = {
      deviceToken: await timeToRevoke(sd, () => revokeToken(sql, device.tokenId)),
      user: await timeToRevoke(ss, () => sql`update users set revoked_at = now() where id = ${staff.userId}`),
      sessionLogout: await timeToRevoke(sl, () => fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${login.token}` } })),
    };
    expect(created).not.toBeNull();

    // Role change: reviewer of kab A becomes Bawaslu of kab B: told, and the kab A operator room is left.
    const t0 = performance.now();
    const info = new Promise<{ role: string; leftRooms: string[] }>((resolve) => sc.once('auth_changed', resolve));
    await setUserRole(sql, changed.userId, 'bawaslu', tpsB.kabCode);
    const changedInfo = await Promise.race([info, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    const roleChangeMs = Math.round(performance.now() - t0);
    expect(changedInfo).toMatchObject({ role: 'bawaslu', leftRooms: [tpsA.kabCode] });
    expect(sc.connected).toBe(true);
    expect((await joinOps(sc, tpsA.kabCode)).error?.code).toBe('out_of_scope');
    expect((await joinOps(sc, tpsB.kabCode)).ok).toBe(true);

    console.log(JSON.stringify({ revocationLatencyMs: { ...latencies, roleChange: roleChangeMs }, recheckIntervalMs: 2000 }));
    for (const l of Object.values(latencies)) expect(l.disconnectedMs).toBeLessThan(5000);
    expect(roleChangeMs).toBeLessThan(5000);

    // A revoked token cannot come back on a new connection either.
    const again = await connect(device.token).then(() => null, (e: Error) => e);
    expect(again?.message).toBe('invalid_token');
  });
});
