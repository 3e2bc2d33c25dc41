import { pgTable, text, bigserial, bigint, timestamp, index, uniqueIndex } from 'drizzle-orm/pg-core';

export type Role = 'public' | 'kpps' | 'kpu_operator' | 'kpu_reviewer' | 'bawaslu' | 'admin';

/**
 * People and devices that act on the system. Every change in the audit log names one of them.
 * scopeCode: an area code (any level) or a 13-digit TPS code that bounds what the user may touch.
 */
export const users = pgTable('users', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  name: text().notNull(),
  /** Sign-in name for people with a password (lower-case); device-only users have none. */
  username: text(),
  role: text().$type<Role>().notNull(),
  scopeCode: text(),
  passwordHash: text(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp({ withTimezone: true }),
}, (t) => [uniqueIndex('users_username_idx').on(t.username)]);

/** Bearer tokens (device tokens for phones, sessions for browsers). Only a SHA-256 of the token is stored. */
export const tokens = pgTable(
  'tokens',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: bigint({ mode: 'number' }).notNull().references(() => users.id),
    tokenHash: text().notNull().unique(),
    kind: text().$type<'device' | 'session' | 'cli'>().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
    lastSeenAt: timestamp({ withTimezone: true }),
  },
  (t) => [index('tokens_user_idx').on(t.userId)],
);
