import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from './target.js';

/** One server or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The longest a command may take; the slowest legitimate script (a whole-inbox walk) is far below it. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
const ERROR_LOG_INTERVAL_MS = 10_000;

/** What a connection is for; each use has its own failure behaviour (TUNING). */
export type RedisRole = 'storage' | 'live' | 'rate-limit';

type Tuning = Pick<RedisOptions, 'maxRetriesPerRequest' | 'retryStrategy' | 'autoResendUnfulfilledCommands' | 'commandTimeout' | 'enableOfflineQueue'>;

/** A rate-limit check waits at most this long; the request then goes on unlimited. */
const RATE_LIMIT_TIMEOUT_MS = 500;
const fastBackoff = (times: number) => Math.min(times * 100, 2000);

const TUNING: Record<RedisRole, (target: RedisTarget) => Tuning> = {
  // No silent resend after a dropped connection: a send script may have run without its reply
  // arriving, and running it again would store the message twice (an idempotency key makes the
  // caller's retry safe). commandTimeout bounds queued commands too: behind a proxy to a dead
  // server, ioredis' retry count restarts at each connection and a command could wait forever.
  storage: () => ({ maxRetriesPerRequest: 3, autoResendUnfulfilledCommands: false, commandTimeout: COMMAND_TIMEOUT_MS }),
  // Live events and flash lists: ioredis' default resend, fewer retries, a faster reconnect.
  live: () => ({ maxRetriesPerRequest: 2, retryStrategy: fastBackoff }),
  // While Redis is away a check fails at once on a single server; a cluster's lazily opened node
  // connections need their offline queue, bounded by the timeout.
  'rate-limit': (target) => ({
    maxRetriesPerRequest: 0,
    commandTimeout: RATE_LIMIT_TIMEOUT_MS,
    retryStrategy: fastBackoff,
    ...(target.kind === 'single' ? { enableOfflineQueue: false } : {}),
  }),
};

export interface OpenRedisOptions {
  logger: Logger;
  /** CLIENT SETNAME, and the label of this connection's log lines. */
  name: string;
  role: RedisRole;
}

/**
 * Opens a connection to one Redis server or a Redis Cluster and waits until it answers (at most 10 s);
 * throws RedisUnavailableError when it cannot. Afterwards ioredis reconnects by itself; commands fail
 * after a few reconnection attempts (per role) instead of queueing forever, and connection errors are
 * logged (at most one line per 10 s) rather than crashing the process. The only place that opens
 * Redis connections, for storage, live delivery and rate limits alike.
 *
 * No auto-pipelining: under load it keeps each tick's commands and what their callers hold alive
 * until the batch is answered, long enough to reach V8's old generation (figures in docs/performance.md).
 * Bulk work batches itself (script pipelines, live events in scripts of 250 users). On a cluster,
 * ioredis 5 could also batch commands of different slots into one pipeline and then reject it.
 */
export async function openRedis(target: RedisTarget, o: OpenRedisOptions): Promise<RedisClient> {
  const perNode = { connectionName: o.name, ...TUNING[o.role](target) };
  const client: RedisClient =
    target.kind === 'single'
      ? new Redis(target.url, { lazyConnect: true, enableAutoPipelining: false, ...perNode })
      : new Cluster(target.nodes, { lazyConnect: true, scaleReads: 'master', redisOptions: { ...perNode, username: target.username, password: target.password } });
  let lastLog = 0;
  let suppressed = 0;
  // Until the first answer, errors are the caller's (RedisUnavailableError names the first one), not log lines.
  let firstError: Error | undefined;
  let connected = false;
  client.on('error', (err: Error) => {
    if (!connected) {
      firstError ??= err;
      return;
    }
    const now = Date.now();
    if (now - lastLog < ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    o.logger.error({ err, connection: o.name, suppressed }, 'redis connection error');
    lastLog = now;
    suppressed = 0;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw new RedisUnavailableError(describeTarget(target), (err as Error).message, firstError ?? err);
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  return client;
}

/** Redis did not answer when a connection was opened; `cause` is the first error seen (ECONNREFUSED...). */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    /** Where, without the password. */
    readonly target: string,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`Redis is not reachable at ${target}: ${reason}`, { cause });
  }
}

/** Quits politely (pending replies first), or drops the connection when Redis does not answer within a second. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('quit timed out')), 1000);
      }),
    ]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

function describeTarget(t: RedisTarget): string {
  if (t.kind === 'cluster') return `cluster ${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  return t.url.replace(/\/\/[^@/]*@/, '//***@');
}
