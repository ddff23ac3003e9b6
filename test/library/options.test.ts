import { describe, expect, it } from 'vitest';
import { LEVELS } from '../../src/domain/levels.js';
import { ConfigError, createStoredMessages, type StoredMessagesOptions } from '../../src/library.js';
import { configFromOptions } from '../../src/library/options.js';

/** The problems a refused set of options is reported with. */
async function problemsOf(options: StoredMessagesOptions): Promise<string[]> {
  const err = await createStoredMessages(options).then(
    (stored) => stored.close().then(() => null),
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`);
  return err.problems;
}

describe('library options: the settings of CONTRACT §1, validated as the environment is', () => {
  it('names every bad option at once, by its option name', async () => {
    const problems = await problemsOf({
      databaseUrl: 'mysql://db/x',
      storeLevels: ['STORED_INFO', 'LOUD' as never],
      messageExpireDays: -1,
      authJwtSecret: 'short',
      ...({ databaseURL: 'postgres://typo', flashMax: { n: 1 } } as object),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^databaseUrl: must be a URL/),
        expect.stringMatching(/^storeLevels: unknown level name "LOUD"/),
        expect.stringMatching(/^messageExpireDays: /),
        expect.stringMatching(/^authJwtSecret: must be at least 16 characters/),
        'databaseURL: unknown option',
        expect.stringMatching(/^flashMax: must be a string, a number/),
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).not.toMatch(/DATABASE_URL|STORE_LEVELS|AUTH_JWT_SECRET/);
  });

  it('reports rules across settings by option name too', async () => {
    expect(await problemsOf({ storageBackend: 'redis' })).toEqual([expect.stringMatching(/^redisUrl: required when storageBackend=redis \(or redisClusterNodes/)]);
    expect(await problemsOf({ nodeEnv: 'production' })).toEqual(['authJwtSecret / authJwksUrl: one of them is required when nodeEnv=production']);
  });

  it('turns typed options into the Config the environment would give', () => {
    const config = configFromOptions({
      databaseUrl: 'postgres://db/x',
      storeLevels: ['STORED_INFO', 'ERROR'],
      messageLevel: 'INFO',
      messageExpireDays: 0,
      migrateOnStart: false,
      corsOrigins: ['https://a.example', 'https://b.example'],
      graphiql: false,
      rateLimitUserPerMinute: 30,
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://db/x',
      messageLevel: LEVELS.INFO.value,
      messageExpireDays: 0,
      migrateOnStart: false,
      corsOrigins: ['https://a.example', 'https://b.example'],
      graphiql: false,
      rateLimitUserPerMinute: 30,
    });
    expect([...config.storeLevels]).toEqual([LEVELS.STORED_INFO.value, LEVELS.ERROR.value]);
    // Defaults are the environment's, whatever the process's own environment holds.
    expect(configFromOptions({})).toMatchObject({ nodeEnv: 'development', databaseUrl: null, storageBackend: 'orm', messageExpireDays: 120, migrateOnStart: true });
  });
});
