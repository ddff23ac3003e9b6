import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from './target.js';

export type RedisClient = Redis | Cluster;

/** The longest a command may take; the slowest legitimate script (a whole-inbox walk) is far below it. */
const COMMAND_TIMEOUT_MS = 10_000;

export interface RedisConnection {
  client: RedisClient;
  cluster: boolean;
}

/**
 * Opens a connection to one Redis server or a Redis Cluster and waits until it answers; throws
 * when it cannot connect. Errors after that are logged (ioredis reconnects by itself); commands
 * fail after a few reconnection attempts instead of queueing forever. Exported for other parts
 * that need the same cluster-aware connection (REDIS_URL may be redis+cluster://).
 */
export async function connectRedis(target: RedisTarget, logger: Logger): Promise<RedisConnection> {
  // No silent resend after a dropped connection: a send script may have run without its reply
  // arriving, and running it again would store the message twice. The caller sees an error instead
  // (an idempotency key makes its retry safe).
  // commandTimeout bounds every command, queued ones included: when something accepts connections
  // but Redis never answers (a proxy or load balancer before a dead server), ioredis' retry count
  // restarts at each connection and a command could wait forever.
  const perNode = { maxRetriesPerRequest: 3, autoResendUnfulfilledCommands: false, commandTimeout: COMMAND_TIMEOUT_MS } as const;
  const common = { lazyConnect: true, enableAutoPipelining: true, ...perNode } as const;
  let client: RedisClient;
  if (target.kind === 'single') {
    client = new Redis(target.url, common);
  } else {
    // No auto-pipelining here: ioredis 5 can batch commands of different slots into one pipeline
    // and then rejects it ("same slots allocation group") when they live on different nodes.
    client = new Cluster(target.nodes, {
      lazyConnect: true,
      scaleReads: 'master',
      redisOptions: { ...perNode, username: target.username, password: target.password },
    });
  }
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // One line per 10 s at most: a Redis outage should not flood the log.
    if (Date.now() - lastLogged > 10_000) {
      lastLogged = Date.now();
      logger.warn({ err }, 'redis connection error');
    }
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(`Redis is not reachable at ${describeTarget(target)}: ${(err as Error).message}`);
  }
  return { client, cluster: target.kind === 'cluster' };
}

/** Quits politely (pending replies first), or drops the connection when Redis does not answer within a second. */
export async function closeRedis(client: RedisClient): Promise<void> {
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
