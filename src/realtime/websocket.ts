import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../auth.js';

/** Close codes of CONTRACT.md §2 (graphql-ws uses 4403 "Forbidden" for a refused connection_init). */
export const CLOSE_TOKEN_EXPIRED = 4401;

const MAX_TIMER_MS = 2 ** 31 - 1;
const CLOSE_GRACE_MS = 1000;
const MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface WebSocketOptions {
  server: Server;
  // The Yoga instance's own context type does not matter here: only getEnveloped is used.
  yoga: YogaServerInstance<Record<string, unknown>, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  authenticate: Authenticator;
  logger: Logger;
  /** Ping interval, and how long a pong may take before the socket is dropped (default 12 s). */
  keepAliveMs?: number;
}

export interface WebSocketEndpoint {
  /** Open sockets. */
  sockets(): number;
  /** Closes every socket (1001 "Going away"; sockets that do not finish the close handshake in 1 s are dropped). */
  close(): Promise<void>;
}

type Extra = {
  authorization?: string;
};

type RootValue = { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's /graphql, through Yoga's envelop:
 * the same schema, context, authorization, error masking and plugins as HTTP and SSE. The token comes
 * from `connection_init` `{ authorization: "Bearer <JWT>" }` (the key in any letter case): none or an invalid one closes the socket
 * with 4403; an open socket is closed with 4401 when its token expires. Every operation re-verifies the
 * token through the ordinary context (the Authorization header of a request built for it).
 */
export function attachWebSocket(o: WebSocketOptions): WebSocketEndpoint {
  const wss = new WebSocketServer({ server: o.server, path: '/graphql', maxPayload: MAX_PAYLOAD_BYTES });
  // ws re-emits the HTTP server's errors (EADDRINUSE...) here; graphql-ws only listens once (STACK.md trap 3).
  wss.on('error', (err) => o.logger.error({ err }, 'websocket server error'));
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

  useServer<Record<string, unknown>, Extra>(
    {
      isProd: true,
      async onConnect(ctx) {
        const authorization = authorizationParam(ctx.connectionParams);
        if (authorization === undefined) return false;
        try {
          const auth = await o.authenticate(authorization);
          ctx.extra.authorization = authorization;
          if (auth.expiresAt !== null) closeAtExpiry(ctx.extra.socket, auth.expiresAt);
          return true;
        } catch {
          return false;
        }
      },
      async onSubscribe(ctx, _id, payload) {
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
