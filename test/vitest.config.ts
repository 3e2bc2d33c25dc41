import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  test: {
    include: ['test/**/*.test.ts', 'server/**/*.test.ts', 'db/**/*.test.ts', 'workers/**/*.test.ts', 'client/src/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: two test files at a time; each file owns its database copy.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
