import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { connect } from '../../db/client.js';
import { runMigrations } from '../../db/migrate.js';
import { ensureSeeded } from '../../db/seed/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL without a database name, e.g. postgres://u:p@127.0.0.1:5432 */
    pgServerUrl: string;
    /** Name of a migrated and Kalimantan Tengah-seeded database to copy per test file. */
    pgTemplateDb: string;
    /** Name of a migrated, empty database to copy per test file. */
    pgEmptyTemplateDb: string;
  }
}


/**
 * One real PostgreSQL for the whole test run: DATABASE_URL if given, otherwise an embedded server in
 * a temporary folder. Two template databases are prepared once (empty+migrated, and seeded with
 * Kalimantan Tengah); each test file copies one with CREATE DATABASE … TEMPLATE, so files run in
 * parallel without seeing each other's rows.
 */
export default async function setup(project: TestProject) {
  let stop = async () => {};
  let serverUrl: string;
  const external = process.env.DATABASE_URL;
  if (external) {
    const u = new URL(external);
    u.pathname = '';
    serverUrl = u.toString().replace(/\/$/, '');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'rekap-test-pg-'));
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o777);
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), database: 'postgres' });
    serverUrl = server.url.replace(/\/postgres$/, '');
    stop = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const stamp = `${process.pid}_${Date.now()}`;
  const emptyTpl = `rekap_tpl_empty_${stamp}`;
  const seededTpl = `rekap_tpl_kalteng_${stamp}`;
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${emptyTpl}`);
    const empty = connect(`${serverUrl}/${emptyTpl}`, { max: 2 });
    await runMigrations(empty);
    await empty.close();
    await admin.unsafe(`create database ${seededTpl} template ${emptyTpl}`);
    const seeded = connect(`${serverUrl}/${seededTpl}`, { max: 4 });
    await ensureSeeded(seeded, { scope: 'kalteng', seed: 2024 });
    await seeded.close();
  } finally {
    await admin.end();
  }
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplateDb', seededTpl);
  project.provide('pgEmptyTemplateDb', emptyTpl);

  return async () => {
    if (external) {
      const cleanup = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
      const dbs = await cleanup`select datname from pg_database where datname like ${`%_${stamp}%`}`;
      for (const d of dbs) await cleanup.unsafe(`drop database if exists "${d.datname}" with (force)`);
      await cleanup.end();
    }
    await stop();
  };
}
