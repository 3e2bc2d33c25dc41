/**
 * Seed timings as JSON on stdout: an embedded PostgreSQL in a temporary folder (or DATABASE_URL's
 * server), a fresh database per run. Not a test: timings depend on the machine.
 *
 *   nice -n 10 npx tsx db/seed/measure.ts [--national]
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../embedded.js';
import { connect } from '../client.js';
import { runMigrations } from '../migrate.js';
import { ensureSeeded, planTps, type SeedScope } from './index.js';

const { values } = parseArgs({ options: { national: { type: 'boolean', default: false } }, strict: true });

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'rekap-seed-measure-'));
  chmodSync(dir, 0o777);
  const server = process.env.DATABASE_URL ? null : await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), database: 'postgres' });
  const serverUrl = server ? server.url.replace(/\/postgres$/, '') : new URL(process.env.DATABASE_URL!).origin.replace(/^http/, 'postgres');
  const out: Record<string, unknown> = { loadavg: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)) };
  const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
  try {
    let t = Date.now();
    const plan = planTps('national', 2024);
    out.planNationalMs = Date.now() - t;
    out.tpsNational = plan.code.length;
    const scopes: SeedScope[] = values.national ? ['kalteng', 'national'] : ['kalteng'];
    for (const scope of scopes) {
      const name = `rekap_measure_${scope}_${process.pid}`;
      await admin.unsafe(`create database ${name}`);
      const db = connect(`${serverUrl}/${name}`, { max: 2 });
      try {
        await runMigrations(db);
        t = Date.now();
        const first = await ensureSeeded(db, { scope, seed: 2024 }, { log: () => {} });
        out[`${scope}SeedMs`] = Date.now() - t;
        out[`${scope}Tps`] = first.tps;
        t = Date.now();
        const again = await ensureSeeded(db, { scope, seed: 2024 }, { log: () => {} });
        out[`${scope}RerunMs`] = Date.now() - t;
        out[`${scope}RerunChanged`] = again.changed;
      } finally {
        await db.close();
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      }
    }
  } finally {
    await admin.end();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
