import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from './target.js';

/** One server or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** The longest a command may take; the slowest legitimate script (a whole-inbox walk) is far below it. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
const ERROR_LOG_INTERVAL_MS = 10_000;

export interface OpenRedisOptions {
  logger: Logger;
  /** CLIENT SETNAME, and the label of this connection's log lines. */
  name: string;
  /** ioredis options for each node: what differs between storage and live delivery. */
  tuning: Pick<RedisOptions, 'maxRetriesPerRequest' | 'retryStrategy' | 'autoResendUnfulfilledCommands' | 'commandTimeout' | 'enableOfflineQueue'>;
}

/**
 * Opens a connection to one Redis server or a Redis Cluster and waits until it answers (at most 10 s);
 * throws, naming Redis, when it cannot. Afterwards ioredis reconnects by itself; commands fail after a
 * few reconnection attempts instead of queueing forever, and connection errors are logged (at most one
 * line per 10 s) rather than crashing the process. Shared by storage and live delivery.
 *
 * No auto-pipelining, anywhere. Under load it keeps each tick's commands, and everything their callers
 * hold, alive until the whole batch is answered, long enough to reach V8's old generation: W1 promoted
 * ~14 KB per send through the storage connection and ~1 KB more through live delivery's, and the GC
 * threads cost more than the writes saved (bench/profile.ts W1 --backend=redis: 3,792-3,845 msg/s
 * with it on storage, 4,081-4,254 without; then 4,266-4,464 with it on live delivery, 4,600-4,996
 * without). Bulk work batches itself: Scripts.runPipelined, and live events in scripts of 250 users.
 * On a cluster, ioredis 5 can also batch commands of different slots into one pipeline and then
 * rejects it ("same slots allocation group") when they live on different nodes.
 */
export async function openRedis(target: RedisTarget, o: OpenRedisOptions): Promise<RedisClient> {
  const perNode = { connectionName: o.name, ...o.tuning };
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

export interface RedisConnection {
  client: RedisClient;
  cluster: boolean;
}

/** The storage backend's connection. */
export async function connectRedis(target: RedisTarget, logger: Logger): Promise<RedisConnection> {
  const client = await openRedis(target, {
    logger,
    name: 'stored-messages:storage',
    // No silent resend after a dropped connection: a send script may have run without its reply
    // arriving, and running it again would store the message twice. The caller sees an error instead
    // (an idempotency key makes its retry safe).
    // commandTimeout bounds every command, queued ones included: when something accepts connections
    // but Redis never answers (a proxy or load balancer before a dead server), ioredis' retry count
    // restarts at each connection and a command could wait forever.
    tuning: { maxRetriesPerRequest: 3, autoResendUnfulfilledCommands: false, commandTimeout: COMMAND_TIMEOUT_MS },
  });
  return { client, cluster: target.kind === 'cluster' };
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
