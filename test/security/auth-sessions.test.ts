/**
 * Password sign-in and sessions (issue 9, SECURITY.md): `rekap user create` → POST /api/auth/login →
 * a session token that works, expires (idle and absolute) and dies on logout; sign-in answers alike for
 * unknown users and wrong passwords (message and timing), and is throttled per (username, address).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../db/repositories/tokens.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const root = join(import.meta.dirname, '..', '..');
const PASSWORD = 'correct horse battery staple';

function rekap(args: string[], stdin: string | null): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'server', 'cli', 'main.ts'), ...args], {
      cwd: root, env: { ...process.env, DATABASE_URL: server.db.url }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const login = (username: string, password: string, from = '203.0.113.7') =>
  fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from }, body: JSON.stringify({ username, password }) });
const me = (token: string) => fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  server = await startTestServer({ template: 'kalteng', env: { REKAP_RATE_PER_TOKEN: '0', REKAP_RATE_PER_IP: '0' } });
});
afterAll(async () => {
  await server?.close();
});

describe('rekap user create', () => {
  it('creates a password user from stdin, refuses a short password and a taken name (exit 2, one line)', { timeout: 180_000 }, async () => {
    const ok = await rekap(['user', 'create', '--username', 'Rina.Reviewer', '--role', 'kpu_reviewer', '--area', '62', '--password-stdin', '--json'], `${PASSWORD}\n`);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ username: 'rina.reviewer', role: 'kpu_reviewer', scope: '62' });
    const [row] = await server.db.sql`select password_hash from users where username = 'rina.reviewer'`;
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,(p=1,t=2|t=2,p=1)\$/);
    expect(row.password_hash).not.toContain(PASSWORD);

    const [short, taken] = await Promise.all([
      rekap(['user', 'create', '--username', 'shorty', '--role', 'bawaslu', '--password-stdin'], 'tooshort\n'),
      rekap(['user', 'create', '--username', 'rina.reviewer', '--role', 'kpu_reviewer', '--area', '62', '--password-stdin'], `${PASSWORD}\n`),
    ]);
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/at least 12 characters/);
    expect(taken.status).toBe(2);
    expect(taken.stderr).toMatch(/is taken/);
  });
});

describe('POST /api/auth/login', () => {
  it('returns a session that authorises, reports who it is, and dies on logout', async () => {
    const res = await login('RINA.reviewer', PASSWORD);
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.token).toMatch(/^rk_/);
    expect(body.user).toMatchObject({ role: 'kpu_reviewer', scope: '62' });
    const ttl = Date.parse(body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(3600_000);
    expect(ttl).toBeLessThan(24 * 3600_000);
    // Only a hash of the token is stored.
    expect((await server.db.sql`select count(*)::int as n from tokens where token_hash = ${body.token}`)[0].n).toBe(0);

    expect((await me(body.token)).status).toBe(200);
    expect((await (await me(body.token)).json()).tokenKind).toBe('session');
    const queue = await fetch(`${server.url}/api/review-queue?area=62`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(queue.status).toBe(200);

    const out = await fetch(`${server.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${body.token}` } });
    expect(out.status).toBe(204);
    const after = await me(body.token);
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe('invalid_token');
  });

  it('expires a session after idle time and at its absolute end', async () => {
    const a = await (await login('rina.reviewer', PASSWORD)).json();
    const b = await (await login('rina.reviewer', PASSWORD)).json();
    expect((await me(a.token)).status).toBe(200);
    // Idle: last seen three hours ago (> 2 h idle limit), absolute end still ahead.
    await server.db.sql`update tokens set last_seen_at = now() - interval '3 hours' where token_hash = ${hashToken(a.token)}`;
    expect((await me(a.token)).status).toBe(401);
    // Absolute: used a second ago but past its expiry.
    expect((await me(b.token)).status).toBe(200);
    await server.db.sql`update tokens set expires_at = now() - interval '1 second', last_seen_at = now() where token_hash = ${hashToken(b.token)}`;
    expect((await me(b.token)).status).toBe(401);
  });

  it('answers an unknown username exactly like a wrong password, in words and in time', async () => {
    const unknown = await login('nobody-here', PASSWORD, '198.51.100.1');
    const wrong = await login('rina.reviewer', 'not the password at all', '198.51.100.2');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());

    // Both paths run one argon2 verification: without the dummy hash an unknown name answers ~30× faster.
    const time = async (user: string, from: string) => {
      const t0 = performance.now();
      await login(user, 'wrong wrong wrong', from);
      return performance.now() - t0;
    };
    const unknownTimes: number[] = [];
    const wrongTimes: number[] = [];
    for (let i = 0; i < 6; i++) {
      unknownTimes.push(await time(`ghost${i}`, `198.51.100.${10 + i}`));
      wrongTimes.push(await time('rina.reviewer', `198.51.100.${30 + i}`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    const ratio = median(unknownTimes) / median(wrongTimes);
    console.log(JSON.stringify({ loginTimingMs: { unknown: median(unknownTimes), wrongPassword: median(wrongTimes), ratio } }));
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
  });

  it('throttles guessing per (username, address) with 429 + Retry-After, without locking the user out elsewhere', async () => {
    const from = '192.0.2.50';
    for (let i = 0; i < 10; i++) expect((await login('rina.reviewer', `guess number ${i}`, from)).status).toBe(401);
    const blocked = await login('rina.reviewer', PASSWORD, from);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await blocked.json()).error.code).toBe('too_many_sign_ins');
    // The same answer for a username that does not exist: the throttle does not reveal accounts.
    for (let i = 0; i < 10; i++) await login('ghost-user', `guess ${i}`, from);
    expect((await login('ghost-user', 'x', from)).status).toBe(429);
    // The real user, from their own address, still signs in.
    expect((await login('rina.reviewer', PASSWORD, '192.0.2.99')).status).toBe(201);
  });

  it('refuses malformed bodies with 400 JSON and revoked users like wrong passwords', async () => {
    const bad = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": 5}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_body');
    const junk = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(junk.status).toBe(400);
    const s = await (await login('rina.reviewer', PASSWORD, '192.0.2.100')).json();
    await server.db.sql`update users set revoked_at = now() where username = 'rina.reviewer'`;
    expect((await me(s.token)).status).toBe(401);
    const r = await login('rina.reviewer', PASSWORD, '192.0.2.101');
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe('invalid_credentials');
  });
});
