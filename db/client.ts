import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from './schema/index.js';

export type Sql = postgres.Sql;
export type Db = PostgresJsDatabase<typeof schema>;

/**
 * One connection pool: raw postgres.js for bulk and hot paths, drizzle on top for ordinary queries.
 * Caution: drizzle's postgres-js driver makes the pool's date/timestamp/json (de)serialisers
 * pass-through, for every user of this pool. In raw `sql` queries pass timestamps as ISO strings with
 * a `::timestamptz` cast and JSON as a string with `::jsonb`, and expect timestamps back as strings.
 */
export interface Database {
  sql: Sql;
  db: Db;
  close(): Promise<void>;
  /** Replace the pool's connections with fresh ones (see installPostgresCrashGuard). */
  reset(reason?: unknown): void;
}

/** Pools that the crash guard resets; a closed pool leaves the set. */
const pools = new Set<{ reset(reason?: unknown): void }>();

/**
 * postgres.js 3.4 can throw from a timer when PostgreSQL dies under a busy connection ("Cannot read
 * properties of null (reading 'write')": a buffered write fires after the socket was dropped). The
 * throw is uncaught, so by default it kills the process, and the connection's write state is left
 * inconsistent. Recognised here by its message and its origin in postgres.js.
 */
export function isPostgresJsSocketBug(err: unknown): boolean {
  return err instanceof TypeError && /Cannot read properties of null \(reading '\w+'\)/.test(err.message) && /postgres[\\/](cjs[\\/])?src[\\/]connection\.js/.test(err.stack ?? '');
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);

/** A lost or refused database connection (PostgreSQL stopped, restarting or unreachable). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || /Connection terminated|not yet accepting connections|the database system is (starting up|shutting down|in recovery mode)/.test(String((err as Error | null)?.message ?? ''));
}

let guardInstalled = false;
let guardResets = 0;
/** How many times the guard replaced the pools (fault tests report it). */
export const crashGuardResets = () => guardResets;
/**
 * Process-level guard: the postgres.js socket bug is logged and answered by replacing every pool's
 * connections (a handler that only logs would keep serving on a broken connection); any other
 * uncaught exception keeps Node's default behaviour (print, exit 1) unless someone else handles it.
 */
export function installPostgresCrashGuard(log: (msg: string, err?: unknown) => void = (m, e) => console.error(m, e)): void {
  if (guardInstalled) return;
  guardInstalled = true;
  const handler = (err: Error) => {
    if (isPostgresJsSocketBug(err)) {
      log('postgres.js lost its socket under a write (database restart?): resetting the connection pools', err);
      guardResets++;
      for (const p of pools) p.reset(err);
      return;
    }
    if (process.listeners('uncaughtException').length === 1) {
      process.stderr.write(`${err?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  };
  process.on('uncaughtException', handler);
  // pg-boss 10 does not await its own complete()/fail() calls: with the database down they reject
  // with nobody listening, which would end the process. The job stays active and is retried after
  // its expiry, so the state is sound: log and keep serving. Anything else keeps the default (crash).
  process.on('unhandledRejection', (reason) => {
    if (isConnectionError(reason)) {
      log('database connection lost under a background call (it will be retried)', reason);
      return;
    }
    if (process.listeners('unhandledRejection').length === 1) {
      // Node's default for an unhandled rejection: report it and end the process.
      process.stderr.write(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
      process.exit(1);
    }
  });
}

export function connect(url: string, opts: { max?: number } = {}): Database {
  installPostgresCrashGuard();
  const make = () => {
    const client = postgres(url, {
      max: opts.max ?? 10,
      onnotice: () => {},
      // bigint columns (counts, versions) fit in a JS number for any election size.
      types: {
        bigint: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
      },
      transform: { undefined: null },
      // postgres.js's default reconnect backoff grows to 20 s while the database is down (3^n / 100 s),
      // so after a restart the API could wait that long before its first query succeeds. Capped at
      // 2 s with jitter: recovery follows the database within seconds (test/faults/pg-kill-ingest).
      backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** retries, 2),
    });
    // drizzle's constructor sets the pass-through (de)serialisers on the client; every generation of
    // the pool must behave the same, so each new client goes through it too.
    drizzle(client, { schema, casing: 'snake_case' });
    return client;
  };
  let current = make();
  // Everyone holds this stable handle; it forwards to the current pool, which reset() can replace.
  const sql = new Proxy(function () {} as unknown as Sql, {
    apply: (_t, thisArg, args) => Reflect.apply(current as unknown as (...a: unknown[]) => unknown, thisArg, args),
    get: (_t, prop) => {
      const v = (current as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(current) : v;
    },
    set: (_t, prop, value) => {
      (current as unknown as Record<string | symbol, unknown>)[prop] = value;
      return true;
    },
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  const handle = {
    reset() {
      const old = current;
      current = make();
      // In-flight queries on the old pool fail (callers see a connection error → 503 / job retry).
      void old.end({ timeout: 0 }).catch(() => {});
    },
  };
  pools.add(handle);
  return {
    sql,
    db,
    reset: handle.reset,
    close: async () => {
      pools.delete(handle);
      await current.end({ timeout: 5 });
    },
  };
}
