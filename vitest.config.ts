import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (real server processes, timers, whole storage contracts), longest
 * first. They start first: a clean clone has no timing cache, and by size alone one of them would
 * be left running by itself at the end.
 */
const LONGEST = [
  'snooze-wake-processes.test.ts',
  'webhooks/processes.test.ts',
  'cli-write.test.ts',
  'hardening/fuzz.test.ts',
  'embedded-lock.test.ts',
  'webhooks/retries.test.ts',
  'storage/redis.test.ts',
  'storage/orm.test.ts',
  'storage/orm-embedded.test.ts',
  'storage/redis-cluster.test.ts',
  'snooze-wake.test.ts',
  'cli.test.ts',
  'client/watch-inbox.test.ts',
  'schedule-processes.test.ts',
  'graphql/expiry.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const k = LONGEST.findIndex((name) => f.moduleId.endsWith(`/test/${name}`));
      return k < 0 ? LONGEST.length : k;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    // A worker keeps the modules it loaded from one file to the next (each test file itself is loaded
    // afresh): loading the app's dependencies again for every file cost a third of the suite's CPU. So a
    // file leaves no global state behind (listeners, environment, timers, servers).
    isolate: false,
    sequence: { sequencer: LongestFirst },
    globalSetup: ['test/global-setup.ts'],
  },
});
