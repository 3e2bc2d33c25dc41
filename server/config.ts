import { z } from 'zod';
import { resolve } from 'node:path';

/**
 * Every setting rekap reads from the environment, validated once at boot. Nothing else in the code
 * base reads process.env: modules receive the values they need. `.env.example` documents each one.
 */
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const rolesSchema = z
  .string()
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(z.array(z.enum(['api', 'worker'])).min(1, 'name at least one role: api, worker'));

export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  REKAP_DATA_DIR: z.string().default('.data'),
  REKAP_EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REKAP_ROLES: rolesSchema.default(['api', 'worker']),
  REKAP_SEED_SCOPE: z.enum(['kalteng', 'national', 'none']).default('kalteng'),
  REKAP_SEED: z.coerce.number().int().nonnegative().default(2024),
  REKAP_READER_PROCESSES: z.coerce.number().int().min(0).max(64).default(1),
  REKAP_MAX_UPLOAD_MB: z.coerce.number().positive().max(100).default(25),
  REKAP_MAX_UPLOAD_MEGAPIXELS: z.coerce.number().positive().max(200).default(50),
  REKAP_DELTA_INTERVAL_MS: z.coerce.number().int().min(50).max(10_000).default(250),
  REKAP_TILE_URL: z.string().url().optional(),
  REKAP_PUBLIC_URL: z.string().url().optional(),
  REKAP_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  REKAP_SERVE_CLIENT: bool.default(true),
  // Rate limits (per fixed window, shared by every node through PostgreSQL); 0 disables a bucket.
  REKAP_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  REKAP_RATE_PER_IP: z.coerce.number().int().min(0).default(1200),
  REKAP_RATE_PER_TOKEN: z.coerce.number().int().min(0).default(600),
  REKAP_RATE_HANDSHAKES_PER_IP: z.coerce.number().int().min(0).default(120),
  REKAP_RATE_EXEMPT_LOOPBACK: bool.default(true),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  dataDir: string;
  photoDir: string;
  pgDataDir: string;
}

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse and validate; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Config {
  // Empty strings mean "unset" (a common shell habit: FOO= npm start).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const dataDir = resolve(cwd, parsed.data.REKAP_DATA_DIR);
  return { ...parsed.data, dataDir, photoDir: resolve(dataDir, 'photos'), pgDataDir: resolve(dataDir, 'pg') };
}
