import { pgTable, text, integer, boolean, date, index, uniqueIndex } from 'drizzle-orm/pg-core';
import { areas } from './areas.js';

/** An election event. `isPractice` marks the sandbox ("mode latihan") that never touches real counts. */
export const elections = pgTable('elections', {
  id: text().primaryKey(),
  name: text().notNull(),
  kind: text().$type<'pilkada' | 'pemilu'>().notNull(),
  pollingDate: date().notNull(),
  isPractice: boolean().notNull().default(false),
});

/**
 * One race: Pilkada governor per province (`pkwkp`), bupati/walikota per kab/kota (`pkwkk`); room for
 * Pemilu `ppwp`. id is `<type>-<areaCode>` (e.g. `pkwkp-62`, `pkwkk-6201`), prefixed with the
 * election for non-default elections.
 */
export const contests = pgTable(
  'contests',
  {
    id: text().primaryKey(),
    electionId: text().notNull().references(() => elections.id),
    type: text().$type<'pkwkp' | 'pkwkk' | 'ppwp'>().notNull(),
    areaCode: text().notNull().references(() => areas.code),
    name: text().notNull(),
    /** TPS expected to report in this race (KPU's `progres.total`) within the seeded scope. */
    tpsExpected: integer().notNull().default(0),
  },
  (t) => [index('contests_area_idx').on(t.areaCode), index('contests_election_idx').on(t.electionId)],
);

/** Candidate pairs (paslon) with KPU's 7-digit id. A single-candidate race adds a "kolom kosong" row. */
export const candidates = pgTable(
  'candidates',
  {
    id: text().primaryKey(),
    contestId: text().notNull().references(() => contests.id),
    number: integer().notNull(),
    headName: text().notNull(),
    deputyName: text().notNull(),
    colour: text().notNull(),
    isEmptyColumn: boolean().notNull().default(false),
  },
  (t) => [uniqueIndex('candidates_contest_number_uq').on(t.contestId, t.number)],
);
