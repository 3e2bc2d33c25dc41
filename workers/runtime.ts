import type { Database } from '../db/client.js';
import type { Config } from '../server/config.js';

export interface WorkerDeps {
  config: Config;
  database: Database;
  url: string;
  log: (msg: string, err?: unknown) => void;
}

export interface RunningWorkers {
  stop(): Promise<void>;
}

/**
 * The worker role: job queue consumers (read page, publish TPS, …). Filled in by the ingest issue;
 * until then the role starts and idles so that `npm start` runs every role.
 */
export async function startWorkers(deps: WorkerDeps): Promise<RunningWorkers> {
  deps.log('worker role started (no job handlers registered yet)');
  return { stop: async () => {} };
}
