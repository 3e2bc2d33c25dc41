import type { Database } from '../client.js';

export type SeedScope = 'kalteng' | 'national';

/**
 * Seed areas, contests, candidates and TPS once. Placeholder until the data pipeline lands
 * (issue: Foundation, real data): it must be idempotent and seeded by a number.
 */
export async function ensureSeeded(_database: Database, _opts: { scope: SeedScope; seed: number }): Promise<void> {}
