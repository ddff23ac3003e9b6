import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { createCore } from './app.js';
import { getSchema } from './graphql/schema.js';
import type { GraphQLContext } from './graphql/context.js';
import { configFromOptions, type StoredMessagesOptions } from './library/options.js';
import { libraryUseCases, type StoredMessagesUseCases } from './library/use-cases.js';
import { signalsView, type StoredMessagesSignals } from './library/views.js';

export { ConfigError } from './config.js';
export { AppError, type ErrorCode } from './domain/errors.js';
export type { LevelName } from './domain/levels.js';
export type { SignalName } from './domain/signals.js';
export type { StoredMessagesOptions, StoredMessagesSettings } from './library/options.js';
export type * from './library/use-cases.js';
export type { Message, SignalEvent, StoredMessagesSignals } from './library/views.js';

/** The server inside a Node application (CONTRACT.md §13): what `npm start` serves, without its process or HTTP server. */
export interface StoredMessages {
  /**
   * The Yoga request handler: GraphQL over HTTP and SSE at `path` (plus GET /health and /ready).
   * A `node:http` request listener (`createServer(handler)`), Express or Fastify middleware
   * (`app.use(handler.graphqlEndpoint, handler)`), or a fetch handler (`handler.fetch(request)`).
   */
  handler: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /**
   * Serves GraphQL over WebSocket (graphql-transport-ws) on the application's own server at `path`,
   * with the handler's authentication, limits and error masking. Upgrades to other paths are left to
   * the server's other `upgrade` listeners. The returned function detaches it and closes its sockets.
   */
  attachWebSocket(server: Server): () => Promise<void>;
  /** The executable schema the handler serves. */
  schema: GraphQLSchema;
  /** The mutations' use cases, with their rules, signals and payloads. */
  messages: StoredMessagesUseCases;
  /** The signals of CONTRACT.md §5, once per committed change of this process. */
  signals: StoredMessagesSignals;
  /**
   * Ends subscriptions, closes attached WebSockets, storage, Redis and the embedded database, and stops
   * timers: then nothing of it keeps the process alive. The application closes its own server. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Opens storage (applying migrations unless `migrateOnStart: false`) and live delivery, and builds
 * the GraphQL handler. Rejects with a ConfigError naming every bad option, or with the storage's
 * error when the database or Redis cannot be reached (nothing is left open then).
 */
export async function createStoredMessages(options: StoredMessagesOptions = {}): Promise<StoredMessages> {
  const config = configFromOptions(options);
  const core = await createCore(config, { logger: options.logger, graphqlEndpoint: options.path });
  if (!config.auth.jwtSecret && !config.auth.jwksUrl) core.logger.warn('neither authJwtSecret nor authJwksUrl is set: every GraphQL request will be UNAUTHENTICATED');
  return {
    handler: core.yoga,
    attachWebSocket: (server) => core.attachWebSocket(server),
    schema: getSchema(),
    messages: libraryUseCases(core.messages),
    signals: signalsView(core.signals),
    close: () => core.close(),
  };
}
