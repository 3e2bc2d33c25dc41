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

let guardInstalled = false;
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
      for (const p of pools) p.reset(err);
      return;
    }
    if (process.listeners('uncaughtException').length === 1) {
      process.stderr.write(`${err?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  };
  process.on('uncaughtException', handler);
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
