import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../auth.js';
import type { Viewer } from '../domain/messages.js';
import type { RateLimiter } from '../domain/rate-limit.js';
import { rateLimited, tooManyLive } from './limit-errors.js';
import type { LiveConnections } from './live-connections.js';

/** Our close codes (graphql-ws uses 4403 "Forbidden" for a refused connection_init). */
export const CLOSE_TOKEN_EXPIRED = 4401;
/**
 * The user already holds MAX_LIVE_CONNECTIONS_PER_USER live connections. Not 4403: that means "bad
 * token" and invites a retry with a fresh one. 4429 mirrors HTTP 429, and
 * graphql-ws clients (which use it for "too many connection_init") stop instead of reconnecting in a loop.
 */
export const CLOSE_TOO_MANY_CONNECTIONS = 4429;

const MAX_TIMER_MS = 2 ** 31 - 1;
const CLOSE_GRACE_MS = 1000;
const MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface WebSocketOptions {
  server: Server;
  /** The path served (default `/graphql`); upgrades to other paths are left to the server's other `upgrade` listeners, or refused with 400 when there are none. */
  path?: string;
  // The Yoga instance's own context type does not matter here: only getEnveloped is used.
  yoga: YogaServerInstance<Record<string, unknown>, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  authenticate: Authenticator;
  logger: Logger;
  /** Ping interval, and how long a pong may take before the socket is dropped (default 12 s). */
  keepAliveMs?: number;
  /** A socket that sends no `connection_init` within this is closed with 4408 (default 5 s). */
  connectionInitWaitTimeoutMs?: number;
  /** Operations at once per socket (subscriptions, and queries or mutations still running); one more is refused with RATE_LIMITED, the socket stays open (default 100). */
  maxSubscriptionsPerSocket?: number;
  /** Each user's live connections; a socket past the user's ceiling is closed at `connection_init` with 4429. Absent: no ceiling. */
  connections?: LiveConnections;
  /** Counts every `subscribe` message (any operation) against the caller's budget; one over it is refused with RATE_LIMITED. Absent: no limit. */
  limiter?: RateLimiter | null;
}

export interface WebSocketEndpoint {
  /** Open sockets. */
  sockets(): number;
  /** Closes every socket (1001 "Going away"; sockets that do not finish the close handshake in 1 s are dropped). */
  close(): Promise<void>;
}

type Extra = {
  authorization?: string;
  viewer?: Viewer;
};

type RootValue = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's /graphql (or `path`), through Yoga's envelop:
 * the same schema, context, authorization, error masking and plugins as HTTP and SSE. The token comes
 * from `connection_init` `{ authorization: "Bearer <JWT>" }` (the key in any letter case): none or an invalid one closes the socket
 * with 4403; an open socket is closed with 4401 when its token expires. Every operation re-verifies the
 * token through the ordinary context (the Authorization header of a request built for it).
 */
export function attachWebSocket(o: WebSocketOptions): WebSocketEndpoint {
  // noServer: ws given the server itself would refuse every upgrade to another path, the embedding application's own WebSockets included.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  const path = o.path ?? '/graphql';
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req.url) === path) wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    else if (o.server.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
  o.server.on('upgrade', onUpgrade);
  const expiryTimers = new Map<WebSocket, NodeJS.Timeout>();

  const closeAtExpiry = (socket: WebSocket, exp: number) => {
    const left = exp * 1000 - Date.now();
    if (left > MAX_TIMER_MS) {
      expiryTimers.set(socket, setTimeout(() => closeAtExpiry(socket, exp), MAX_TIMER_MS));
      return;
    }
    expiryTimers.set(
      socket,
      setTimeout(() => {
        expiryTimers.delete(socket);
        socket.close(CLOSE_TOKEN_EXPIRED, 'Unauthorized: token expired');
      }, Math.max(0, left)),
    );
  };

  wss.on('connection', (socket) => {
    socket.once('close', () => {
      clearTimeout(expiryTimers.get(socket));
      expiryTimers.delete(socket);
    });
  });

  const maxOperations = o.maxSubscriptionsPerSocket ?? 100;

  /** Counts the socket against its user's ceiling until it closes; false (the socket closed with 4429, or gone) when it may not stay. */
  const admitConnection = (socket: WebSocket, userId: string): boolean => {
    if (!o.connections) return true;
    // Closed while its token was being verified: no close event is left to uncount it.
    if (socket.readyState !== socket.OPEN) return false;
    if (!o.connections.tryOpen(userId)) {
      socket.close(CLOSE_TOO_MANY_CONNECTIONS, 'Too many live connections');
      return false;
    }
    const connections = o.connections;
    socket.once('close', () => connections.close(userId));
    return true;
  };

  useServer<Record<string, unknown>, Extra>(
    {
      isProd: true,
      connectionInitWaitTimeout: o.connectionInitWaitTimeoutMs ?? 5000,
      async onConnect(ctx) {
        const authorization = authorizationParam(ctx.connectionParams);
        if (authorization === undefined) return false;
        let auth;
        try {
          auth = await o.authenticate(authorization);
        } catch {
          return false;
        }
        // After a 4429 close, graphql-ws' own 4403 close is a no-op: the first close frame is the one sent.
        if (!admitConnection(ctx.extra.socket, auth.viewer.id)) return false;
        ctx.extra.authorization = authorization;
        ctx.extra.viewer = auth.viewer;
        if (auth.expiresAt !== null) closeAtExpiry(ctx.extra.socket, auth.expiresAt);
        return true;
      },
      async onSubscribe(ctx, _id, payload) {
        // graphql-ws has already entered this operation in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > maxOperations) return [tooManyLive('WS_MAX_SUBSCRIPTIONS', maxOperations, { http: false })];
        const retryAfter = o.limiter && ctx.extra.viewer ? await o.limiter.take(ctx.extra.viewer) : null;
        if (retryAfter !== null) return [rateLimited(retryAfter, { http: false })];
        const headers: Record<string, string> = { authorization: ctx.extra.authorization ?? '' };
        const requestId = ctx.extra.request.headers['x-request-id'];
        if (typeof requestId === 'string') headers['x-request-id'] = requestId;
        // POST: Yoga refuses mutations on a GET request, and this one stands for the socket's messages.
        const request = new Request('http://websocket/graphql', { method: 'POST', headers });
        const { schema, execute, subscribe, contextFactory, parse, validate } = o.yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          request,
          overWebSocket: true,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          // A syntax error (by name: under vitest graphql-js can be loaded twice, see graphql/errors.ts).
          if (err instanceof Error && err.name === 'GraphQLError') return [err as GraphQLError];
          throw err;
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        const rootValue: RootValue = { execute, subscribe };
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue,
        };
      },
      execute: (args) => (args.rootValue as RootValue).execute(args) as never,
      subscribe: (args) => (args.rootValue as RootValue).subscribe(args) as never,
    },
    wss,
    o.keepAliveMs ?? 12_000,
  );

  return {
    sockets: () => wss.clients.size,
    async close() {
      o.server.off('upgrade', onUpgrade);
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      expiryTimers.clear();
      for (const client of wss.clients) client.close(1001, 'Going away');
      const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
      const timer = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, CLOSE_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** The request target's path, without its query (as ws compares it). */
function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/**
 * The `authorization` of connection_init in any letter case, as an HTTP header would be: clients paste
 * the `{"Authorization": "Bearer …"}` printed at start-up. The lower-case key wins when several are given.
 */
function authorizationParam(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const key = 'authorization' in params ? 'authorization' : Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  const value = key === undefined ? undefined : params[key];
  return typeof value === 'string' ? value : undefined;
}
