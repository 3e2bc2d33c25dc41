import { loadConfig } from '../../config.js';
import { openDatabase } from '../../runtime/database.js';
import { startApi } from '../../runtime/api.js';
import { parseCliArgs } from '../context.js';
import { ensureSeeded } from '../../../db/seed/index.js';
import { takeOverShutdownSignals } from '../../../db/embedded.js';

/**
 * `rekap start`: database up (embedded when no DATABASE_URL), migrations, seed on first run, then
 * the roles of this process (api, worker). Ctrl-C stops everything in reverse order.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs(args, { role: { type: 'string' } });
  const config = loadConfig(values.role ? { ...process.env, REKAP_ROLES: values.role } : process.env);
  // One line per error (message and where), not a dump of the driver's connection object.
  const log = (msg: string, err?: unknown) =>
    console.error(`[rekap] ${msg}`, err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join('\n') : (err ?? ''));
  takeOverShutdownSignals();
  // Listen from the start: a Ctrl-C during start-up finishes starting, then stops in order.
  // Ctrl-C reaches this process twice (from the terminal's process group and relayed by npm/tsx):
  // the handlers stay installed so the second signal cannot kill the process half-way through the
  // ordered stop and leave PostgreSQL running. A third signal, a deliberate insistence, exits at once.
  let signals = 0;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (name: string) => {
      signals += 1;
      if (signals >= 3) {
        console.error(`[rekap] ${name} again: exiting without a clean stop`);
        process.exit(130);
      }
      resolve();
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  const t0 = Date.now();
  const db = await openDatabase(config, { log: (l) => console.error(`[pg] ${l}`) });
  console.error(`[rekap] database ready (${db.embedded ? `${db.embedded.attached ? 'attached to the embedded PostgreSQL already running' : 'embedded PostgreSQL'} on port ${db.embedded.port}, data in ${config.pgDataDir}` : 'DATABASE_URL'}) in ${Date.now() - t0} ms`);
  const closers: (() => Promise<void>)[] = [() => db.close()];

  if (config.REKAP_SEED_SCOPE !== 'none') {
    await ensureSeeded(db.database, { scope: config.REKAP_SEED_SCOPE, seed: config.REKAP_SEED });
  }
  let queue = null;
  if (config.REKAP_ROLES.includes('worker')) {
    const { startWorkers } = await import('../../../workers/runtime.js');
    const workers = await startWorkers({ config, database: db.database, url: db.url, log });
    queue = workers.queue;
    closers.unshift(() => workers.stop());
  }
  if (config.REKAP_ROLES.includes('api')) {
    const api = await startApi(config, db.database, log, { databaseUrl: db.url, queue });
    closers.unshift(() => api.close());
    console.log(`rekap is running at ${api.url}  (roles: ${config.REKAP_ROLES.join(', ')}; Ctrl-C to stop)`);
  }

  await stopRequested;
  console.error('[rekap] stopping…');
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      log('error while stopping', err);
    }
  }
  console.error('[rekap] stopped');
  return 0;
}
