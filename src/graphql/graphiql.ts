import { createHash } from 'node:crypto';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

/** Where the page finds its assets, relative to /graphql so a path prefix added by a proxy still works. */
const ASSET_DIR = 'graphiql';

interface Asset {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
}

interface Assets {
  /** Asset URL (relative to the page) by role. */
  urls: { js: string; css: string; favicon: string; workers: Record<string, string> };
  /** Asset by path name under /graphiql/. */
  files: Map<string, Asset>;
}

export interface OwnGraphiQLOptions {
  /** A bearer token to open the Headers tab with, so the schema loads at once (development). */
  token?: string | null;
}

export interface OwnGraphiQL {
  /** Yoga's `graphiql` option. */
  options: GraphiQLOptions;
  /** Yoga's `renderGraphiQL` option: the page, referring to this server's assets only. */
  render(options: GraphiQLOptions): Promise<string>;
  /** Serves GET …/graphiql/<name>.<hash>.<ext>, cacheable for good (a new version changes the hash). */
  assets: Plugin;
}

/**
 * GraphiQL served entirely by this server (Yoga's default page loads it from a CDN, so it is blank
 * offline). The assets (about 9 MB, from @graphql-yoga/render-graphiql) load on the first request
 * for the page or an asset, never in a process that does not show GraphiQL.
 */
export function ownGraphiQL(opts: OwnGraphiQLOptions = {}): OwnGraphiQL {
  let loading: Promise<Assets> | null = null;
  const load = () => (loading ??= loadAssets());
  const headers = opts.token ? JSON.stringify({ Authorization: `Bearer ${opts.token}` }) : undefined;
  return {
    options: headers ? { headers, defaultHeaders: headers } : {},
    async render(options) {
      return page(options, (await load()).urls);
    },
    assets: {
      async onRequest({ request, url, endResponse, fetchAPI }) {
        if (request.method !== 'GET') return;
        // Under any prefix: the page's relative URLs resolve below /graphql/ when it is opened there.
        const at = url.pathname.lastIndexOf(`/${ASSET_DIR}/`);
        if (at < 0) return;
        const asset = (await load()).files.get(url.pathname.slice(at + ASSET_DIR.length + 2));
        endResponse(
          asset
            ? new fetchAPI.Response(asset.body, { headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' } })
            : new fetchAPI.Response('not found', { status: 404 }),
        );
      },
    },
  };
}

async function loadAssets(): Promise<Assets> {
  const m = await import('@graphql-yoga/render-graphiql/graphiql');
  const files = new Map<string, Asset>();
  const add = (name: string, ext: string, body: string | Uint8Array<ArrayBuffer>, type: string) => {
    const file = `${name}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;
    files.set(file, { body, type });
    return `${ASSET_DIR}/${file}`;
  };
  const js = 'text/javascript; charset=utf-8';
  return {
    urls: {
      js: add('graphiql', 'js', m.js, js),
      css: add('graphiql', 'css', m.css, 'text/css; charset=utf-8'),
      favicon: add('favicon', 'ico', new Uint8Array(Buffer.from(m.favicon.slice(m.favicon.indexOf(',') + 1), 'base64')), 'image/x-icon'),
      // Monaco's workers by the labels it asks for; same-origin, so plain URLs (no blob: copies).
      workers: {
        editorWorkerService: add('editor.worker', 'js', m.editorWorkerService, js),
        json: add('json.worker', 'js', m.jsonWorker, js),
        graphql: add('graphql.worker', 'js', m.graphqlWorker, js),
      },
    },
    files,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: "<" escaped, so no value can close the element.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function page(options: GraphiQLOptions, urls: Assets['urls']): string {
  const title = escapeHtml(options.title ?? 'stored-messages GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${escapeHtml(options.favicon ?? urls.favicon)}" />
    <link rel="stylesheet" href="${urls.css}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root">Loading ${title}…</div>
    <script id="graphiql-options" type="application/json">${scriptJson(options)}</script>
    <script>
      const workers = ${scriptJson(urls.workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_, label) => workers[label] };
    </script>
    <script src="${urls.js}"></script>
    <script>
      const graphiqlOptions = JSON.parse(document.getElementById('graphiql-options').textContent);
      YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), graphiqlOptions);
    </script>
  </body>
</html>
`;
}
