import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Database } from './client.js';

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const MIGRATION_LOCK = 727274;

/** Apply every committed migration (drizzle-kit generated plus hand-written ones). Idempotent. */
export async function runMigrations(database: Database): Promise<void> {
  // Several nodes may boot at once: one session-level advisory lock, held on a reserved connection.
  const lockConn = await database.sql.reserve();
  try {
    await lockConn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(database.db, { migrationsFolder });
  } finally {
    await lockConn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    lockConn.release();
  }
}
