import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import pino, { type Logger } from 'pino';
import { healthChecks, requireAuthentication, tagUnexpected } from './app-plugins.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import type { Config } from './config.js';
import { AppError } from './domain/errors.js';
import type { LiveHub, LiveReads } from './domain/live.js';
import { createMessages, type Messages } from './domain/messages.js';
import { Signals } from './domain/signals.js';
import { limitAnswerSize } from './graphql/answer-limit.js';
import { limitRequestBody } from './graphql/body-limit.js';
import { corsFor, refuseFormPosts } from './graphql/cross-origin.js';
import { documentLimits } from './graphql/document-limits.js';
import { createMaskError } from './graphql/errors.js';
import { compiledExecution } from './graphql/execution.js';
import { limitLiveStreams, limitRate } from './graphql/rate-limit.js';
import { refuseMalformedParams } from './graphql/request-params.js';
import type { GraphQLContext } from './graphql/context.js';
import { ownGraphiQL } from './graphql/graphiql.js';
import { limitIdsPerOperation } from './graphql/operation-limits.js';
import { getSchema } from './graphql/schema.js';
import { LiveConnections } from './graphql/live-connections.js';
import { attachWebSocket } from './graphql/websocket.js';
import { createRealtime, type Realtime } from './realtime/index.js';
import { createRateLimiter } from './realtime/rate-limit.js';
import { createObservability } from './observability/index.js';
import { openStorage } from './storage/index.js';
import type { MessageStore } from './domain/message-store.js';

export interface App {
  /** The Node HTTP server (not listening yet): `server.listen(port)`. */
  server: Server;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The use cases, for code that embeds the server. */
  messages: Messages;
  /** In-process signals (archiveStored, inboxStored, ...) after each committed change. */
  signals: Signals;
  /** Live delivery (subscriptions, flash messages, pub/sub). */
  realtime: Realtime;
  store: MessageStore;
  logger: Logger;
  /** Reclaims expired messages now (the periodic cleanup calls this). */
  cleanup(): Promise<number>;
  /** From now on /ready answers 503 while everything else keeps serving (the shutdown's drain period). */
  drain(): void;
  /** Stops timers, closes the HTTP server, storage and the embedded database. Idempotent. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Keep the embedded database in memory instead of under DATA_DIR (tests). */
  embeddedInMemory?: boolean;
  /**
   * How long a client may take to send a request's headers (default 10 s) and its whole request,
   * body included (default 30 s), before Node answers 408 and closes the connection. A response
   * (an SSE stream) may last longer: only receiving the request is timed.
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** A bearer token GraphiQL opens with in its Headers tab, so the schema loads (commands/serve.ts: the development user's). Default: none. */
  graphiqlToken?: string | null;
}

const CLEANUP_BATCH = 1000;

/**
 * The composition root: builds storage, use cases and the GraphQL server from a Config.
 * No process globals are touched; the entry points (main.ts, cli.ts: commands/serve.ts) own the process.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const closers: (() => Promise<void>)[] = [];
  let draining = false;
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err) => logger.error({ err }, 'error while closing'));
  };

  try {
    // Closed last (closers run in reverse), so the spans of everything closing before it are exported.
    const observability = await createObservability(config, { logger });
    closers.push(() => observability.close());
    const store = observability.instrument(await openStorage(config, { logger, embeddedInMemory: options.embeddedInMemory }));
    closers.push(() => store.close());
    const signals = new Signals((err) => logger.error({ err }, 'signal listener failed'));
    // Live delivery reads through the use cases made below (they need its flash store); it reads only once subscriptions start.
    const reads: LiveReads = {
      unreadCount: (viewer) => messages.unreadCount(viewer),
      broadcastViews: (messageId, userIds) => store.broadcastViews(messageId, userIds),
    };
    const realtime = await createRealtime(config, { logger, signals, reads });
    closers.push(() => realtime.close());
    const flash = realtime.flash;
    const messages = createMessages({
      store,
      flash,
      signals,
      storeLevels: config.storeLevels,
      messageLevel: config.messageLevel,
      messageExpireDays: config.messageExpireDays,
    });

    const authenticate = createAuthenticator(config.auth);
    const graphiql = config.graphiql ? ownGraphiQL({ token: options.graphiqlToken }) : null;
    // Null when no rate limit is set: then no plugin is installed and requests pay nothing for it.
    const limiter = await createRateLimiter(config, { logger });
    if (limiter) closers.push(() => limiter.close());
    const liveConnections = new LiveConnections(config.maxLiveConnectionsPerUser);
    const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
      schema: getSchema(),
      graphqlEndpoint: '/graphql',
      logging: false,
      landingPage: false,
      // GET /health (the process is up) is Yoga's built-in health check; /ready is ours (healthChecks).
      graphiql: graphiql?.options ?? false,
      renderGraphiQL: graphiql?.render,
      cors: corsFor(config.corsOrigins),
      // Form and multipart posts are refused (refuseFormPosts); nothing here uploads files.
      multipart: false,
      maskedErrors: { maskError: createMaskError(logger), isDev: false },
      // The body limit (4 MiB) is enforced by limitRequestBody instead of Yoga (the same answers, without
      // streaming every body through a counter: see graphql/body-limit.ts).
      maxRequestBodySize: false,
      context: async ({ request }) => contextFor(request, authenticate, messages, realtime.live),
      plugins: [
        ...observability.plugins,
        requireAuthentication(logger),
        tagUnexpected(),
        healthChecks(store, realtime, () => draining),
        limitRequestBody(),
        ...(graphiql ? [graphiql.assets] : []),
        ...(limiter ? [limitRate(limiter, authenticate)] : []),
        refuseMalformedParams(),
        refuseFormPosts(),
        ...documentLimits({ introspection: config.introspection }),
        limitIdsPerOperation(),
        // After the compiled execution: it measures the answer whatever executed it.
        ...compiledExecution(logger),
        limitAnswerSize(),
        limitLiveStreams(liveConnections),
      ],
    });

    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    const server = createServer(
      {
        headersTimeout,
        requestTimeout: options.requestTimeoutMs ?? 30_000,
        // Node checks those timeouts on this interval (30 s by default, which would double them).
        connectionsCheckingInterval: Math.max(100, Math.min(2_000, headersTimeout / 4)),
      },
      yoga,
    );
    server.maxConnections = config.maxConnections;
    closers.push(() => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
    // Same HTTP server and path for GraphQL over WebSocket. Closers run last-in first-out: subscriptions
    // and sockets end before the HTTP server waits for its connections (SSE streams) to finish.
    const websocket = attachWebSocket({
      server,
      yoga,
      authenticate,
      logger,
      limiter,
      connections: liveConnections,
      maxSubscriptionsPerSocket: config.wsMaxSubscriptions,
    });
    closers.push(async () => {
      await realtime.endSubscriptions();
      await websocket.close();
    });

    const cleanup = async () => {
      let total = 0;
      for (let n = CLEANUP_BATCH; n === CLEANUP_BATCH; ) {
        n = await store.cleanupExpired(CLEANUP_BATCH);
        total += n;
      }
      await flash.sweep();
      return total;
    };
    const timer = setInterval(() => {
      cleanup().catch((err) => logger.error({ err }, 'expired-message cleanup failed'));
    }, config.cleanupIntervalSeconds * 1000);
    timer.unref();
    closers.push(async () => clearInterval(timer));

    let closing: Promise<void> | null = null;
    return {
      server,
      yoga,
      messages,
      signals,
      realtime,
      store,
      logger,
      cleanup,
      drain: () => {
        draining = true;
      },
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function contextFor(request: Request, authenticate: Authenticator, messages: Messages, live: LiveHub): Promise<GraphQLContext> {
  const requestId = request.headers.get('x-request-id')?.slice(0, 100) || randomUUID();
  try {
    return { auth: await authenticate(request.headers.get('authorization')), authError: null, messages, live, requestId };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { auth: null, authError: err, messages, live, requestId };
  }
}
