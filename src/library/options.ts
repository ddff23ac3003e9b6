import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { LevelName } from '../domain/levels.js';
import type { SignalName } from '../domain/signals.js';

/**
 * The settings of CONTRACT.md §1 as typed fields, each the camelCase of its environment variable
 * (`databaseUrl` is `DATABASE_URL`), with the same defaults and the same validation. Nothing is read
 * from `process.env`. The HTTP server's own settings (`PORT`, `HOST`, `MAX_CONNECTIONS`,
 * `SHUTDOWN_DRAIN_SECONDS`) are not here: the embedding application owns its server.
 */
export interface StoredMessagesSettings {
  /** `postgres://…` selects PostgreSQL; unset: the embedded database under `dataDir`. */
  databaseUrl?: string;
  databasePoolMax?: number;
  /** `orm` (default: PostgreSQL or the embedded database) or `redis` (needs `redisUrl`). */
  storageBackend?: 'orm' | 'redis';
  /** `redis://…`: live events and flash messages go through Redis, so several processes behave as one. */
  redisUrl?: string;
  redisClusterNodes?: string;
  redisPrefix?: string;
  /** HS256 secret of the bearer tokens the handler accepts. Without it or `authJwksUrl`, every GraphQL request is UNAUTHENTICATED. */
  authJwtSecret?: string;
  authJwksUrl?: string;
  authIssuer?: string;
  authAudience?: string;
  /** Levels `addMessage` stores (default: the five STORED_ levels); the others are flash messages. */
  storeLevels?: readonly LevelName[];
  /** The lowest level `addMessage` accepts (default `DEBUG`). */
  messageLevel?: LevelName;
  /** Days until a stored message expires (default 120; 0: never). */
  messageExpireDays?: number;
  /** Where the embedded database keeps its files (default `./data`). */
  dataDir?: string;
  flashMax?: number;
  flashTtlSeconds?: number;
  eventsKeep?: number;
  eventsTtlSeconds?: number;
  /** Apply pending migrations before serving (default true). */
  migrateOnStart?: boolean;
  cleanupIntervalSeconds?: number;
  /** Default `development`; `production` turns GraphiQL, introspection and any-origin CORS off by default. */
  nodeEnv?: 'development' | 'production' | 'test';
  /** Level of the logger made when `logger` is not given (default `info`). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Browser origins allowed to call the handler, or `['*']`. */
  corsOrigins?: readonly string[];
  graphiql?: boolean;
  introspection?: boolean;
  rateLimitUserPerMinute?: number;
  rateLimitProducerPerMinute?: number;
  wsMaxSubscriptions?: number;
  maxLiveConnectionsPerUser?: number;
  /** Endpoints (http:// or https://) that each receive every inbox event as a signed POST (CONTRACT.md §10); unset: no webhooks. */
  webhookUrls?: readonly string[];
  /** The signing secret, required with `webhookUrls`: at least 24 characters, or `whsec_` + base64. */
  webhookSecret?: string;
  /** The signals sent (default: all). */
  webhookEvents?: readonly SignalName[];
}

export interface StoredMessagesOptions extends StoredMessagesSettings {
  /** Where the handler and attached WebSockets serve GraphQL (default `/graphql`): the path the request arrives with, mount prefixes included. */
  path?: string;
  /** A pino logger for errors and warnings; default: a new one at `logLevel`, writing to standard output. */
  logger?: Logger;
}

/** Every setting, so an unknown option (a typo from JavaScript) is named, not ignored. */
const SETTINGS: Record<keyof StoredMessagesSettings, true> = {
  databaseUrl: true,
  databasePoolMax: true,
  storageBackend: true,
  redisUrl: true,
  redisClusterNodes: true,
  redisPrefix: true,
  authJwtSecret: true,
  authJwksUrl: true,
  authIssuer: true,
  authAudience: true,
  storeLevels: true,
  messageLevel: true,
  messageExpireDays: true,
  dataDir: true,
  flashMax: true,
  flashTtlSeconds: true,
  eventsKeep: true,
  eventsTtlSeconds: true,
  migrateOnStart: true,
  cleanupIntervalSeconds: true,
  nodeEnv: true,
  logLevel: true,
  corsOrigins: true,
  graphiql: true,
  introspection: true,
  rateLimitUserPerMinute: true,
  rateLimitProducerPerMinute: true,
  wsMaxSubscriptions: true,
  maxLiveConnectionsPerUser: true,
  webhookUrls: true,
  webhookSecret: true,
  webhookEvents: true,
};
const OTHER_OPTIONS = new Set(['path', 'logger']);

const envName = (option: string) => option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const optionByEnvName = new Map(Object.keys(SETTINGS).map((option) => [envName(option), option]));

/**
 * Builds the Config through loadConfig, the one owner of its rules: each setting becomes its variable.
 * Throws a ConfigError naming every bad option at once, by its option name.
 */
export function configFromOptions(options: StoredMessagesOptions): Config {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const [option, value] of Object.entries(options)) {
    if (OTHER_OPTIONS.has(option) || value === undefined) continue;
    if (!Object.hasOwn(SETTINGS, option)) problems.push(`${option}: unknown option`);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) env[envName(option)] = value.join(',');
    else if (['string', 'number', 'boolean'].includes(typeof value)) env[envName(option)] = String(value);
    else problems.push(`${option}: must be a string, a number, a boolean or a list of strings`);
  }
  try {
    const config = loadConfig(env);
    if (problems.length) throw new ConfigError([]);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The rules name environment variables; the caller wrote options.
    const renamed = err.problems.map((p) => p.replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{2,}\b/g, (word) => optionByEnvName.get(word) ?? word));
    throw new ConfigError([...problems, ...renamed]);
  }
}
