import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here: two files at a time keeps PostgreSQL, Redis and PGlite from starving each other.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
