import {
  pgTable, text, integer, bigint, bigserial, timestamp, jsonb, boolean, doublePrecision,
  index, uniqueIndex, primaryKey,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { customType } from 'drizzle-orm/pg-core';

const customBytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });
import { users } from './people.js';

/** A photo, stored once by the SHA-256 of the bytes as received (the evidence hash). */
export const photos = pgTable('photos', {
  sha256: text().primaryKey(),
  byteSize: integer().notNull(),
  mime: text().notNull(),
  width: integer().notNull(),
  height: integer().notNull(),
  /** Path of the stored file, relative to the photo directory; internal name, never the uploader's. */
  storedPath: text().notNull(),
  receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type SubmissionStatus = 'received' | 'reading' | 'read' | 'rejected' | 'failed';
export type SourceKind = 'kpps' | 'ptps' | 'saksi' | 'public' | 'practice';

/**
 * One uploaded photo of one form page for one TPS and contest. The same bytes for the same TPS and
 * contest are the same submission (idempotent upload); the same bytes for another TPS are a new
 * submission, which the duplicate detector flags.
 */
export const submissions = pgTable(
  'submissions',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    photoSha256: text().notNull().references(() => photos.sha256),
    tpsCode: text().notNull(),
    contestId: text().notNull(),
    /** Page declared by the uploader; the page mark read from the photo is in the reading. */
    page: text(),
    source: text().$type<SourceKind>().notNull().default('kpps'),
    uploaderId: bigint({ mode: 'number' }).references(() => users.id),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    status: text().$type<SubmissionStatus>().notNull().default('received'),
    statusReason: text(),
  },
  (t) => [
    uniqueIndex('submissions_photo_tps_contest_uq').on(t.photoSha256, t.tpsCode, t.contestId),
    index('submissions_tps_idx').on(t.tpsCode, t.contestId),
    index('submissions_status_idx').on(t.status),
  ],
);

export type ReadingClass = 'READ_OK' | 'AUTO_CORRECTED' | 'FORM_INCONSISTENT' | 'NEEDS_REVIEW' | 'REJECTED';

/**
 * What the form reader made of one submission: the page, every field with value, marginal and box
 * probabilities, the decoder's changes and the class. One reading per submission and reader version.
 */
export const readings = pgTable(
  'readings',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    submissionId: bigint({ mode: 'number' }).notNull().references(() => submissions.id),
    readerVersion: text().notNull(),
    page: text(),
    cls: text().$type<ReadingClass>().notNull(),
    alignmentScore: doublePrecision(),
    /** { [fieldKey]: number } – the decoder's x*. */
    values: jsonb().$type<Record<string, number>>().notNull(),
    /** Full detail: per field {value, p, boxes: [[12 probs]...], roi}, changes, residuals, post, timings. */
    detail: jsonb().notNull(),
    rejectReason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('readings_submission_version_uq').on(t.submissionId, t.readerVersion)],
);

export type ResultStage = 'machine' | 'kpps' | 'reviewer' | 'recap';
export type ResultStatus = 'published' | 'quarantined' | 'incomplete';

/**
 * Versioned result of one TPS in one contest. Every version is kept; exactly one is current
 * (partial unique index). Stage order machine < kpps < reviewer < recap: an older stage never
 * replaces a newer one. Each version points at the reading or correction it came from.
 */
export const tpsResults = pgTable(
  'tps_results',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    tpsCode: text().notNull(),
    contestId: text().notNull(),
    version: integer().notNull(),
    stage: text().$type<ResultStage>().notNull(),
    status: text().$type<ResultStatus>().notNull(),
    isCurrent: boolean().notNull().default(true),
    /** All field values of the TPS (both pages), Sirekap-style keys. */
    values: jsonb().$type<Record<string, number>>().notNull(),
    /** Votes per candidate id, denormalised from values for aggregation. */
    votes: jsonb().$type<Record<string, number>>().notNull(),
    suaraSah: integer(),
    suaraTidakSah: integer(),
    /** Hard-rule results (INTEGRITY §3 RuleResult[]). */
    rules: jsonb().notNull(),
    readingIds: jsonb().$type<number[]>().notNull().default(sql`'[]'::jsonb`),
    correctionId: bigint({ mode: 'number' }),
    createdBy: bigint({ mode: 'number' }).references(() => users.id),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tps_results_version_uq').on(t.tpsCode, t.contestId, t.version),
    uniqueIndex('tps_results_current_uq').on(t.tpsCode, t.contestId).where(sql`is_current`),
    index('tps_results_contest_idx').on(t.contestId, t.status),
  ],
);

/** A proposed change to a TPS result by a person; applied only after a second person approves. */
export const corrections = pgTable('corrections', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  tpsCode: text().notNull(),
  contestId: text().notNull(),
  stage: text().$type<ResultStage>().notNull(),
  values: jsonb().$type<Record<string, number>>().notNull(),
  reason: text().notNull(),
  baseVersion: integer(),
  proposedBy: bigint({ mode: 'number' }).notNull().references(() => users.id),
  proposedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  approvedBy: bigint({ mode: 'number' }).references(() => users.id),
  approvedAt: timestamp({ withTimezone: true }),
  state: text().$type<'pending' | 'approved' | 'rejected' | 'applied'>().notNull().default('pending'),
});

/**
 * Per-area, per-contest running totals (desa → kecamatan → kab/kota → province → national "00"),
 * maintained in the publish transaction. `version` increases with each change to the row.
 */
export const areaTallies = pgTable(
  'area_tallies',
  {
    contestId: text().notNull(),
    areaCode: text().notNull(),
    tpsExpected: integer().notNull().default(0),
    tpsPublished: integer().notNull().default(0),
    tpsQuarantined: integer().notNull().default(0),
    votes: jsonb().$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    suaraSah: bigint({ mode: 'number' }).notNull().default(0),
    suaraTidakSah: bigint({ mode: 'number' }).notNull().default(0),
    votersRegistered: bigint({ mode: 'number' }).notNull().default(0),
    votersUsed: bigint({ mode: 'number' }).notNull().default(0),
    quarantinedVotes: bigint({ mode: 'number' }).notNull().default(0),
    version: bigint({ mode: 'number' }).notNull().default(0),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.contestId, t.areaCode] })],
);

/**
 * Monotonic change feed: one row per TPS state change, carrying every area code it touched.
 * Serves "changes since <version>" and socket catch-up after reconnect.
 */
export const changes = pgTable(
  'changes',
  {
    version: bigserial({ mode: 'number' }).primaryKey(),
    contestId: text().notNull(),
    tpsCode: text().notNull(),
    areaCodes: text().array().notNull(),
    kind: text().notNull(),
    /** Status and version of the TPS result after the change, so deltas need no second lookup. */
    status: text().$type<ResultStatus>(),
    resultVersion: integer(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('changes_contest_idx').on(t.contestId, t.version),
    // The latest change of each TPS of a desa (its unit version in a desa snapshot): an index-only lookup.
    index('changes_tps_idx').on(t.tpsCode, t.contestId, t.version),
  ],
);

/**
 * The table @socket.io/postgres-adapter uses for payloads too large for NOTIFY (≥ 8,000 bytes).
 * Declared here so migrations create it before any API node starts.
 */
export const socketIoAttachments = pgTable('socket_io_attachments', {
  id: bigserial({ mode: 'number' }).unique(),
  createdAt: timestamp({ withTimezone: true }).defaultNow(),
  payload: customBytea(),
});

