import { pgTable, text, bigserial, bigint, integer, boolean, timestamp, jsonb, doublePrecision, index, uniqueIndex } from 'drizzle-orm/pg-core';
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
    /** Publish writes 'hard_rule' | 'soft_rule'; detectors write their FindingKind (HARD, SOURCE_MISMATCH, DUPLICATE, STAT_TPS, …). */
    kind: text().notNull(),
    contestId: text(),
    tpsCode: text(),
    areaCode: text().notNull(),
    severity: doublePrecision().notNull().default(0),
    /** 0..1: how sure the detector is that something is wrong (1 for an arithmetic identity). */
    confidence: doublePrecision().notNull().default(1),
    /** Votes that would change if the finding is right (feeds case severity, INTEGRITY §6.3). */
    impactVotes: integer().notNull().default(0),
    detail: jsonb().notNull(),
    submissionId: bigint({ mode: 'number' }),
    status: text().$type<'active' | 'resolved'>().notNull().default('active'),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex('anomalies_dedupe_uq').on(t.dedupeKey),
    index('anomalies_area_idx').on(t.areaCode),
    index('anomalies_tps_idx').on(t.tpsCode, t.contestId),
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
    /** 0..100 score (INTEGRITY §6.3) and its band CRITICAL/HIGH/MEDIUM/LOW. */
    severity: doublePrecision().notNull().default(0),
    band: text().notNull().default('LOW'),
    findingCount: integer().notNull().default(0),
    assigneeId: bigint({ mode: 'number' }).references(() => users.id),
    resolution: text(),
    /** FALSE_ALARM reason code (natural_heterogeneity, noken, …): feeds threshold calibration. */
    reasonCode: text(),
    escalation: text(),
    duplicateOfId: bigint({ mode: 'number' }),
    /** A resolution waiting for a second person (two-person rule): who proposed it and what. */
    pending: jsonb(),
    /** Set once a person acts on the case: re-scoring never auto-closes it afterwards. */
    touched: boolean().notNull().default(false),
    lockedUntil: timestamp({ withTimezone: true }),
    slaDueAt: timestamp({ withTimezone: true }),
    /** Optimistic concurrency: each transition bumps it. */
    version: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('cases_tps_contest_uq').on(t.tpsCode, t.contestId),
    index('cases_area_idx').on(t.areaCode),
    index('cases_state_idx').on(t.state, t.severity),
  ],
);

export const caseNotes = pgTable(
  'case_notes',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    caseId: bigint({ mode: 'number' }).notNull().references(() => cases.id),
    authorId: bigint({ mode: 'number' }).references(() => users.id),
    /** Free text, or a transition record ("IN_REVIEW → RESOLVED: FALSE_ALARM"). */
    kind: text().$type<'note' | 'transition' | 'system'>().notNull().default('note'),
    body: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('case_notes_case_idx').on(t.caseId)],
);

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
