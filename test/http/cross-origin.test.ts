import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counts, newUser } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §11 settings read at start: CORS_ORIGINS (never with credentials), GRAPHIQL and
 * INTROSPECTION (on in development, off in production), and CSRF prevention: operations come as
 * JSON, never as a form or text/plain body a cross-site page could post without a preflight.
 */

const preflight = (t: TestApp, origin: string) =>
  fetch(`${t.baseUrl}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

async function withApp(env: Record<string, string>, run: (t: TestApp) => Promise<void>) {
  const t = await startTestApp('postgres', env);
  try {
    await run(t);
  } finally {
    await t.close();
  }
}

describe('cross-origin access, GraphiQL and introspection settings', () => {
  it('allows any origin in development, without credentials', async () => {
    await withApp({ NODE_ENV: 'development' }, async (t) => {
      const res = await preflight(t, 'https://anywhere.example');
      expect(res.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });

  it('allows only the CORS_ORIGINS, without credentials', async () => {
    await withApp({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example, https://admin.example' }, async (t) => {
      for (const origin of ['https://app.example', 'https://admin.example']) {
        const res = await preflight(t, origin);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      }
      const other = await preflight(t, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('access-control-allow-credentials')).toBeNull();
    });
  });

  it('allows no cross-origin browser access in production without CORS_ORIGINS; GraphiQL and introspection off', async () => {
    await withApp({ NODE_ENV: 'production' }, async (t) => {
      expect((await preflight(t, 'https://app.example')).headers.get('access-control-allow-origin')).toBeNull();
      const page = await fetch(`${t.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/graphiql/i);
      const user = await newUser(t);
      const refused = await user.raw('{ __schema { queryType { name } } }');
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(refused.errors?.[0]?.message).toMatch(/introspection/);
      const typed = await user.raw('{ __type(name: "Message") { name } }');
      expect(typed.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(await user.q('{ __typename unreadCount }')).toEqual({ __typename: 'Query', unreadCount: 0 });
    });
  });

  it('turns GraphiQL and introspection on or off with GRAPHIQL and INTROSPECTION', async () => {
    await withApp({ NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' }, async (t) => {
      expect(await (await fetch(`${t.baseUrl}/graphql`, { headers: { accept: 'text/html' } })).text()).toMatch(/graphiql/i);
      expect((await (await newUser(t)).q('{ __schema { queryType { name } } }')).__schema.queryType.name).toBe('Query');
    });
    await withApp({ NODE_ENV: 'development', GRAPHIQL: 'false', INTROSPECTION: 'false' }, async (t) => {
      expect(await (await fetch(`${t.baseUrl}/graphql`, { headers: { accept: 'text/html' } })).text()).not.toMatch(/graphiql/i);
      expect((await (await newUser(t)).raw('{ __schema { queryType { name } } }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });
});

describe('CSRF prevention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('postgres');
  });
  afterAll(async () => t?.close());

  it('refuses form-encoded, multipart and text/plain mutations with 415, changing nothing', async () => {
    const user = await newUser(t);
    const mutation = 'mutation { addMessage(input: { level: STORED_INFO, text: "csrf" }) { stored } }';
    const auth = { authorization: `Bearer ${user.token}` };
    const form = new FormData();
    form.set('query', mutation);
    const bodies: [string, RequestInit][] = [
      ['form', { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: mutation }).toString() }],
      ['multipart', { headers: auth, body: form }],
      ['text', { headers: { ...auth, 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ query: mutation }) }],
    ];
    for (const [label, init] of bodies) {
      const res = await fetch(`${t.baseUrl}/graphql`, { method: 'POST', ...init });
      expect(res.status, label).toBe(415);
      const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
      expect(body.data ?? null).toBeNull();
      expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    }
    expect(await counts(user)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    expect((await user.q(mutation)).addMessage.stored).toBe(true);
  });
});
