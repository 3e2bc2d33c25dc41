/**
 * The postgres.js crash guard (db/client.ts): the driver's "Cannot read properties of null (reading
 * 'write')" thrown from a timer when PostgreSQL dies under a busy connection must neither end the
 * process nor leave it serving on broken connections. The guard resets the pool behind the stable
 * `sql` handle; queries keep working and the old connections are closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crashGuardResets, isPostgresJsSocketBug } from '../../db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('empty', { max: 3 });
});
afterAll(async () => {
  await db?.close();
});

/** The error as postgres.js throws it: a TypeError from its connection module. */
function driverBug(): TypeError {
  const err = new TypeError("Cannot read properties of null (reading 'write')");
  err.stack = `TypeError: Cannot read properties of null (reading 'write')\n    at nextWrite (/app/node_modules/postgres/src/connection.js:255:22)\n    at Immediate.<anonymous> (node:internal/timers:483:21)`;
  return err;
}

describe('postgres.js crash guard', () => {
  it('recognises only the driver bug', () => {
    expect(isPostgresJsSocketBug(driverBug())).toBe(true);
    expect(isPostgresJsSocketBug(new TypeError("Cannot read properties of null (reading 'write')"))).toBe(false);
    expect(isPostgresJsSocketBug(new Error('boom'))).toBe(false);
  });

  it('replaces the pool instead of dying: the same handle keeps working on fresh connections', async () => {
    const pids = async () => (await db.sql<{ pid: number }[]>`select pg_backend_pid() as pid`)[0].pid;
    const before = await pids();
    const resets = crashGuardResets();
    // Delivered as Node would deliver an uncaught exception to the process.
    (process.emit as (event: string, ...args: unknown[]) => boolean)('uncaughtException', driverBug(), 'uncaughtException');
    expect(crashGuardResets()).toBe(resets + 1);
    const after = await pids();
    expect(after).not.toBe(before);
    // The old connection is gone from the server.
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = (await db.sql`select 1 from pg_stat_activity where pid = ${before}`).length > 0;
      if (alive) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alive).toBe(false);
    // Drizzle on the same handle still has its pass-through serialisers (timestamps come back as strings).
    const [row] = await db.sql<{ t: unknown }[]>`select now() as t`;
    expect(typeof row.t).toBe('string');
  });
});
