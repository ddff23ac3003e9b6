import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { userToken } from '../support.js';

/**
 * GraphiQL at GET /graphql (Accept: text/html) works with no internet: every script, style, icon and
 * Monaco worker comes from this server. In development it opens with the user's Authorization header
 * filled in, so its schema introspection (which needs a token, like every operation) succeeds.
 * Storage plays no part: one backend is enough.
 */

async function graphiqlPage(baseUrl: string): Promise<{ html: string; options: Record<string, any> }> {
  const res = await fetch(`${baseUrl}/graphql`, { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/html');
  const html = await res.text();
  const json = /<script id="graphiql-options" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  expect(json, 'the page carries its GraphiQL options').not.toBeNull();
  return { html, options: JSON.parse(json![1]) };
}

/** Every URL the page loads: src/href attributes and the worker URLs handed to Monaco. */
function referencedUrls(html: string): string[] {
  const attributes = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  const workers = /const workers = (\{[^}]*\});/.exec(html);
  return [...attributes, ...(workers ? Object.values(JSON.parse(workers[1]) as Record<string, string>) : [])];
}

describe('GraphiQL', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    ({ token } = await userToken('graphiql-user'));
    t = await startTestApp('postgres', {}, { graphiqlToken: token });
  });
  afterAll(async () => t?.close());

  it('loads every script, style, icon and worker from this server', async () => {
    const { html } = await graphiqlPage(t.baseUrl);
    expect(html).not.toMatch(/https?:\/\//);
    const urls = referencedUrls(html);
    expect(urls.filter((u) => u.endsWith('.js')).length).toBeGreaterThanOrEqual(4); // the app and Monaco's 3 workers
    expect(urls.some((u) => u.endsWith('.css'))).toBe(true);
    for (const url of urls) {
      const asset = await fetch(new URL(url, `${t.baseUrl}/graphql`));
      expect(asset.status, url).toBe(200);
      expect(new URL(asset.url).origin, url).toBe(t.baseUrl);
      expect(asset.headers.get('content-type'), url).toMatch(/^(text\/javascript|text\/css|image\/x-icon)/);
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(1000);
    }
    expect((await fetch(`${t.baseUrl}/graphiql/nothing.js`)).status).toBe(404);
    // Yoga also renders the page at /graphql/, where the same relative URLs point one level down.
    const [first] = urls;
    expect((await fetch(new URL(first, `${t.baseUrl}/graphql/`))).status).toBe(200);
  });

  it('opens with the Authorization header it was given, and that header loads the schema', async () => {
    const { options } = await graphiqlPage(t.baseUrl);
    const headers = JSON.parse(options.headers);
    expect(headers).toEqual({ Authorization: `Bearer ${token}` });
    expect(JSON.parse(options.defaultHeaders)).toEqual(headers);
    // GraphiQL posts to the page's own URL (no endpoint option given).
    expect(options.endpoint).toBeUndefined();
    const res = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });
    expect(await res.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('carries no Authorization header when given no token', async () => {
    const plain = await startTestApp('postgres');
    try {
      const { options } = await graphiqlPage(plain.baseUrl);
      expect(options.headers).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('is not served in production, nor are its assets', async () => {
    const prod = await startTestApp('postgres', { NODE_ENV: 'production' }, { graphiqlToken: token });
    try {
      const res = await fetch(`${prod.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
      expect(await res.text()).not.toContain('graphiql');
      const [asset] = referencedUrls((await graphiqlPage(t.baseUrl)).html);
      expect((await fetch(new URL(asset, `${prod.baseUrl}/graphql`))).status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
