import type { Sql } from '../client.js';

/** Count one hit on each key in the fixed window starting at windowStart; returns the new counts. */
export async function hitRateLimits(sql: Sql, keys: string[], windowStart: Date): Promise<Map<string, number>> {
  const rows = await sql<{ key: string; count: number }[]>`
    insert into rate_limits (key, window_start, count)
    select k, ${windowStart.toISOString()}::timestamptz, 1 from unnest(${keys}::text[]) as k
    on conflict (key, window_start) do update set count = rate_limits.count + 1
    returning key, count`;
  return new Map(rows.map((r) => [r.key, Number(r.count)]));
}

/** Windows that ended before `before` are useless; deleting them keeps the table small. */
export async function sweepRateLimits(sql: Sql, before: Date): Promise<void> {
  await sql`delete from rate_limits where window_start < ${before.toISOString()}::timestamptz`;
}
