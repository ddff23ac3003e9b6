import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';
import { signToken, SEND_SCOPE } from './auth.js';
import type { Config } from './config.js';
import { demoPage } from './demo-page.js';

// From src/ (tsx) and from dist/src/ (built): both resolve to the package's dist/inbox/inbox.js.
const INBOX_MODULE_PATHS = ['../dist/inbox/inbox.js', '../inbox/inbox.js'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
// Short enough that a new version reaches pages within minutes; the ETag makes each revalidation cheap.
const INBOX_CACHE_CONTROL = 'public, max-age=300';
// The demo page's tokens: short-lived, fetched again by its getToken as they run out.
const DEMO_TOKEN_TTL = '15m';

interface Module {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

/**
 * GET /inbox.js: the web inbox module (built by scripts/build-inbox.ts; `npm start` builds it when it
 * is missing or stale), public and cacheable, in every mode. With `config.demoPage`, also GET / (the
 * demo page) and GET /demo/tokens (a fresh development user token, and in development a producer token for its panel).
 */
export function webAssets(config: Config): Plugin {
  let cached: Module | null = null;
  const inboxModule = async (): Promise<Module | null> => {
    for (const path of INBOX_MODULE_PATHS) {
      const info = await stat(path).catch(() => null);
      if (!info) continue;
      if (cached?.mtimeMs !== info.mtimeMs) {
        const body = await readFile(path);
        cached = { mtimeMs: info.mtimeMs, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      }
      return cached;
    }
    return null;
  };
  const secret = config.auth.jwtSecret;
  const sign = (sub: string, scope?: string) =>
    signToken(secret!, { sub, scope, expiresIn: DEMO_TOKEN_TTL, issuer: config.auth.issuer ?? undefined, audience: config.auth.audience ?? undefined });

  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/inbox.js') {
        const module = await inboxModule();
        if (!module) {
          const missing = 'dist/inbox/inbox.js is not built: run `npm run build:inbox`\n';
          return endResponse(new fetchAPI.Response(missing, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
        }
        const headers = {
          'content-type': 'text/javascript; charset=utf-8',
          'access-control-allow-origin': '*',
          'cross-origin-resource-policy': 'cross-origin',
          'cache-control': INBOX_CACHE_CONTROL,
          etag: module.etag,
        };
        const fresh = request.headers.get('if-none-match') === module.etag;
        return endResponse(new fetchAPI.Response(fresh || request.method === 'HEAD' ? null : new Uint8Array(module.body), { status: fresh ? 304 : 200, headers }));
      }
      if (!config.demoPage) return;
      if (url.pathname === '/') {
        return endResponse(new fetchAPI.Response(demoPage({ canSign: secret !== null }), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } }));
      }
      if (url.pathname === '/demo/tokens') {
        if (!secret) return endResponse(new fetchAPI.Response('the demo page needs AUTH_JWT_SECRET to sign tokens\n', { status: 404 }));
        // A producer token may broadcast to every user: a showcase server in production hands out none.
        const service = config.nodeEnv === 'production' ? null : await sign('demo-service', SEND_SCOPE);
        const tokens = { user: await sign('demo-user'), service };
        return endResponse(new fetchAPI.Response(JSON.stringify(tokens), { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } }));
      }
    },
  };
}
