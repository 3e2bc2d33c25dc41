import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The slow fault-injection tests (kill PostgreSQL mid-ingest, restart the API under 1,000 sockets),
 * run by scripts/faults.sh from .ci/run after the main suite: one file at a time, since each one
 * loads the machine on purpose. Files are named *.fault.ts so the main suite does not pick them up.
 */
export default defineConfig({
  root,
  test: {
    include: ['test/faults/**/*.fault.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});
