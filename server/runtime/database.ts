import { connect, type Database } from '../../db/client.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../db/embedded.js';
import { runMigrations } from '../../db/migrate.js';
import type { Config } from '../config.js';

export interface OpenDatabase {
  database: Database;
  url: string;
  embedded: EmbeddedServer | null;
  close(): Promise<void>;
}

/**
 * The database this process uses: DATABASE_URL when set, otherwise an embedded PostgreSQL under
 * the data directory. Migrations are applied before anything else touches it.
 */
export async function openDatabase(
  config: Config,
  opts: { log?: (line: string) => void; migrate?: boolean; poolSize?: number } = {},
): Promise<OpenDatabase> {
  let embedded: EmbeddedServer | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.pgDataDir,
      port: config.REKAP_EMBEDDED_PG_PORT,
      log: config.REKAP_LOG_LEVEL === 'debug' ? opts.log : undefined,
    });
    url = embedded.url;
  }
  const database = connect(url, { max: opts.poolSize ?? 10 });
  try {
    if (opts.migrate !== false) await runMigrations(database);
  } catch (err) {
    await database.close();
    await embedded?.stop();
    throw err;
  }
  return {
    database,
    url,
    embedded,
    async close() {
      await database.close();
      await embedded?.stop();
    },
  };
}
