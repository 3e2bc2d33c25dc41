import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../db/client.js';
import type { Config } from '../config.js';
import { createApp } from '../http/app.js';

export interface RunningApi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Start the HTTP API (and, once the realtime layer attaches, Socket.IO on the same server). */
export async function startApi(config: Config, database: Database, log: (msg: string, err?: unknown) => void): Promise<RunningApi> {
  const app = createApp({ config, database, log });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
