import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../db/client.js';
import type { Config } from '../config.js';
import { createApp } from '../http/app.js';
import { rateLimiterFor } from '../http/middleware/ratelimit.js';
import { attachRealtime, type Realtime } from '../realtime/hub.js';
import { openQueue, type JobQueue } from '../../workers/jobs/queue.js';

export interface RunningApi {
  server: Server;
  url: string;
  realtime: Realtime | null;
  queue: JobQueue | null;
  close(): Promise<void>;
}

export interface ApiOptions {
  /** Database URL for the queue, LISTEN and the Socket.IO adapter; without it the node serves reads only. */
  databaseUrl?: string;
  /** Reuse a queue opened elsewhere in this process (the worker role's). */
  queue?: JobQueue | null;
  /** Attach the Socket.IO Postgres adapter (default true). */
  socketAdapter?: boolean;
}

/** Start the HTTP API with Socket.IO on the same server, and a send-only job queue for uploads. */
export async function startApi(config: Config, database: Database, log: (msg: string, err?: unknown) => void, opts: ApiOptions = {}): Promise<RunningApi> {
  let queue: JobQueue | null = opts.queue ?? null;
  const ownQueue = !queue && !!opts.databaseUrl;
  if (ownQueue) queue = await openQueue(opts.databaseUrl!, { supervise: false, onError: (err) => log('queue error', err) });
  const app = createApp({ config, database, log, queue });
  const server = createServer(app);
  const realtime = opts.databaseUrl
    ? await attachRealtime(server, { sql: database.sql, url: opts.databaseUrl, deltaIntervalMs: config.REKAP_DELTA_INTERVAL_MS, log, adapter: opts.socketAdapter, allowRequest: rateLimiterFor(config, database.sql, log).allowHandshake() })
    : null;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return {
    server,
    url: `http://${host}:${port}`,
    realtime,
    queue,
    async close() {
      server.closeAllConnections();
      // io.close() also closes the HTTP server.
      if (realtime) await realtime.close();
      else await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownQueue) await queue?.stop();
    },
  };
}
