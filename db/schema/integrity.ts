import { pgTable, text, bigserial, bigint, timestamp, jsonb, doublePrecision, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './people.js';

/**
 * A finding: one detector's signal about one TPS (or region). Hard-rule failures, duplicates,
 * source mismatches, statistical outliers. dedupeKey makes re-evaluation idempotent.
 */
export const anomalies = pgTable(
  'anomalies',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    dedupeKey: text().notNull(),
    rule: text().notNull(),
    kind: text().$type<'hard_rule' | 'soft_rule' | 'duplicate' | 'source' | 'temporal' | 'statistical' | 'page'>().notNull(),
    contestId: text(),
    tpsCode: text(),
    areaCode: text().notNull(),
    severity: doublePrecision().notNull().default(0),
    detail: jsonb().notNull(),
    submissionId: bigint({ mode: 'number' }),
    status: text().$type<'active' | 'resolved'>().notNull().default('active'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex('anomalies_dedupe_uq').on(t.dedupeKey),
    index('anomalies_area_idx').on(t.areaCode),
    index('anomalies_tps_idx').on(t.tpsCode),
    index('anomalies_rule_idx').on(t.rule),
  ],
);

/** An investigation case: one per TPS and contest, gathering its findings (INTEGRITY §6). */
export const cases = pgTable(
  'cases',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    tpsCode: text().notNull(),
    contestId: text().notNull(),
    areaCode: text().notNull(),
    state: text().notNull().default('OPEN'),
    severity: doublePrecision().notNull().default(0),
    assigneeId: bigint({ mode: 'number' }).references(() => users.id),
    resolution: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('cases_tps_contest_uq').on(t.tpsCode, t.contestId), index('cases_area_idx').on(t.areaCode)],
);

export const caseNotes = pgTable('case_notes', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  caseId: bigint({ mode: 'number' }).notNull().references(() => cases.id),
  authorId: bigint({ mode: 'number' }).references(() => users.id),
  body: text().notNull(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Results from another source for the same TPS (e.g. KPU's public Sirekap feed, "kpu"), compared
 * with rekap's own photo reads by rule M1. Keyed so that importing the same file twice changes nothing.
 */
export const sourceResults = pgTable(
  'source_results',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    source: text().notNull(),
    tpsCode: text().notNull(),
    contestId: text().notNull(),
    values: jsonb().$type<Record<string, number>>().notNull(),
    sourceTs: text(),
    importedFrom: text(),
    importedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('source_results_uq').on(t.source, t.tpsCode, t.contestId)],
);

/**
 * Append-only, hash-chained log of every state change. hash = sha256(prevHash || canonical row).
 * A trigger (migration 0001) refuses UPDATE and DELETE.
 */
export const auditLog = pgTable('audit_log', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  actorId: bigint({ mode: 'number' }),
  actor: text().notNull(),
  action: text().notNull(),
  entity: text().notNull(),
  entityId: text().notNull(),
  before: jsonb(),
  after: jsonb(),
  photoSha256: text(),
  prevHash: text().notNull(),
  hash: text().notNull(),
});
