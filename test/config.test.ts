import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { WEBHOOK_SIGNAL_NAMES } from '../src/domain/webhooks.js';
import { configFromOptions } from '../src/library/options.js';
import { runSource } from './processes.js';

/**
 * CONTRACT.md §1: a configuration error stops the server at start with one message naming every
 * bad variable, and exit code 1; production refuses to start without a way to verify tokens.
 */

/** The problems loadConfig reports for `env`; fails when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The variables named at the start of the problems ("PORT: …", "AUTH_JWT_SECRET / AUTH_JWKS_URL: …"). */
const named = (problems: string[]) => new Set(problems.flatMap((p) => p.split(':')[0].split('/').map((s) => s.trim())));

describe('loadConfig', () => {
  it('has the documented defaults, and treats empty variables as unset', () => {
    for (const env of [{}, { PORT: '', DATABASE_URL: '', REDIS_URL: '', STORE_LEVELS: '', MESSAGE_LEVEL: '' }]) {
      const c = loadConfig(env);
      expect(c).toMatchObject({
        port: 4000,
        host: '0.0.0.0',
        nodeEnv: 'development',
        databaseUrl: null,
        databasePoolMax: 10,
        storageBackend: 'orm',
        redisUrl: null,
        auth: { jwtSecret: null, jwksUrl: null, issuer: null, audience: null },
        messageLevel: 10,
        messageExpireDays: 120,
        dataDir: './data',
        flashMax: 100,
        flashTtlSeconds: 86_400,
        eventsKeep: 1_000,
        eventsTtlSeconds: 86_400,
        migrateOnStart: true,
      });
      expect([...c.storeLevels].sort()).toEqual([11, 21, 26, 31, 41]);
    }
  });

  it('reads every variable of the contract', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db.example:5432/sm',
      DATABASE_POOL_MAX: '25',
      REDIS_URL: 'redis://cache.example:6379/2',
      AUTH_JWT_SECRET: 's'.repeat(32),
      AUTH_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      AUTH_ISSUER: 'https://id.example',
      AUTH_AUDIENCE: 'stored-messages',
      STORE_LEVELS: 'INFO, STORED_ERROR',
      MESSAGE_LEVEL: 'WARNING',
      MESSAGE_EXPIRE_DAYS: '0',
      DATA_DIR: '/var/lib/sm',
      FLASH_MAX: '5',
      FLASH_TTL_SECONDS: '60',
      EVENTS_KEEP: '10',
      EVENTS_TTL_SECONDS: '120',
      MIGRATE_ON_START: 'false',
    });
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      nodeEnv: 'production',
      databaseUrl: 'postgres://u@db.example:5432/sm',
      databasePoolMax: 25,
      redisUrl: 'redis://cache.example:6379/2',
      auth: { jwtSecret: 's'.repeat(32), jwksUrl: 'https://id.example/.well-known/jwks.json', issuer: 'https://id.example', audience: 'stored-messages' },
      messageLevel: 30,
      messageExpireDays: 0,
      dataDir: '/var/lib/sm',
      flashMax: 5,
      flashTtlSeconds: 60,
      eventsKeep: 10,
      eventsTtlSeconds: 120,
      migrateOnStart: false,
    });
    expect([...c.storeLevels].sort()).toEqual([20, 41]);
  });

  it('reports every bad variable at once', () => {
    const bad = {
      PORT: 'eighty',
      NODE_ENV: 'staging',
      DATABASE_URL: 'mysql://db.example/sm',
      DATABASE_POOL_MAX: '0',
      STORAGE_BACKEND: 'mongo',
      REDIS_URL: 'http://cache.example',
      AUTH_JWT_SECRET: 'short',
      AUTH_JWKS_URL: 'ftp://id.example/jwks.json',
      STORE_LEVELS: 'STORED_INFO,LOUD',
      MESSAGE_LEVEL: 'VERBOSE',
      MESSAGE_EXPIRE_DAYS: '-1',
      FLASH_MAX: '0',
      FLASH_TTL_SECONDS: 'a day',
      EVENTS_KEEP: '-5',
      EVENTS_TTL_SECONDS: '0',
      MIGRATE_ON_START: 'maybe',
    };
    const problems = problemsOf(bad);
    expect([...named(problems)].sort()).toEqual(Object.keys(bad).sort());
    // The error's message lists them all too (main.ts prints it).
    const message = (() => {
      try {
        loadConfig(bad);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    for (const name of Object.keys(bad)) expect(message).toContain(name);
  });

  it('reads the request limits: CORS_ORIGINS, GRAPHIQL, INTROSPECTION (by NODE_ENV unless set) and MAX_CONNECTIONS', () => {
    const prod = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(32) };
    expect(loadConfig({})).toMatchObject({ corsOrigins: '*', graphiql: true, introspection: true, maxConnections: 4096 });
    expect(loadConfig(prod)).toMatchObject({ corsOrigins: [], graphiql: false, introspection: false });
    expect(loadConfig({ ...prod, CORS_ORIGINS: 'https://a.example, http://localhost:3000', GRAPHIQL: 'true', INTROSPECTION: '1', MAX_CONNECTIONS: '10' })).toMatchObject({
      corsOrigins: ['https://a.example', 'http://localhost:3000'],
      graphiql: true,
      introspection: true,
      maxConnections: 10,
    });
    expect(named(problemsOf({ CORS_ORIGINS: 'a.example', GRAPHIQL: 'yes', MAX_CONNECTIONS: '0' }))).toEqual(new Set(['CORS_ORIGINS', 'GRAPHIQL', 'MAX_CONNECTIONS']));
  });

  it('rejects unknown level names, naming them', () => {
    const problems = problemsOf({ STORE_LEVELS: 'STORED_INFO,LOUD,STORED_ERROR', MESSAGE_LEVEL: 'stored_info' });
    expect([...named(problems)].sort()).toEqual(['MESSAGE_LEVEL', 'STORE_LEVELS']);
    expect(problems.join('\n')).toContain('LOUD');
    for (const level of ['info', 'Info', 'INFO ', 'STORED-INFO', '20']) expect(named(problemsOf({ MESSAGE_LEVEL: level }))).toEqual(new Set(['MESSAGE_LEVEL']));
    expect(loadConfig({ MESSAGE_LEVEL: 'STORED_ERROR' }).messageLevel).toBe(41);
  });

  it('refuses production without AUTH_JWT_SECRET or AUTH_JWKS_URL, even beside other problems', () => {
    expect(named(problemsOf({ NODE_ENV: 'production' }))).toContain('AUTH_JWT_SECRET');
    const both = named(problemsOf({ NODE_ENV: 'production', PORT: 'eighty', MESSAGE_LEVEL: 'LOUD' }));
    expect([...both].sort()).toEqual(['AUTH_JWKS_URL', 'AUTH_JWT_SECRET', 'MESSAGE_LEVEL', 'PORT']);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(16) }).auth.jwtSecret).toBe('s'.repeat(16));
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth.jwksUrl).toBe('https://id.example/jwks.json');
    expect(loadConfig({ NODE_ENV: 'development' }).auth.jwtSecret).toBeNull(); // main.ts makes a development secret
  });

  it('needs REDIS_URL for the Redis backend, even beside other problems', () => {
    expect(named(problemsOf({ STORAGE_BACKEND: 'redis' }))).toContain('REDIS_URL');
    expect([...named(problemsOf({ STORAGE_BACKEND: 'redis', PORT: '-1' }))]).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL']));
  });

  it('reads the rate and live-connection limits (unset rate: none), refusing bad values', () => {
    expect(loadConfig({})).toMatchObject({ rateLimitUserPerMinute: null, rateLimitProducerPerMinute: null, wsMaxSubscriptions: 100, maxLiveConnectionsPerUser: 20 });
    const set = { RATE_LIMIT_USER_PER_MINUTE: '120', RATE_LIMIT_PRODUCER_PER_MINUTE: '6000', WS_MAX_SUBSCRIPTIONS: '10', MAX_LIVE_CONNECTIONS_PER_USER: '3' };
    expect(loadConfig(set)).toMatchObject({ rateLimitUserPerMinute: 120, rateLimitProducerPerMinute: 6000, wsMaxSubscriptions: 10, maxLiveConnectionsPerUser: 3 });
    const bad = { RATE_LIMIT_USER_PER_MINUTE: '0', RATE_LIMIT_PRODUCER_PER_MINUTE: 'lots', WS_MAX_SUBSCRIPTIONS: '-1', MAX_LIVE_CONNECTIONS_PER_USER: '1.5' };
    expect([...named(problemsOf(bad))].sort()).toEqual(Object.keys(bad).sort());
  });

  it('reads the webhooks (CONTRACT.md §10): both secret forms, every signal by default, and names every bad variable', () => {
    expect(loadConfig({}).webhooks).toBeNull();
    const utf8 = loadConfig({ WEBHOOK_URLS: 'https://a.example/hook, http://127.0.0.1:9/in', WEBHOOK_SECRET: 'é'.repeat(24) }).webhooks!;
    expect(utf8.urls).toEqual(['https://a.example/hook', 'http://127.0.0.1:9/in']);
    expect(utf8.key.equals(Buffer.from('é'.repeat(24), 'utf8'))).toBe(true);
    expect([...utf8.signals].sort()).toEqual([...WEBHOOK_SIGNAL_NAMES].sort());
    const raw = Buffer.from('a key of any bytes \x00\xff', 'latin1');
    const whsec = loadConfig({ WEBHOOK_URLS: 'http://h.example', WEBHOOK_SECRET: `whsec_${raw.toString('base64')}`, WEBHOOK_EVENTS: 'INBOX_STORED,INBOX_PURGED' }).webhooks!;
    expect(whsec.key.equals(raw)).toBe(true);
    expect([...whsec.signals].sort()).toEqual(['INBOX_PURGED', 'INBOX_STORED']);

    const problems = problemsOf({ WEBHOOK_URLS: 'https://ok.example,ftp://files.example,not a url', WEBHOOK_SECRET: 'x'.repeat(23), WEBHOOK_EVENTS: 'INBOX_STORED,INBOX_READ' });
    expect([...named(problems)].sort()).toEqual(['WEBHOOK_EVENTS', 'WEBHOOK_SECRET', 'WEBHOOK_URLS']);
    for (const word of ['ftp://files.example', 'not a url', '24 characters', 'INBOX_READ']) expect(problems.join('\n')).toContain(word);
    expect(problems.join('\n')).not.toContain('https://ok.example');
    expect(named(problemsOf({ WEBHOOK_URLS: 'https://a.example' }))).toEqual(new Set(['WEBHOOK_SECRET']));
    expect(named(problemsOf({ WEBHOOK_URLS: 'https://a.example', WEBHOOK_SECRET: 'whsec_not*base64*at*all*' }))).toEqual(new Set(['WEBHOOK_SECRET']));
  });

  it('takes the webhooks as library options, named as options in errors', () => {
    const c = configFromOptions({ webhookUrls: ['https://a.example/hook'], webhookSecret: 's'.repeat(24), webhookEvents: ['ARCHIVE_DELETED'] });
    expect(c.webhooks).toMatchObject({ urls: ['https://a.example/hook'], signals: new Set(['ARCHIVE_DELETED']) });
    const err = (() => {
      try {
        configFromOptions({ webhookUrls: ['mailto:a@b.example'], webhookSecret: 'short', webhookEvents: ['NOPE' as never] });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect([...named(err.problems)].sort()).toEqual(['webhookEvents', 'webhookSecret', 'webhookUrls']);
  });
});

const runMain = (env: Record<string, string>) => runSource('src/main.ts', [], env, 25_000);

describe('npm start with a bad configuration', () => {
  it('exits with code 1 and one message naming every bad variable', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sm-config-'));
    try {
      const r = await runMain({
        NODE_ENV: 'production',
        PORT: 'eighty',
        STORE_LEVELS: 'STORED_INFO,LOUD',
        DATABASE_URL: 'mysql://db.example/sm',
        LOG_LEVEL: 'loud',
        DATA_DIR: dataDir,
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.match(/invalid configuration/g), r.stderr).toHaveLength(1);
      for (const name of ['PORT', 'STORE_LEVELS', 'DATABASE_URL', 'LOG_LEVEL', 'AUTH_JWT_SECRET']) expect(r.stderr).toContain(name);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(r.stdout).not.toMatch(/Bearer|token/i);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);

  it('exits with code 1 in development too', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sm-config-'));
    try {
      const r = await runMain({ MESSAGE_LEVEL: 'LOUD', DATA_DIR: dataDir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('MESSAGE_LEVEL');
      expect(r.stdout).not.toMatch(/Bearer/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);

  it('exits with code 1 naming a bad webhook URL, a short secret and an unknown event name', async () => {
    const r = await runMain({ WEBHOOK_URLS: 'htp://typo.example/hook', WEBHOOK_SECRET: 'too-short', WEBHOOK_EVENTS: 'INBOX_STORED,MESSAGE_SENT', DATA_DIR: '/nonexistent/never-created' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/WEBHOOK_URLS: "htp:\/\/typo.example\/hook" is not an http:\/\/ or https:\/\/ URL/);
    expect(r.stderr).toMatch(/WEBHOOK_SECRET: must be at least 24 characters/);
    expect(r.stderr).toMatch(/WEBHOOK_EVENTS: unknown event name "MESSAGE_SENT"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 40_000);
});
