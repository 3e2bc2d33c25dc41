import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createBlankDatabase } from './support/db.js';

describe('migrations', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('apply to an empty database, twice without change', async () => {
    const blank = await createBlankDatabase();
    const database = connect(blank.url, { max: 2 });
    cleanups.push(async () => {
      await database.close();
      await blank.drop();
    });
    await runMigrations(database);
    const tables = (await database.sql`select table_name from information_schema.tables where table_schema = 'public'`).map((r) => r.table_name);
    for (const t of ['areas', 'tps', 'contests', 'candidates', 'submissions', 'readings', 'tps_results', 'area_tallies', 'audit_log', 'users']) {
      expect(tables).toContain(t);
    }
    const before = await database.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    await runMigrations(database);
    const after = await database.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(after[0].n).toBe(before[0].n);
    expect(before[0].n).toBeGreaterThan(0);
  });
});
