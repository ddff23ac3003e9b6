import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { dataOf, startTestApp, type TestApp } from '../harness.js';

/**
 * What the server serves for the web inbox (CONTRACT.md section 14): GET /inbox.js in every mode, and
 * the demo page only in development or with DEMO_PAGE=true. The browser side is test/web/inbox.test.ts.
 */

let production: TestApp;
let showcase: TestApp;

beforeAll(async () => {
  [production, showcase] = await Promise.all([
    startTestApp('postgres', { NODE_ENV: 'production' }),
    startTestApp('postgres', { NODE_ENV: 'production', DEMO_PAGE: 'true' }),
  ]);
});
afterAll(async () => {
  await Promise.all([production?.close(), showcase?.close()]);
});

describe('GET /inbox.js', () => {
  it('serves the module in production as a public, cacheable script within its size budget', async () => {
    const res = await fetch(`${production.baseUrl}/inbox.js`, { headers: { origin: 'https://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.toString('utf8')).toContain('stored-messages-inbox');
    expect(gzipSync(body).length).toBeLessThanOrEqual(30 * 1024);

    const again = await fetch(`${production.baseUrl}/inbox.js`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });
});

describe('stored-messages/inbox', () => {
  it('is the package export of the same module the server serves', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { import: string }> };
    const file = await readFile(new URL(`../../${pkg.exports['./inbox'].import}`, import.meta.url));
    const served = Buffer.from(await (await fetch(`${production.baseUrl}/inbox.js`)).arrayBuffer());
    expect(file.equals(served)).toBe(true);
    expect(file.toString('utf8')).toMatch(/customElements\.define\(.stored-messages-inbox./);
  });
});

describe('the demo page', () => {
  it('is off in production: no page, no tokens', async () => {
    expect((await fetch(`${production.baseUrl}/`)).status).toBe(404);
    expect((await fetch(`${production.baseUrl}/demo/tokens`)).status).toBe(404);
  });

  it('is on in production with DEMO_PAGE=true, its tokens signed in as demo-user', async () => {
    const page = await fetch(`${showcase.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<stored-messages-inbox');
    const { user, service } = (await (await fetch(`${showcase.baseUrl}/demo/tokens`)).json()) as { user: string; service: string | null };
    // No producer token for anyone who opens a production showcase: it could broadcast to every user.
    expect(service).toBeNull();
    expect(JSON.parse(Buffer.from(user.split('.')[1], 'base64url').toString('utf8'))).toMatchObject({ sub: 'demo-user' });
    expect(dataOf(await showcase.gql(user, '{ unreadCount }'))).toEqual({ unreadCount: 0 });
  });

  it('DEMO_PAGE is a boolean like the others, and defaults to on in development only', () => {
    expect(loadConfig({}).demoPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).demoPage).toBe(false);
    expect(() => loadConfig({ DEMO_PAGE: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ DEMO_PAGE: 'yes' })).toThrow(/DEMO_PAGE/);
  });
});
