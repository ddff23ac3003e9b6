import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { SEND_SCOPE, signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { buildInbox } from './build-inbox.js';
import { launchChromium } from './chromium.js';

/**
 * `npm run screenshots`: docs/inbox-light.png and docs/inbox-dark.png, the demo page's inbox opened on
 * a few sample messages, from a throwaway development server (embedded database in memory).
 */

const secret = randomBytes(24).toString('hex');
const config = loadConfig({ NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', AUTH_JWT_SECRET: secret, LOG_LEVEL: 'silent' });
await buildInbox({ ifStale: true });
const app = await createApp(config, { embeddedInMemory: true });
await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const browser = await launchChromium();

try {
  const producer = await signToken(secret, { sub: 'demo-service', scope: SEND_SCOPE, expiresIn: '10m' });
  const user = await signToken(secret, { sub: 'demo-user', expiresIn: '10m' });
  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const result = (await res.json()) as { data?: any; errors?: unknown[] };
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  };
  const send = (input: Record<string, unknown>) =>
    gql(producer, 'mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { message { id } } }', { i: { userIds: ['demo-user'], ...input } });
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  // Oldest first; dates set so the list reads like a morning's notifications.
  const read = await send({ level: 'INFO', text: 'Your weekly usage report is ready', date: minutesAgo(300), url: 'https://example.com/reports/week-49' });
  await gql(user, 'mutation($ids: [ID!]!) { markRead(input: { ids: $ids }) { count } }', { ids: [read.addMessageFor.message.id] });
  await send({ level: 'INFO', text: 'Ada Lovelace commented on “Retry webhooks with backoff”', date: minutesAgo(95), url: 'https://example.com/pulls/231', category: 'reviews' });
  await send({ level: 'WARNING', text: 'Disk usage on db-1 is at 85%', date: minutesAgo(42), category: 'ops' });
  await send({ level: 'SUCCESS', text: 'Deploy of api v2.3.1 to production finished', date: minutesAgo(12), category: 'ops' });
  await send({ level: 'ERROR', text: 'Payment for invoice #1042 failed: card declined', date: minutesAgo(1), url: 'https://example.com/invoices/1042' });

  for (const theme of ['light', 'dark'] as const) {
    const page = await browser.newPage({ viewport: { width: 900, height: 640 }, deviceScaleFactor: 1 });
    await page.goto(`${baseUrl}/`);
    await page.getByRole('button', { name: /^Notifications/ }).waitFor();
    if (theme === 'dark') await page.getByLabel('Dark theme').check();
    await page.getByRole('button', { name: /^Notifications/ }).click();
    await page.getByRole('listitem').nth(3).waitFor();
    await page.screenshot({ path: `docs/inbox-${theme}.png`, clip: { x: 420, y: 0, width: 480, height: 470 } });
    await page.close();
    console.log(`docs/inbox-${theme}.png`);
  }
} finally {
  await browser.close();
  await app.close();
}
