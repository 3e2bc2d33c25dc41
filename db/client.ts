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
}

export function connect(url: string, opts: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // bigint columns (counts, versions) fit in a JS number for any election size.
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
    },
    transform: { undefined: null },
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}
