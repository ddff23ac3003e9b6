import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startTestApp, type TestApp } from '../harness.js';
import { uid } from '../support.js';
import { bell, inboxContext, launchChromium } from './browser.js';

/**
 * The web inbox (`<stored-messages-inbox>`, CONTRACT.md section 14) in headless Chromium against a real
 * server, found by role and accessible name as a screen-reader user would.
 */

let server: TestApp;
let browser: Browser;
let producer: string;

beforeAll(async () => {
  // Few kept events, so a long enough outage ends in a RESYNC (below).
  [server, browser] = await Promise.all([startTestApp('postgres', { NODE_ENV: 'development', EVENTS_KEEP: '10' }), launchChromium()]);
  producer = (await server.producerToken()).token;
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Sends a stored message to `userId` through the API, as a producer's backend would. */
async function send(userId: string, text: string): Promise<void> {
  dataOf(await server.gql(producer, 'mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { recipientCount } }', { i: { userIds: [userId], level: 'INFO', text } }));
}

/** A user, and a browser context whose pages show that user's inbox. */
async function userInbox(o: Parameters<typeof inboxContext>[3] = {}, ttl = '1h') {
  const sub = uid('web');
  const inbox = await inboxContext(browser, server.baseUrl, async () => (await server.userToken(sub, { expiresIn: ttl })).token, o);
  return { sub, ...inbox };
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
