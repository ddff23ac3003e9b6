import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import pino, { type Logger } from 'pino';
import { startBackgroundJobs } from './app-jobs.js';
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
import { attachWebSocket, type WebSocketEndpoint } from './graphql/websocket.js';
import { createRealtime, type Realtime } from './realtime/index.js';
import { createRateLimiter } from './realtime/rate-limit.js';
import { createObservability } from './observability/index.js';
import { webAssets } from './web-assets.js';
import { openStorage } from './storage/index.js';
import type { WebhookTimings } from './domain/webhook-dispatch-policy.js';
import type { MessageStore } from './domain/message-store.js';

/** Everything but the HTTP server: what the app serves and what code that embeds it uses. */
export interface Core {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /** The use cases, for code that embeds the server. */
  messages: Messages;
  /** In-process signals (archiveStored, inboxStored, ...) after each committed change. */
  signals: Signals;
  /** Live delivery (subscriptions, flash messages, pub/sub). */
  realtime: Realtime;
  store: MessageStore;
  logger: Logger;
  /** Reclaims expired messages now, whether or not this instance holds the periodic cleanup's lease (the `cleanup` command). */
  cleanup(): Promise<number>;
  /** From now on /ready answers 503 while everything else keeps serving (the shutdown's drain period). */
  drain(): void;
  /**
   * Serves GraphQL over WebSocket on `server` at the GraphQL path, as HTTP is served (graphql/websocket.ts);
   * the returned function detaches it and closes its sockets, as close() does for every attached one.
   */
  attachWebSocket(server: Server): () => Promise<void>;
  /** Runs `closer` during close(), after subscriptions and WebSockets end and before storage closes (last added, first run). */
  onClose(closer: () => Promise<void>): void;
  /** Ends subscriptions, closes attached WebSockets, stops timers, closes storage and the embedded database. Idempotent. */
  close(): Promise<void>;
}

export interface App extends Core {
  /** The Node HTTP server (not listening yet): `server.listen(port)`. */
  server: Server;
}

export interface CoreOptions {
  logger?: Logger;
  /** Keep the embedded database in memory instead of under DATA_DIR (tests). */
  embeddedInMemory?: boolean;
  /** A bearer token GraphiQL opens with in its Headers tab, so the schema loads (commands/serve.ts: the development user's). Default: none. */
  graphiqlToken?: string | null;
  /** Where GraphQL is served, over HTTP and WebSocket (default `/graphql`). */
  graphqlEndpoint?: string;
  /** Serve GET /inbox.js, and the demo page when `config.demoPage` (web-assets.ts). Default false: an embedding app owns its routes. */
  webAssets?: boolean;
  /** Webhook retry delays, timeout and polling (tests shorten them); default: the contract's (domain/webhook-dispatch-policy.ts). */
  webhookTimings?: Partial<WebhookTimings>;
  /** Deliver webhooks from this process (default true); the CLI's writes leave them to the servers. The outbox is written either way. */
  dispatchWebhooks?: boolean;
}

export interface AppOptions extends CoreOptions {
  /**
   * How long a client may take to send a request's headers (default 10 s) and its whole request,
   * body included (default 30 s), before Node answers 408 and closes the connection. A response
   * (an SSE stream) may last longer: only receiving the request is timed.
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * The composition root: builds storage, use cases and the GraphQL server from a Config, and an HTTP
 * server for them (not listening yet) with GraphQL over WebSocket on it.
 * No process globals are touched; the entry points (main.ts, cli.ts: commands/serve.ts) own the process.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const core = await createCore(config, { webAssets: true, ...options });
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // Node checks those timeouts on this interval (30 s by default, which would double them).
      connectionsCheckingInterval: Math.max(100, Math.min(2_000, headersTimeout / 4)),
    },
    core.yoga,
  );
  server.maxConnections = config.maxConnections;
  core.attachWebSocket(server);
  // After subscriptions and sockets end (core.close): the HTTP server then waits only for requests still running.
  core.onClose(() => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
  return { ...core, server };
}

/**
 * Storage, live delivery, use cases and the Yoga instance, without an HTTP server: createApp adds its
 * own, the library (library.ts) serves on the embedding application's.
 */
export async function createCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const closers: (() => Promise<void>)[] = [];
  const sockets = new Set<WebSocketEndpoint>();
  let endSubscriptions = async () => {};
  let draining = false;
  const closeAll = async () => {
    // Subscriptions and sockets end first, so the servers' connections (SSE streams) can finish.
    await endSubscriptions().catch((err) => logger.error({ err }, 'error while ending subscriptions'));
    await Promise.all([...sockets].map((s) => s.close()));
    sockets.clear();
    for (const c of closers.splice(0).reverse()) await c().catch((err) => logger.error({ err }, 'error while closing'));
  };

  try {
    // Closed last (closers run in reverse), so the spans of everything closing before it are exported.
    const observability = await createObservability(config, { logger });
    closers.push(() => observability.close());
    const storage = await openStorage(config, {
      logger,
      embeddedInMemory: options.embeddedInMemory,
      onSendBatch: observability.onSendBatch,
      webhookSignals: config.webhooks?.signals ?? null,
    });
    const store = observability.instrument(storage);
    closers.push(() => store.close());
    const signals = new Signals((err) => logger.error({ err }, 'signal listener failed'));
    // Live delivery reads through the use cases made below (they need its flash store); it reads only once subscriptions start.
    const reads: LiveReads = {
      counts: (viewer) => messages.counts(viewer),
      broadcastViews: (messageId, userIds) => store.broadcastViews(messageId, userIds),
      retractedViews: (messageId, userIds) => store.retractedViews(messageId, userIds),
    };
    const realtime = await createRealtime(config, { logger, signals, reads, onLiveEventLag: observability.onLiveEventLag });
    closers.push(() => realtime.close());
    endSubscriptions = () => realtime.endSubscriptions();
    const flash = realtime.flash;
    const messages = createMessages({
      store,
      flash,
      signals,
      storeLevels: config.storeLevels,
      messageLevel: config.messageLevel,
      messageExpireDays: config.messageExpireDays,
    });

    const graphqlEndpoint = options.graphqlEndpoint ?? '/graphql';
    const authenticate = createAuthenticator(config.auth);
    const graphiql = config.graphiql ? ownGraphiQL({ token: options.graphiqlToken }) : null;
    // Null when no rate limit is set: then no plugin is installed and requests pay nothing for it.
    const limiter = await createRateLimiter(config, { logger });
    if (limiter) closers.push(() => limiter.close());
    const liveConnections = new LiveConnections(config.maxLiveConnectionsPerUser);
    const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
      schema: getSchema(),
      graphqlEndpoint,
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
        ...(options.webAssets ? [webAssets(config)] : []),
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

    const jobs = startBackgroundJobs({ config, options, storage, store, signals, flash, logger, observability });
    closers.push(...jobs.closers);

    let closing: Promise<void> | null = null;
    return {
      yoga,
      messages,
      signals,
      realtime,
      store,
      logger,
      cleanup: () => jobs.cleanupNow(),
      drain: () => {
        draining = true;
      },
      attachWebSocket: (server) => {
        const endpoint = attachWebSocket({
          server,
          path: graphqlEndpoint,
          yoga,
          authenticate,
          logger,
          limiter,
          connections: liveConnections,
          maxSubscriptionsPerSocket: config.wsMaxSubscriptions,
        });
        sockets.add(endpoint);
        return async () => {
          sockets.delete(endpoint);
          await endpoint.close();
        };
      },
      onClose: (closer) => void closers.push(closer),
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
