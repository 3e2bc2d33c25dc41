import { inject } from 'vitest';
import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { connect, type Database } from '../../db/client.js';

export interface TestDatabase extends Database {
  url: string;
  name: string;
}

/**
 * A private database for one test file, copied from a template prepared by globalSetup:
 * 'kalteng' = migrated and seeded with Kalimantan Tengah; 'empty' = migrated only.
 * Call close() in afterAll; the database is dropped with the server at the end of the run.
 */
export async function createTestDatabase(template: 'kalteng' | 'empty' = 'kalteng', opts: { max?: number } = {}): Promise<TestDatabase> {
  const server = inject('pgServerUrl');
  const tpl = template === 'kalteng' ? inject('pgTemplateDb') : inject('pgEmptyTemplateDb');
  const name = `${tpl}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  try {
    // CREATE DATABASE … TEMPLATE fails if another session is copying the same template: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${tpl}"`);
        break;
      } catch (err) {
        if (attempt > 50 || !String((err as Error).message).includes('being accessed by other users')) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = `${server}/${name}`;
  const database = connect(url, { max: opts.max ?? 5 });
  return { ...database, url, name };
}

/** A fresh empty server-level database name (for migration tests that start from nothing). */
export async function createBlankDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = inject('pgServerUrl');
  const name = `rekap_blank_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  return {
    url: `${server}/${name}`,
    async drop() {
      const a = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}
