import { pgTable, text, integer, timestamp, primaryKey } from 'drizzle-orm/pg-core';

/** Fixed-window rate-limit counters, shared by every API node through the database. */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text().notNull(),
    windowStart: timestamp({ withTimezone: true }).notNull(),
    count: integer().notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);

/** Key/value facts about this database: seed scope and seed number, data versions. */
export const meta = pgTable('meta', {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
