import PgBoss from 'pg-boss';
import type { Tx } from '../../db/repositories/audit.js';
import { catalogue, specOf, type JobName, type JobPayload, type JobTimingOverrides } from './catalogue.js';

/**
 * The job queue: pg-boss 10 on the same PostgreSQL. `send` validates the payload against the catalogue
 * and can join the caller's transaction (`tx`), so "row written + job queued" commit together.
 */
export interface JobQueue {
  boss: PgBoss;
  send<N extends JobName>(name: N, payload: JobPayload<N>, opts?: { tx?: Tx }): Promise<string | null>;
  work<N extends JobName>(name: N, handler: (jobs: QueuedJob<N>[]) => Promise<void>, opts?: { batchSize?: number }): Promise<string>;
  stop(): Promise<void>;
}

export interface QueuedJob<N extends JobName> {
  id: string;
  name: N;
  data: JobPayload<N>;
  retryCount: number;
  retryLimit: number;
}

export interface QueueOptions {
  /** API-only nodes neither supervise (expire, archive) nor schedule. */
  supervise?: boolean;
  maintenanceIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
  timings?: JobTimingOverrides;
  onError?: (err: unknown) => void;
  max?: number;
}

/** pg-boss's executeSql over a postgres.js transaction (pg-style $n parameters work with unsafe). */
function txWrapper(tx: Tx) {
  return {
    executeSql: async (text: string, values: unknown[] = []) => {
      const params = values.map((v) => (v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v));
      const rows = await tx.unsafe(text, params as never[]);
      return { rows: [...rows] };
    },
  };
}

export async function openQueue(url: string, opts: QueueOptions = {}): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: url,
    max: opts.max ?? 4,
    supervise: opts.supervise ?? true,
    schedule: false,
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 15,
    application_name: 'rekap-queue',
  } as PgBoss.ConstructorOptions);
  boss.on('error', (err) => opts.onError?.(err));
  await boss.start();
  for (const name of Object.keys(catalogue) as JobName[]) {
    const spec = specOf(name, opts.timings);
    const queueOpts = {
      name,
      policy: 'short' as const,
      retryLimit: spec.retryLimit,
      retryDelay: spec.retryDelaySeconds,
      retryBackoff: spec.retryBackoff,
      expireInSeconds: spec.expireInSeconds,
    };
    // Another node may create the queue at the same moment: creation is idempotent, a race is not fatal.
    try {
      if (!(await boss.getQueue(name))) await boss.createQueue(name, queueOpts);
      else await boss.updateQueue(name, queueOpts);
    } catch (err) {
      if (!(await boss.getQueue(name))) throw err;
    }
  }
  const pollingIntervalSeconds = opts.pollingIntervalSeconds ?? 0.5;

  return {
    boss,
    async send(name, payload, sendOpts) {
      const spec = specOf(name, opts.timings);
      const data = spec.payload.parse(payload) as object;
      const options: PgBoss.SendOptions & { db?: unknown } = {
        singletonKey: (spec.key as (p: unknown) => string)(data),
        retryLimit: spec.retryLimit,
        retryDelay: spec.retryDelaySeconds,
        retryBackoff: spec.retryBackoff,
        expireInSeconds: spec.expireInSeconds,
      };
      if (sendOpts?.tx) options.db = txWrapper(sendOpts.tx);
      return boss.send(name, data, options as PgBoss.SendOptions);
    },
    async work(name, handler, workOpts) {
      const spec = specOf(name, opts.timings);
      return boss.work(
        name,
        { batchSize: workOpts?.batchSize ?? spec.batchSize, pollingIntervalSeconds, includeMetadata: true },
        async (jobs: PgBoss.JobWithMetadata<object>[]) => {
          const typed = jobs.map((j) => ({ id: j.id, name, data: j.data as JobPayload<typeof name>, retryCount: j.retryCount, retryLimit: j.retryLimit }));
          await handler(typed);
        },
      );
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
