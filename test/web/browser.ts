import type { Browser, BrowserContext, Page } from 'playwright-core';

export { launchChromium } from '../../scripts/chromium.js';

export interface InboxPageOptions {
  /** The GraphQL endpoint the element talks to (default: the server's /graphql). */
  endpoint?: string;
  /** More attributes for the element, e.g. `{ transport: 'sse' }`. */
  attributes?: Record<string, string>;
  /** A context to use (with routes set up) instead of a new one. */
  context?: BrowserContext;
}

/** When getToken was called (ms since the epoch), in every page of a context. */
export interface TokenLog {
  calls: number[];
}

/**
 * A browser context whose pages, on the server's origin, hold one `<stored-messages-inbox>` loaded
 * from the server's /inbox.js, its getToken answered by `token()` in this process (each call logged).
 */
export async function inboxContext(
  browser: Browser,
  baseUrl: string,
  token: () => Promise<string>,
  o: InboxPageOptions = {},
): Promise<{ context: BrowserContext; tokens: TokenLog; webSockets: string[]; open: () => Promise<Page> }> {
  const context = o.context ?? (await browser.newContext());
  // Shorter than the test's own timeout, so a missing element fails with playwright's message (what it waited for).
  context.setDefaultTimeout(10_000);
  const tokens: TokenLog = { calls: [] };
  const webSockets: string[] = [];
  await context.exposeFunction('testToken', () => {
    tokens.calls.push(Date.now());
    return token();
  });
  const open = async () => {
    const page = await context.newPage();
    page.on('websocket', (ws) => webSockets.push(ws.url()));
    if (process.env.DEBUG_BROWSER) {
      page.on('console', (m) => console.log(`[page] ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
      page.on('response', (r) => r.status() >= 400 && console.log(`[page] ${r.status()} ${r.url()}`));
    }
    // A document the server really sent (Chromium then places it on the loopback, as the API, so its
    // local-network checks let it connect), with the element added. getToken is set before the module
    // defines the element, as a page that loads it late would.
    await page.goto(`${baseUrl}/health`);
    await page.evaluate(
      ({ endpoint, attributes }) => {
        const element = document.createElement('stored-messages-inbox') as HTMLElement & { getToken: () => Promise<string> };
        element.setAttribute('endpoint', endpoint);
        for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
        element.getToken = () => (window as unknown as { testToken: () => Promise<string> }).testToken();
        // At the right of a bar, where the panel (anchored to the bell's right edge) opens into the page.
        const bar = document.createElement('nav');
        bar.style.cssText = 'display:flex;justify-content:flex-end;padding:8px 16px';
        bar.append(element);
        document.body.replaceChildren(bar);
      },
      { endpoint: o.endpoint ?? `${baseUrl}/graphql`, attributes: o.attributes ?? {} },
    );
    await page.addScriptTag({ url: '/inbox.js', type: 'module' });
    // Live: events reach the page from here on (its own connection, or the leader tab's).
    await page.locator('stored-messages-inbox[live]').waitFor({ state: 'attached' });
    return page;
  };
  return { context, tokens, webSockets, open };
}

/** The bell: its accessible name carries the unseen count. */
export const bell = (page: Page) => page.getByRole('button', { name: /^Notifications/ });
