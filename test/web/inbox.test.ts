import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startTestApp, type TestApp } from '../harness.js';
import { expiryOf, uid } from '../support.js';
import { waitForSubscriber } from '../live/helpers.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { bell, inboxContext, launchChromium } from './browser.js';

/**
 * The web inbox (`<stored-messages-inbox>`, CONTRACT.md section 14) in headless Chromium against a real
 * server, found by role and accessible name as a screen-reader user would.
 */

let server: TestApp;
let browser: Browser;
let producer: string;
// Between the browser and the server's GraphQL endpoint, so a test can cut the network.
let proxy: TcpProxy;

beforeAll(async () => {
  // Few kept events, so a long enough outage ends in a RESYNC (below).
  [server, browser] = await Promise.all([startTestApp('postgres', { NODE_ENV: 'development', EVENTS_KEEP: '10' }), launchChromium()]);
  producer = (await server.producerToken()).token;
  proxy = await startTcpProxy(server.baseUrl);
});
afterAll(async () => {
  await proxy?.close();
  await browser?.close();
  await server?.close();
});

/** Sends a stored message to `userId` through the API, as a producer's backend would. */
async function send(userId: string, text: string): Promise<void> {
  dataOf(await server.gql(producer, 'mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { recipientCount } }', { i: { userIds: [userId], level: 'INFO', text } }));
}

/** A user, and a browser context whose pages show that user's inbox. */
async function userInbox(o: Parameters<typeof inboxContext>[3] = {}, ttl = '1h') {
  const user = { sub: uid('web') };
  const minted: string[] = [];
  const token = async () => {
    minted.push((await server.userToken(user.sub, { expiresIn: ttl })).token);
    return minted.at(-1)!;
  };
  const inbox = await inboxContext(browser, server.baseUrl, token, o);
  return { sub: user.sub, user, minted, ...inbox, open: () => liveTab(inbox.open, user.sub) };
}

/**
 * Opens a tab, and waits until the server serves its subscriptions (inboxEvents and messageAdded, from
 * this tab or the leader tab): a message sent before that may reach the first load or not, by timing.
 */
async function liveTab(open: () => Promise<Page>, sub: string): Promise<Page> {
  const page = await open();
  await waitForSubscriber(server.app, sub, 2);
  return page;
}

const item = (page: Page, text: string) => page.getByRole('listitem').filter({ hasText: text });
const named = (page: Page, name: string) => page.getByRole('button', { name, exact: true });

describe('web inbox: live messages and the badge', () => {
  it('shows a message sent through the API without a reload, counts it as unseen, and clears the badge on open', async () => {
    const { sub, context, open } = await userInbox();
    const page = await open();
    await named(page, 'Notifications').waitFor();
    await send(sub, 'Build 41 passed');
    await send(sub, 'Build 42 failed');
    await named(page, 'Notifications, 2 unseen').waitFor();

    await bell(page).click();
    await page.getByRole('tab', { name: 'Unread', exact: true }).waitFor();
    await item(page, 'Build 42 failed').waitFor();
    await item(page, 'Build 41 passed').waitFor();
    await named(page, 'Notifications').waitFor();
    expect(dataOf(await server.gql((await server.userToken(sub)).token, '{ unseenCount unreadCount }'))).toEqual({ unseenCount: 0, unreadCount: 2 });
    await context.close();
  });
});

describe('web inbox: several tabs', () => {
  it('shares one connection between the tabs, a read in one tab shows in the other, and another tab takes over when the first closes', async () => {
    const { sub, context, open, webSockets } = await userInbox();
    const [a, b] = [await open(), await open()];
    await send(sub, 'Invoice 7 is due');
    await named(a, 'Notifications, 1 unseen').waitFor();
    await named(b, 'Notifications, 1 unseen').waitFor();

    await bell(a).click();
    await bell(b).click();
    await named(b, 'Notifications').waitFor();
    await a.getByRole('button', { name: 'Mark as read: Invoice 7 is due' }).click();
    await item(b, 'Invoice 7 is due').waitFor({ state: 'detached' });
    await b.getByRole('tab', { name: 'All', exact: true }).click();
    await b.getByRole('button', { name: 'Mark as unread: Invoice 7 is due' }).waitFor();
    expect(webSockets).toHaveLength(1);

    // The leader (the first tab) goes: the other tab takes over the connection and misses nothing.
    await a.close();
    await send(sub, 'After the first tab closed');
    await item(b, 'After the first tab closed').waitFor();
    expect(webSockets).toHaveLength(2);
    await context.close();
  });
});

describe('web inbox: outages and tokens', () => {
  it('misses nothing when the network is cut and restored: it resumes after the last event it had', async () => {
    const { sub, context, open } = await userInbox({ endpoint: `${proxy.url}graphql` });
    const page = await open();
    await send(sub, 'Before the cut');
    await named(page, 'Notifications, 1 unseen').waitFor();
    proxy.cut();
    try {
      await send(sub, 'During the cut, first');
      await send(sub, 'During the cut, second');
    } finally {
      proxy.restore();
    }
    await named(page, 'Notifications, 3 unseen').waitFor({ timeout: 20_000 });
    await bell(page).click();
    for (const text of ['Before the cut', 'During the cut, first', 'During the cut, second']) await item(page, text).waitFor();
    await context.close();
  });

  it('reloads what it shows on RESYNC, when more happened during an outage than the server keeps', async () => {
    const { sub, context, open } = await userInbox({ endpoint: `${proxy.url}graphql` });
    const page = await open();
    await send(sub, 'Before the long cut');
    await bell(page).click();
    await item(page, 'Before the long cut').waitFor();
    proxy.cut();
    try {
      // Two events a message: eight messages are more than the ten events kept (EVENTS_KEEP).
      for (let i = 1; i <= 8; i++) await send(sub, `Missed ${i}`);
    } finally {
      proxy.restore();
    }
    for (let i = 1; i <= 8; i++) await item(page, `Missed ${i}`).waitFor({ timeout: 20_000 });
    expect(await page.getByRole('listitem').count()).toBe(9);
    await context.close();
  });

  it('asks getToken for a fresh token when its token expires, and stays live', async () => {
    const { sub, context, open, tokens, minted } = await userInbox({}, '3s');
    const page = await open();
    await named(page, 'Notifications').waitFor();
    const firstExpiry = expiryOf(minted[0]);
    // The server closes the socket (4401) once the token expires; the element reconnects with a new one.
    await page.waitForTimeout(Math.max(0, firstExpiry - Date.now()) + 1500);
    await send(sub, 'After the first token expired');
    await named(page, 'Notifications, 1 unseen').waitFor();
    expect(tokens.calls.filter((at) => at > firstExpiry).length).toBeGreaterThan(0);
    await context.close();
  });

  it('falls back to SSE by itself when WebSockets cannot connect', async () => {
    const sub = uid('web');
    const context = await browser.newContext();
    // A network that accepts the WebSocket handshake and drops it at once, every time.
    await context.routeWebSocket(/\/graphql$/, (ws) => ws.close());
    const { open } = await inboxContext(browser, server.baseUrl, async () => (await server.userToken(sub)).token, { context });
    const page = await liveTab(open, sub);
    await send(sub, 'Through the fallback');
    await named(page, 'Notifications, 1 unseen').waitFor();
    await context.close();
  });

  it('works over SSE when told to (the fallback for networks that refuse WebSockets)', async () => {
    const { sub, context, open, webSockets } = await userInbox({ attributes: { transport: 'sse' } });
    const page = await open();
    await named(page, 'Notifications').waitFor();
    await send(sub, 'Over server-sent events');
    await named(page, 'Notifications, 1 unseen').waitFor();
    expect(webSockets).toEqual([]);
    await context.close();
  });
});

describe('web inbox: what a user does with the messages', () => {
  it('archives, snoozes, deletes, marks all as read, links, and moves between tabs with the keyboard', async () => {
    const { sub, context, open } = await userInbox();
    const page = await open();
    await named(page, 'Notifications').waitFor();
    for (const text of ['Keep this one', 'Later, please', 'Remove me']) await send(sub, text);
    dataOf(await server.gql(producer, 'mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { recipientCount } }', {
      i: { userIds: [sub], level: 'WARNING', text: 'Disk almost full', url: 'https://example.com/disks', category: 'ops' },
    }));
    await named(page, 'Notifications, 4 unseen').waitFor();
    await bell(page).click();

    await page.getByRole('link', { name: 'Disk almost full' }).waitFor();
    await page.getByRole('button', { name: 'Archive: Keep this one' }).click();
    await page.getByRole('button', { name: 'Snooze: Later, please' }).click();
    await page.getByRole('button', { name: 'Delete: Remove me' }).click();
    await item(page, 'Remove me').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Mark all as read', exact: true }).click();
    await item(page, 'Disk almost full').waitFor({ state: 'detached' });
    const userTokenNow = (await server.userToken(sub)).token;
    expect(dataOf(await server.gql(userTokenNow, '{ counts { total unread unseen archived snoozed } }')).counts).toEqual({ total: 2, unread: 0, unseen: 0, archived: 1, snoozed: 1 });

    // Unread, All, Archived, then one tab per category: the arrow keys walk them.
    const unread = page.getByRole('tab', { name: 'Unread', exact: true });
    await unread.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Archived', exact: true, selected: true }).waitFor();
    await item(page, 'Keep this one').waitFor();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'ops', exact: true, selected: true }).waitFor();
    await item(page, 'Disk almost full').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Notifications' }).waitFor({ state: 'hidden' });
    await context.close();
  });

  it('pages a long inbox: twenty at a time, then Load more', async () => {
    const { sub, context, open } = await userInbox();
    const page = await open();
    for (let i = 1; i <= 22; i++) await send(sub, `Page item ${String(i).padStart(2, '0')}`);
    await named(page, 'Notifications, 22 unseen').waitFor();
    // A new tab knows none of them yet: its list comes from the server's pages, not from the events.
    await page.close();
    const reopened = await open();
    await bell(reopened).click();
    await item(reopened, 'Page item 03').waitFor();
    expect(await reopened.getByRole('listitem').count()).toBe(20);
    await reopened.getByRole('button', { name: 'Load more', exact: true }).click();
    await item(reopened, 'Page item 01').waitFor();
    expect(await reopened.getByRole('listitem').count()).toBe(22);
    await context.close();
  });

  it('shows flash messages in a status region as they arrive', async () => {
    const { sub, context, open } = await userInbox();
    const page = await open();
    // INFO is not among the stored levels: addMessage makes it a flash message for the caller.
    const token = (await server.userToken(sub)).token;
    expect(dataOf(await server.gql(token, 'mutation { addMessage(input: { level: INFO, text: "Draft saved" }) { stored } }'))).toEqual({ addMessage: { stored: false } });
    await page.getByRole('status').getByText('Draft saved').waitFor();
    await context.close();
  });
});

describe('web inbox: signing in as someone else', () => {
  it('forgets the first user\'s inbox when getToken is replaced, and shows the second user\'s', async () => {
    const { sub, user, context, open } = await userInbox();
    const page = await open();
    await send(sub, 'For the first user');
    await named(page, 'Notifications, 1 unseen').waitFor();

    user.sub = uid('web');
    await page.evaluate(() => {
      const element = document.querySelector('stored-messages-inbox') as HTMLElement & { getToken: () => Promise<string> };
      element.getToken = () => (window as unknown as { testToken: () => Promise<string> }).testToken();
    });
    await named(page, 'Notifications').waitFor();
    await waitForSubscriber(server.app, user.sub, 2);
    await send(user.sub, 'For the second user');
    await named(page, 'Notifications, 1 unseen').waitFor();
    await bell(page).click();
    await item(page, 'For the second user').waitFor();
    expect(await page.getByRole('listitem').count()).toBe(1);
    await context.close();
  });
});

describe('web inbox: theming', () => {
  it('takes colours from custom properties and the theme, and styles through ::part', async () => {
    const { context, open } = await userInbox({ attributes: { theme: 'auto' } });
    const page = await open();
    const bellStyle = () =>
      page.evaluate(() => {
        const style = getComputedStyle(document.querySelector('stored-messages-inbox')!.shadowRoot!.querySelector('.bell')!);
        return { background: style.backgroundColor, border: style.borderTopColor };
      });
    expect((await bellStyle()).background).toBe('rgb(255, 255, 255)');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect((await bellStyle()).background).toBe('rgb(28, 33, 40)');
    await page.addStyleTag({ content: 'stored-messages-inbox { --sm-inbox-bg: rgb(1, 2, 3) } stored-messages-inbox::part(bell) { border-color: rgb(4, 5, 6) }' });
    expect(await bellStyle()).toEqual({ background: 'rgb(1, 2, 3)', border: 'rgb(4, 5, 6)' });
    await context.close();
  });
});

describe('web inbox: the demo page (development)', () => {
  it('signs in as demo-user and its producer panel sends to that user and flashes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/`);
    await named(page, 'Notifications').waitFor();
    await waitForSubscriber(server.app, 'demo-user', 2);
    await page.getByLabel('Text').fill('Hello from the demo');
    await page.getByRole('button', { name: 'Send to me', exact: true }).click();
    await named(page, 'Notifications, 1 unseen').waitFor();
    await page.getByLabel('Text').fill('A passing flash');
    await page.getByRole('button', { name: 'Flash', exact: true }).click();
    await page.getByRole('status').getByText('A passing flash').waitFor();
    await context.close();
  });
});
