import type { Authenticated } from '../auth.js';
import { AppError } from '../domain/errors.js';
import type { LiveHub } from '../domain/live.js';
import type { Messages, Viewer } from '../domain/messages.js';

/** Per-operation context: who is calling (or why not), the use cases, live delivery, and a request id for logs. */
export interface GraphQLContext {
  auth: Authenticated | null;
  authError: AppError | null;
  messages: Messages;
  /** Subscriptions (messageAdded, inboxEvents) of this process. */
  live: LiveHub;
  requestId: string;
  /** Set by graphql/websocket.ts for operations that arrive over a WebSocket (counted there, not as SSE streams). */
  overWebSocket?: true;
}

/** The caller, or the UNAUTHENTICATED error that explains why there is none. */
export function viewerOf(ctx: GraphQLContext): Viewer {
  if (!ctx.auth) throw ctx.authError ?? new AppError('UNAUTHENTICATED', 'a valid bearer token is required');
  return ctx.auth.viewer;
}
