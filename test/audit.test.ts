/**
 * The audit hash chain on a real PostgreSQL: the database refuses UPDATE/DELETE/TRUNCATE; recomputing
 * from genesis verifies; tampering with one row (trigger disabled, as an attacker with DDL rights would)
 * is detected exactly at that row; an earlier head is a prefix of a later chain; `rekap audit verify`
 * exits non-zero naming the row; the head is public.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { appendAudit, auditHead, verifyAuditChain, GENESIS_HASH } from '../db/repositories/audit.js';

const run = promisify(execFile);

describe('audit chain', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('empty');
  });
  afterAll(async () => db?.close());

  const append = (i: number) => db.sql.begin((tx) => appendAudit(tx, [{ actorId: i, actor: `user:${i}`, action: 'result.kpps.published', entity: 'tps_result', entityId: `6201011001001:pkwkp-62:v${i}`, before: i > 1 ? { suara_sah: i - 1 } : null, after: { suara_sah: i, nested: { b: 2, a: [1, 'x'] } }, photoSha256: 'ab'.repeat(32) }]));

  it('an empty log verifies with the genesis head', async () => {
    expect(await verifyAuditChain(db.sql)).toEqual({ ok: true, rows: 0, head: GENESIS_HASH });
    expect((await auditHead(db.sql)).hash).toBe(GENESIS_HASH);
  });

  it('appends chain and verify; concurrent appends never fork', async () => {
    for (let i = 1; i <= 20; i++) await append(i);
    const early = await auditHead(db.sql);
    await Promise.all(Array.from({ length: 20 }, (_, k) => append(100 + k)));
    const v = await verifyAuditChain(db.sql, { pageSize: 7 });
    expect(v).toMatchObject({ ok: true, rows: 40 });
    // The earlier head is part of the later chain (consistency between two published heads).
    const [row] = await db.sql`select hash from audit_log where id = ${early.id}`;
    expect(row.hash).toBe(early.hash);
    const prevs = await db.sql`select prev_hash, count(*)::int as n from audit_log group by prev_hash having count(*) > 1`;
    expect(prevs).toEqual([]);
  });

  it('a deleted row breaks the chain at the row after the gap (checked on a copy of the chain)', async () => {
    const copy = await createTestDatabase('empty');
    try {
      for (let i = 1; i <= 6; i++) await copy.sql.begin((tx) => appendAudit(tx, [{ actorId: null, actor: 'system', action: 'x', entity: 'e', entityId: String(i), after: { i } }]));
      await copy.sql.begin(async (tx) => {
        await tx`alter table audit_log disable trigger audit_log_no_update_delete`;
        await tx`delete from audit_log where id = 3`;
        await tx`alter table audit_log enable trigger audit_log_no_update_delete`;
      });
      const v = await verifyAuditChain(copy.sql);
      expect(v).toMatchObject({ ok: false, badId: 4 });
      if (!v.ok) expect(v.reason).toMatch(/prev_hash/);
    } finally {
      await copy.close();
    }
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(db.sql`update audit_log set actor = 'mallory' where id = 3`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from audit_log where id = 3`).rejects.toThrow(/append-only/);
    await expect(db.sql`truncate audit_log`).rejects.toThrow(/append-only/);
    expect((await verifyAuditChain(db.sql)).ok).toBe(true);
  });

  it('tampering with row k is detected exactly at k, also by rekap audit verify', async () => {
    const [{ id: k }] = await db.sql`select id from audit_log order by id offset 12 limit 1`;
    await db.sql.begin(async (tx) => {
      await tx`alter table audit_log disable trigger audit_log_no_update_delete`;
      await tx`update audit_log set after = jsonb_set(after, '{suara_sah}', '999') where id = ${k}`;
      await tx`alter table audit_log enable trigger audit_log_no_update_delete`;
    });
    const v = await verifyAuditChain(db.sql);
    expect(v).toMatchObject({ ok: false, badId: Number(k) });
    if (!v.ok) expect(v.reason).toMatch(/altered/);

    const cli = await run('npx', ['tsx', 'server/cli/main.ts', 'audit', 'verify'], { env: { ...process.env, DATABASE_URL: db.url }, cwd: process.cwd() }).catch((e) => e);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`row ${k}`);

  }, 60_000);
});
