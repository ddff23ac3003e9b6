import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for everyone (its package.json has no "exports"); Vite would give
    // our sources the .mjs build while Pothos and Yoga (external) get the CommonJS one: two graphql copies,
    // and "Cannot use GraphQLObjectType from another module or realm". One copy, as in production.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Setting up apps on the embedded PGlite (several at once in some files) can take a minute on a loaded 2-core machine.
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores here: two files at a time keeps PostgreSQL, Redis and PGlite from starving each other.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
