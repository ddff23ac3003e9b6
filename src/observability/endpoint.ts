import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.js';

/**
 * GET /metrics: the Prometheus text exposition. With a token, only `Authorization: Bearer <token>`
 * is answered (401 otherwise); without one, anyone who reaches the port may read it.
 */
export function metricsEndpoint(metrics: Metrics, token: string | null): Plugin {
  const expected = token === null ? null : digest(`Bearer ${token}`);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics') return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      // Compared as digests: equal lengths, and no timing hint of how much of the token matched.
      if (expected && !timingSafeEqual(digest(request.headers.get('authorization') ?? ''), expected)) {
        endResponse(new fetchAPI.Response('a valid bearer token is required\n', { status: 401, headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' } }));
        return;
      }
      endResponse(new fetchAPI.Response(await metrics.render(), { status: 200, headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' } }));
    },
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();
