import { expandDeep, type Rng } from './fuzz-values.js';

/**
 * One fuzz case: a request described completely (so a failure prints its reproduction), who sends
 * it, and which limit it is past. Every refusal must leave the watched users' state as it was.
 */
export interface FuzzRequest {
  label: string;
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent as these exact bytes over a raw socket instead (request line and headers included). */
  raw?: Buffer;
  /** A subscription's event stream: read what arrives for a moment, then hang up. */
  stream?: boolean;
  /** A producer's call: a broadcast may reach the bystander too. */
  producer: boolean;
  /** A limit of CONTRACT.md §11 this request is past: it must be refused (no data; 413 for the body). */
  pastLimit?: string;
}

export interface Tokens {
  user: string;
  producer: string;
  expired: string;
}

export interface GqlBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

const JSON_ACCEPT = 'application/graphql-response+json, application/json';

/** The Authorization header for a case: mostly the right caller, sometimes none, junk or expired. */
export function authFor(r: Rng, tokens: Tokens, producer: boolean): Record<string, string> {
  const token = producer ? tokens.producer : tokens.user;
  switch (r.int(30)) {
    case 0: return {};
    case 1: return { authorization: 'Bearer not.a.jwt' };
    case 2: return { authorization: `Bearer ${tokens.expired}` };
    case 3: return { authorization: token }; // no scheme
    case 4: return { authorization: `Bearer ${producer ? tokens.user : tokens.producer}` };
    default: return { authorization: `Bearer ${token}` };
  }
}

/** A GraphQL request over POST (JSON), GET (query string) or SSE. */
export function gqlRequest(r: Rng, label: string, body: GqlBody, opts: { tokens: Tokens; producer: boolean; subscription?: boolean }): FuzzRequest {
  const headers = { ...authFor(r, opts.tokens, opts.producer) };
  const transport = opts.subscription ? r.pick(['sse', 'sse', 'sse', 'post', 'get']) : r.pick(['post', 'post', 'post', 'post', 'post', 'post', 'get', 'sse']);
  if (transport === 'get') {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) if (v !== undefined) params.set(k, typeof v === 'string' ? v : expandDeep(JSON.stringify(v)));
    return { label: `${label} [GET]`, method: 'GET', path: `/graphql?${params}`, headers: { ...headers, accept: JSON_ACCEPT }, producer: opts.producer };
  }
  const sse = transport === 'sse';
  // Over SSE a query or mutation ends its stream after its result: read to the end, so a slow write
  // cannot land after the state check. A subscription's stream stays open.
  const stream = sse && /subscription/i.test(typeof body.query === 'string' ? body.query : '');
  return {
    label: `${label} [${transport.toUpperCase()}]`,
    method: 'POST',
    path: '/graphql',
    headers: { ...headers, 'content-type': 'application/json', accept: sse ? 'text/event-stream' : JSON_ACCEPT },
    body: Buffer.from(expandDeep(JSON.stringify(body)), 'utf8'),
    stream,
    producer: opts.producer,
  };
}
