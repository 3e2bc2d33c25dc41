import { z } from 'zod';

/**
 * Every job rekap queues, in one typed catalogue: name, payload schema, retry policy and idempotency
 * key. pg-boss delivers at least once, so every handler is idempotent by natural keys (a reading per
 * submission and reader version; a result version only when stage/values/status change).
 */
export interface JobSpec<P extends z.ZodType> {
  name: string;
  payload: P;
  /** pg-boss singleton key: while one job with this key waits, a second send is dropped ('short' policy). */
  key: (payload: z.infer<P>) => string;
  retryLimit: number;
  retryDelaySeconds: number;
  retryBackoff: boolean;
  /** A job still active after this long is presumed dead (worker killed) and retried. */
  expireInSeconds: number;
  /** Jobs fetched per poll: large for fast jobs (pg-boss sleeps ≥ 0.5 s between fetches). */
  batchSize: number;
}

const tpsCode = z.string().regex(/^\d{13}$/, 'a 13-digit TPS code');
const contestId = z.string().min(1).max(64);

export const readPage = {
  name: 'read-page' as const,
  payload: z.object({ submissionId: z.number().int().positive() }),
  key: (p: { submissionId: number }) => `submission:${p.submissionId}`,
  retryLimit: 3,
  retryDelaySeconds: 5,
  retryBackoff: true,
  // A read-page job is active only while its photo is read: one consumer per reader process, one job
  // at a time, and the reader pool kills a child after 120 s on one photo. Three minutes is therefore
  // already "dead". It matters when PostgreSQL restarts under a running worker: the job active at that
  // moment cannot be marked failed, and waits for this expiry (plus pg-boss's maintenance pass) before
  // it is retried: was 15 min.
  expireInSeconds: 3 * 60,
  batchSize: 1,
} satisfies JobSpec<z.ZodObject<{ submissionId: z.ZodNumber }>>;

export const publishTps = {
  name: 'publish-tps' as const,
  payload: z.object({ tpsCode, contestId }),
  key: (p: { tpsCode: string; contestId: string }) => `${p.contestId}:${p.tpsCode}`,
  retryLimit: 5,
  retryDelaySeconds: 2,
  retryBackoff: true,
  expireInSeconds: 5 * 60,
  batchSize: 500,
} satisfies JobSpec<z.ZodObject<{ tpsCode: typeof tpsCode; contestId: typeof contestId }>>;

/**
 * Investigation follow-up of one contest: cases of the TPS changed since the last run, then a
 * statistical checkpoint. Debounced: sent at most once per contest per interval (workers/jobs/investigate.ts),
 * and the singleton key drops a second send while one waits.
 */
export const investigateContest = {
  name: 'investigate-contest' as const,
  payload: z.object({ contestId }),
  key: (p: { contestId: string }) => `investigate:${p.contestId}`,
  retryLimit: 3,
  retryDelaySeconds: 10,
  retryBackoff: true,
  expireInSeconds: 15 * 60,
  batchSize: 1,
} satisfies JobSpec<z.ZodObject<{ contestId: typeof contestId }>>;

export const catalogue = { 'read-page': readPage, 'publish-tps': publishTps, 'investigate-contest': investigateContest } as const;
export type JobName = keyof typeof catalogue;
export type JobPayload<N extends JobName> = z.infer<(typeof catalogue)[N]['payload']>;

/** Timing overrides (tests and the kill test shorten expiry; nothing else changes). */
export type JobTimingOverrides = Partial<Record<JobName, Partial<Pick<JobSpec<z.ZodType>, 'expireInSeconds' | 'retryDelaySeconds' | 'retryLimit' | 'batchSize' | 'retryBackoff'>>>>;

export function specOf<N extends JobName>(name: N, overrides?: JobTimingOverrides) {
  return { ...catalogue[name], ...(overrides?.[name] ?? {}) } as (typeof catalogue)[N];
}
