/**
 * What the HTTP load generator does, as plain data (it crosses into a worker thread).
 * Request k (counted across all connections) sends `bodies[k % bodies.length]` with
 * `authorization: auths[k % auths.length]`, so a plan can pair users with their own messages.
 */
export interface LoadPlan {
  url: string;
  connections: number;
  durationSeconds: number;
  bodies: string[];
  auths: string[];
  /** The number of the first request (default 0); measureHttp continues it across runs (LoadResult.next). */
  first?: number;
  /**
   * Cursor-chained paging instead of `bodies`: each connection sends `count` requests in a row,
   * the first `first`, then `next` with `__CURSOR__` replaced by the previous page's endCursor.
   */
  pages?: { count: number; first: string; next: string };
}

export interface LoadResult {
  /** The number the next request would have had: a run after this one starts there. */
  next: number;
  /** Responses that were 2xx and carried no GraphQL `errors`. */
  ok: number;
  durationSeconds: number;
  /** ok / duration. */
  rps: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** 2xx responses whose body held GraphQL `errors` (or, for paging, no cursor). */
  mismatches: number;
  /** The first mismatching body, cut short, to say what went wrong. */
  sampleMismatch: string | null;
}
