import { z } from 'zod';
import { isLevelName, LEVELS, type LevelName } from './domain/levels.js';
import { isSignalName, type SignalName } from './domain/signals.js';
import { WEBHOOK_SIGNAL_NAMES } from './domain/webhooks.js';
import { parseClusterNodes, parseClusterUrl } from './redis/target.js';

/** The server's whole configuration, parsed once from the environment */
export interface Config {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  databaseUrl: string | null;
  /** Connections each server process keeps open at most to PostgreSQL (DATABASE_URL only; the embedded database has one). */
  databasePoolMax: number;
  storageBackend: 'orm' | 'redis';
  redisUrl: string | null;
  /** Seed nodes of a Redis Cluster for the Redis backend (`host:port,host:port`); REDIS_URL may also be `redis+cluster://…`. */
  redisClusterNodes: string | null;
  redisPrefix: string;
  auth: { jwtSecret: string | null; jwksUrl: string | null; issuer: string | null; audience: string | null };
  storeLevels: ReadonlySet<number>;
  messageLevel: number;
  messageExpireDays: number;
  dataDir: string;
  flashMax: number;
  flashTtlSeconds: number;
  eventsKeep: number;
  eventsTtlSeconds: number;
  migrateOnStart: boolean;
  cleanupIntervalSeconds: number;
  /** After SIGTERM/SIGINT: seconds of serving with /ready at 503 before closing, so a load balancer stops routing first. */
  shutdownDrainSeconds: number;
  logLevel: string;
  // Limits on requests (issue 16) ------------------------------------------------------------
  /** Origins allowed to call from a browser: `'*'` for any, or a list (empty: none). */
  corsOrigins: '*' | string[];
  /** Serve GraphiQL on GET /graphql. */
  graphiql: boolean;
  /** Answer introspection (`__schema`, `__type`); off refuses them as invalid documents (GRAPHQL_VALIDATION_FAILED). */
  introspection: boolean;
  /** Serve the web inbox's demo page at GET / (signed in as the development user). */
  demoPage: boolean;
  /** Open HTTP connections (WebSockets and SSE streams included) past which new ones are dropped. */
  maxConnections: number;
  // Rate limits and live-connection limits (docs/limits.md).
  /** Requests and subscription starts per minute per user token (no `messages:send`); null: no limit. */
  rateLimitUserPerMinute: number | null;
  /** The same for producer tokens (with `messages:send`); null: no limit. */
  rateLimitProducerPerMinute: number | null;
  /** Operations at once on one WebSocket (active subscriptions and running queries/mutations). */
  wsMaxSubscriptions: number;
  /** Open WebSockets plus SSE streams per user, per server process. */
  maxLiveConnectionsPerUser: number;
  // Operating it (CONTRACT.md §12; docs/operations.md).
  /** The bearer token GET /metrics needs; null: /metrics is open to anyone who reaches the port. */
  metricsToken: string | null;
  /** OTLP/HTTP collector base URL every operation's span goes to; null: no tracing, and the SDK is never loaded. */
  otlpEndpoint: string | null;
  /** `service.name` of the spans. */
  otelServiceName: string;
  /** Webhooks (CONTRACT.md §10): where every event goes, the signing key, the signals sent; null when WEBHOOK_URLS is unset. */
  webhooks: WebhookConfig | null;
}

export interface WebhookConfig {
  urls: string[];
  /** The HMAC-SHA256 key: the base64-decoded part of a `whsec_` secret, else the secret's UTF-8 bytes. */
  key: Buffer;
  signals: ReadonlySet<SignalName>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const DEFAULT_STORE_LEVELS = 'STORED_DEBUG,STORED_INFO,STORED_SUCCESS,STORED_WARNING,STORED_ERROR';

/** A comma-separated list, trimmed, empty items dropped. */
const commaList = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const levelList = commaList.superRefine((names, ctx) => {
  for (const n of names) if (!isLevelName(n)) ctx.addIssue({ code: 'custom', message: `unknown level name "${n}"` });
});

const level = z.string().refine(isLevelName, { message: 'unknown level name' });
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, { message: `must be a URL starting with ${protocols.join(' or ')}//` });

const WHSEC = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The signing key of a webhook secret (Standard Webhooks): `whsec_` + base64, or any other text as its UTF-8 bytes. */
export const webhookKey = (secret: string): Buffer => (secret.startsWith(WHSEC) ? Buffer.from(secret.slice(WHSEC.length), 'base64') : Buffer.from(secret, 'utf8'));

const webhookSecret = z
  .string()
  .min(24, 'must be at least 24 characters')
  .refine((v) => !v.startsWith(WHSEC) || BASE64.test(v.slice(WHSEC.length)), { message: `must be base64 after "${WHSEC}"` });

const parses = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

const schema = z.object({
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_MAX: int(1, 1000).default(10),
  STORAGE_BACKEND: z.enum(['orm', 'redis']).default('orm'),
  REDIS_URL: z
    .string()
    .refine((v) => (v.startsWith('redis+cluster:') ? parses(() => parseClusterUrl(v)) : url(['redis:', 'rediss:']).safeParse(v).success), {
      message: 'must be a URL starting with redis:// or rediss://, or redis+cluster://host:port,host:port',
    })
    .optional(),
  REDIS_CLUSTER_NODES: z.string().refine((v) => parses(() => parseClusterNodes(v)), { message: 'must be host:port,host:port' }).optional(),
  REDIS_PREFIX: z.string().min(1).max(64).regex(/^[^{}]+$/, 'must not contain { or }').default('sm:'),
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_JWKS_URL: url(['http:', 'https:']).optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  STORE_LEVELS: levelList.default(DEFAULT_STORE_LEVELS.split(',')),
  MESSAGE_LEVEL: level.default('DEBUG'),
  MESSAGE_EXPIRE_DAYS: int(0, 36500).default(120),
  DATA_DIR: z.string().min(1).default('./data'),
  FLASH_MAX: int(1, 100000).default(100),
  FLASH_TTL_SECONDS: int(1).default(86400),
  EVENTS_KEEP: int(0, 1000000).default(1000),
  EVENTS_TTL_SECONDS: int(1).default(86400),
  MIGRATE_ON_START: bool.default(true),
  CLEANUP_INTERVAL_SECONDS: int(1).default(60),
  SHUTDOWN_DRAIN_SECONDS: int(0, 3600).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Limits on requests (issue 16): the defaults of the last three depend on NODE_ENV (below).
  CORS_ORIGINS: commaList
    .superRefine((origins, ctx) => {
      for (const o of origins) {
        if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) ctx.addIssue({ code: 'custom', message: `"${o}" is not an origin (scheme://host[:port], or *)` });
      }
    })
    .optional(),
  GRAPHIQL: bool.optional(),
  INTROSPECTION: bool.optional(),
  DEMO_PAGE: bool.optional(),
  MAX_CONNECTIONS: int(1, 1_000_000).default(4096),
  // Rate limits and live-connection limits.
  RATE_LIMIT_USER_PER_MINUTE: int(1, 1_000_000).optional(),
  RATE_LIMIT_PRODUCER_PER_MINUTE: int(1, 1_000_000).optional(),
  WS_MAX_SUBSCRIPTIONS: int(1, 100_000).default(100),
  MAX_LIVE_CONNECTIONS_PER_USER: int(1, 100_000).default(20),
  // Operating it.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('stored-messages'),
  // Webhooks.
  WEBHOOK_URLS: commaList
    .superRefine((urls, ctx) => {
      for (const u of urls) if (!url(['http:', 'https:']).safeParse(u).success) ctx.addIssue({ code: 'custom', message: `"${u}" is not an http:// or https:// URL` });
    })
    .optional(),
  WEBHOOK_SECRET: webhookSecret.optional(),
  WEBHOOK_EVENTS: commaList
    .superRefine((names, ctx) => {
      for (const n of names) if (!isSignalName(n)) ctx.addIssue({ code: 'custom', message: `unknown event name "${n}" (one of ${WEBHOOK_SIGNAL_NAMES.join(', ')})` });
    })
    .optional(),
});

export interface LoadOptions {
  /** Whether the command verifies tokens (default true): `migrate` does not, so it runs without a secret in production. */
  needsAuth?: boolean;
}

/**
 * Parses the environment. Throws one ConfigError naming every bad variable at once;
 * the entry points (main.ts, cli.ts) print it and exit with code 1. Empty strings count as unset.
 */
export function loadConfig(env: Record<string, string | undefined>, opts: LoadOptions = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  }
  const e = parsed.success ? parsed.data : undefined;
  // Rules across variables read the raw values, so they are reported beside every other problem.
  const raw: Record<string, string | undefined> = cleaned;
  if (opts.needsAuth !== false && raw.NODE_ENV === 'production' && !raw.AUTH_JWT_SECRET && !raw.AUTH_JWKS_URL) {
    problems.push('AUTH_JWT_SECRET / AUTH_JWKS_URL: one of them is required when NODE_ENV=production');
  }
  if (raw.STORAGE_BACKEND === 'redis' && !raw.REDIS_URL && !raw.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_URL: required when STORAGE_BACKEND=redis (or REDIS_CLUSTER_NODES for a Redis Cluster)');
  }
  if (raw.WEBHOOK_URLS && !raw.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET: required when WEBHOOK_URLS is set (at least 24 characters, or whsec_ + base64)');
  if (problems.length || !e) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL ?? null,
    databasePoolMax: e.DATABASE_POOL_MAX,
    storageBackend: e.STORAGE_BACKEND,
    redisUrl: e.REDIS_URL ?? null,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ?? null,
    redisPrefix: e.REDIS_PREFIX,
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET ?? null,
      jwksUrl: e.AUTH_JWKS_URL ?? null,
      issuer: e.AUTH_ISSUER ?? null,
      audience: e.AUTH_AUDIENCE ?? null,
    },
    storeLevels: new Set((e.STORE_LEVELS as LevelName[]).map((n) => LEVELS[n].value)),
    messageLevel: LEVELS[e.MESSAGE_LEVEL as LevelName].value,
    messageExpireDays: e.MESSAGE_EXPIRE_DAYS,
    dataDir: e.DATA_DIR,
    flashMax: e.FLASH_MAX,
    flashTtlSeconds: e.FLASH_TTL_SECONDS,
    eventsKeep: e.EVENTS_KEEP,
    eventsTtlSeconds: e.EVENTS_TTL_SECONDS,
    migrateOnStart: e.MIGRATE_ON_START,
    cleanupIntervalSeconds: e.CLEANUP_INTERVAL_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    logLevel: e.LOG_LEVEL,
    // Limits on requests (issue 16): browsers from any origin, GraphiQL and introspection in development only.
    corsOrigins: e.CORS_ORIGINS ? (e.CORS_ORIGINS.includes('*') ? '*' : e.CORS_ORIGINS) : e.NODE_ENV === 'production' ? [] : '*',
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    introspection: e.INTROSPECTION ?? e.NODE_ENV !== 'production',
    // It hands out tokens: in development only, unless asked for (a showcase server).
    demoPage: e.DEMO_PAGE ?? e.NODE_ENV === 'development',
    maxConnections: e.MAX_CONNECTIONS,
    // Rate limits and live-connection limits.
    rateLimitUserPerMinute: e.RATE_LIMIT_USER_PER_MINUTE ?? null,
    rateLimitProducerPerMinute: e.RATE_LIMIT_PRODUCER_PER_MINUTE ?? null,
    wsMaxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
    maxLiveConnectionsPerUser: e.MAX_LIVE_CONNECTIONS_PER_USER,
    // Operating it.
    metricsToken: e.METRICS_TOKEN ?? null,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    otelServiceName: e.OTEL_SERVICE_NAME,
    webhooks:
      e.WEBHOOK_URLS?.length && e.WEBHOOK_SECRET
        ? { urls: e.WEBHOOK_URLS, key: webhookKey(e.WEBHOOK_SECRET), signals: new Set(e.WEBHOOK_EVENTS?.length ? (e.WEBHOOK_EVENTS as SignalName[]) : WEBHOOK_SIGNAL_NAMES) }
        : null,
  };
}
