import type { Viewer } from './messages.js';

/** Per-caller request budget: implemented by realtime/rate-limit.ts, enforced by the GraphQL transports. */
export interface RateLimiter {
  /**
   * Counts one request or subscription start of `viewer`: null when it may go on, else the whole
   * seconds (1 to 60) until it may. Never throws: when the shared store fails, the request goes on.
   */
  take(viewer: Viewer): Promise<number | null>;
  close(): Promise<void>;
}
