/**
 * Fault: the database behind the rate limiter is unreachable. The limiter must let requests through
 * (the routes fail on their own; a broken limiter must not turn a database blip into a total outage),
 * log once per window rather than once per request, and count again as soon as the database is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { connect, type Database } from '../../db/client.js';
import { RateLimiter } from '../../server/http/middleware/ratelimit.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let dead: Database;

beforeAll(async () => {
  db = await createTestDatabase('empty');
  // A port that refuses connections: take a free one, then close it.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  dead = connect(`postgres://rekap@127.0.0.1:${port}/nowhere`, { max: 1 });
});

afterAll(async () => {
  await dead?.sql.end({ timeout: 1 }).catch(() => {});
  await db?.close();
});

const opts = { windowSeconds: 60, perIp: 2, perToken: 2, handshakesPerIp: 2, exemptLoopback: false };

describe('rate limiter with the database down', () => {
  it('fails open and logs once per window', async () => {
    const logs: string[] = [];
    const limiter = new RateLimiter(dead.sql, opts, (m) => logs.push(m));
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await limiter.hit(limiter.bucketsFor('203.0.113.1', null)));
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    expect(logs.length).toBe(1);
    expect(logs[0]).toMatch(/database unavailable/);
  });

  it('enforces the limit again on a reachable database', async () => {
    const limiter = new RateLimiter(db.sql, opts, () => {});
    const allowed = [];
    for (let i = 0; i < 4; i++) allowed.push((await limiter.hit(limiter.bucketsFor('203.0.113.1', null))).allowed);
    expect(allowed).toEqual([true, true, false, false]);
  });
});
