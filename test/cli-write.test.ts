import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessageId } from '../src/graphql/ids.js';
import { createTestDatabase, dataOf, startTestApp, type TestApp } from './harness.js';
import { dropRedisPrefix, liveEnv, MESSAGE_ADDED, subscribeOver, waitForSubscriber } from './live/helpers.js';
import { runSource } from './processes.js';
import { uid } from './support.js';

/**
 * CONTRACT.md §12: `stored-messages send`, `broadcast` and `cleanup` write to the server's storage
 * as the server would (same checks, live subscribers told through the shared Redis), from source.
 */

const INBOX = '{ unreadCount messages(first: 10) { edges { node { id text level url stored } } } }';

let db: { url: string; drop: () => Promise<void> };
let t: TestApp;
let prefix: string;
let env: Record<string, string>;
const cli = (args: string[], extra: Record<string, string> = {}) => runSource('src/cli.ts', args, { ...env, ...extra });

beforeAll(async () => {
  db = await createTestDatabase();
  const live = liveEnv('redis', { DATABASE_URL: db.url });
  prefix = live.prefix;
  env = { ...live.env, LOG_LEVEL: 'error' };
  // The server's own cleanup stays out of the way of the command's.
  t = await startTestApp('postgres', { ...live.env, CLEANUP_INTERVAL_SECONDS: '86400' });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await db?.drop();
  await dropRedisPrefix(prefix);
});

describe('stored-messages send', () => {
  it('stores the message for each user, prints only its id, and the server shows it', async () => {
    const [alice, bob] = [await t.userToken(), await t.userToken()];
    const r = await cli(['send', '--to', `${alice.sub},${bob.sub}`, '--text', 'from the shell ☂', '--level', 'stored-warning', '--url', 'https://shop.example/orders/7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[\w-]+\n$/);
    expect(r.stderr).toContain('stored for 2 users');
    for (const user of [alice, bob]) {
      const inbox = dataOf(await t.gql(user.token, INBOX));
      expect(inbox.unreadCount).toBe(1);
      expect(inbox.messages.edges[0].node).toEqual({ id: r.stdout.trim(), text: 'from the shell ☂', level: 'STORED_WARNING', url: 'https://shop.example/orders/7', stored: true });
    }
  }, 120_000);

  it('reaches a live subscriber of the running server through the shared Redis', async () => {
    const user = await t.userToken();
    const sub = subscribeOver('ws', t.baseUrl, user.token, MESSAGE_ADDED);
    try {
      await waitForSubscriber(t.app, user.sub);
      const r = await cli(['send', '--to', user.sub, '--text', 'live from the shell']);
      expect(r.code, r.stderr).toBe(0);
      const [event] = await sub.results.take(1);
      expect(dataOf(event).messageAdded).toMatchObject({ id: r.stdout.trim(), text: 'live from the shell', level: 'STORED_INFO', stored: true });
    } finally {
      sub.close();
    }
  }, 120_000);

  it.each([
    ['no --to', ['send', '--text', 'x'], /--to: give at least one user id/],
    ['an empty --to', ['send', '--to', ' , ', '--text', 'x'], /--to: give at least one user id/],
    ['no --text', ['send', '--to', 'someone'], /--text is required/],
    ['an unknown --level', ['send', '--to', 'someone', '--text', 'x', '--level', 'loud'], /--level: "loud" is not a level/],
    ['an empty --text', ['send', '--to', 'someone', '--text', ''], /^stored-messages: --text: /m],
    ['a --text of 10,001 characters', ['send', '--to', 'someone', '--text', 'x'.repeat(10_001)], /^stored-messages: --text: /m],
    ['a javascript: --url', ['send', '--to', 'someone', '--text', 'x', '--url', 'javascript:alert(1)'], /^stored-messages: --url: /m],
    ['a user id of 256 characters', ['send', '--to', 'u'.repeat(256), '--text', 'x'], /^stored-messages: --to/m],
    ['broadcast without --text', ['broadcast'], /--text is required/],
    ['an upper-case --category', ['send', '--to', 'someone', '--text', 'x', '--category', 'Billing'], /^stored-messages: --category: /m],
    ['an empty --group-key', ['send', '--to', 'someone', '--text', 'x', '--group-key', ''], /^stored-messages: --group-key: /m],
    ['a --deliver-at without an offset', ['send', '--to', 'someone', '--text', 'x', '--deliver-at', '2030-01-31 09:00'], /--deliver-at: "2030-01-31 09:00" is not an ISO 8601 instant/],
    ['a past --deliver-at', ['broadcast', '--text', 'x', '--deliver-at', '2001-01-01T00:00:00Z'], /^stored-messages: --deliver-at: must be in the future/m],
    ['a malformed retract --id', ['retract', '--id', 'not-an-id'], /^stored-messages: --id: malformed id/m],
  ])('refuses %s with exit code 2, storing nothing', async (_, args, message) => {
    const before = await deliveries();
    const r = await cli(args.map((a) => (a === 'someone' ? uid('nobody') : a)));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(await deliveries()).toBe(before);
  }, 120_000);

  it('sends with a category, critical past a disabled one, and a group key that supersedes the unread one', async () => {
    const user = await t.userToken();
    dataOf(await t.gql(user.token, 'mutation { setPreference(input: { category: "billing", enabled: false }) { enabled } }'));
    const send = () => cli(['send', '--to', user.sub, '--text', 'invoice', '--category', 'billing', '--critical', '--group-key', 'invoice:7']);
    const [first, second] = [await send(), await send()];
    expect([first.code, second.code, second.stderr]).toEqual([0, 0, expect.stringContaining('stored for 1 user')]);
    const inbox = dataOf(await t.gql(user.token, '{ unreadCount messages(first: 10) { edges { node { id read category groupKey groupCount } } } }'));
    expect(inbox.unreadCount).toBe(1);
    expect(inbox.messages.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: second.stdout.trim(), read: false, category: 'billing', groupKey: 'invoice:7', groupCount: 2 },
      { id: first.stdout.trim(), read: true, category: 'billing', groupKey: 'invoice:7', groupCount: 1 },
    ]);
  }, 120_000);

  it('schedules with --deliver-at: the id of the scheduled message, nothing delivered yet', async () => {
    const [user, producer] = [await t.userToken(), await t.producerToken()];
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const r = await cli(['send', '--to', user.sub, '--text', 'later', '--deliver-at', at]);
    expect([r.code, r.stderr]).toEqual([0, expect.stringContaining(`scheduled for 1 user at ${at}`)]);
    const scheduled = dataOf(await t.gql(producer.token, '{ scheduledMessages(first: 100) { edges { node { deliverAt message { id text } } } } }')).scheduledMessages.edges;
    expect(scheduled.map((e: { node: unknown }) => e.node)).toContainEqual({ deliverAt: at, message: { id: r.stdout.trim(), text: 'later' } });
    expect(dataOf(await t.gql(user.token, '{ unreadCount }')).unreadCount).toBe(0);
  }, 120_000);

  it('refuses bad input before opening storage: exit code 2 even while the database is unreachable', async () => {
    const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    const refusals = [
      await cli(['send', '--to', 'a', '--text', ''], unreachable),
      await cli(['broadcast', '--text', 'x', '--deliver-at', '2001-01-01T00:00:00Z'], unreachable),
      await cli(['retract', '--id', 'not-an-id'], unreachable),
    ];
    expect(refusals.map((r) => [r.code, r.stdout])).toEqual([
      [2, ''],
      [2, ''],
      [2, ''],
    ]);
    expect(refusals.map((r) => r.stderr)).toEqual([
      expect.stringMatching(/^stored-messages: --text: /),
      expect.stringMatching(/^stored-messages: --deliver-at: must be in the future/),
      expect.stringMatching(/^stored-messages: --id: malformed id/),
    ]);
  }, 120_000);

  it('fails with exit code 1 naming DATABASE_URL when the database is unreachable', async () => {
    const r = await cli(['send', '--to', 'a', '--text', 'x'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stdout).toBe('');
  }, 120_000);
});

describe('stored-messages broadcast', () => {
  it('stores one message for every known user and prints its id', async () => {
    const known = await t.userToken();
    dataOf(await t.gql(known.token, '{ unreadCount }'));
    const r = await cli(['broadcast', '--text', 'maintenance tonight', '--level', 'STORED_INFO']);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeMessageId('id', r.stdout.trim()).stored).toBe(true);
    const inbox = dataOf(await t.gql(known.token, INBOX));
    expect(inbox.messages.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(r.stdout.trim());
  }, 120_000);
});

describe('stored-messages cleanup', () => {
  it('reclaims expired messages now and says how many went', async () => {
    const producer = await t.producerToken();
    const user = await t.userToken();
    const soon = new Date(Date.now() + 1500).toISOString();
    dataOf(await t.gql(producer.token, 'mutation($u: [ID!]!, $e: DateTime) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "short-lived", expiresAt: $e }) { recipientCount } }', { u: [user.sub], e: soon }));
    const stored = await deliveriesOf(user.sub);
    expect(stored).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const r = await cli(['cleanup']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^reclaimed [1-9]\d* expired deliveries and messages\n$/);
    expect(await deliveriesOf(user.sub)).toBe(0);
  }, 120_000);
});

async function query<R>(text: string, values: unknown[] = []): Promise<R> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows[0] as R;
  } finally {
    await client.end();
  }
}
const deliveries = async () => (await query<{ n: number }>('select count(*)::int as n from sm_delivery')).n;
const deliveriesOf = async (user: string) => (await query<{ n: number }>('select count(*)::int as n from sm_delivery where user_id = $1', [user])).n;

describe('--help', () => {
  it.each([
    [['send', '--help'], 'Usage: stored-messages send --to ID'],
    [['broadcast', '-h'], 'Usage: stored-messages broadcast --text TEXT'],
    [['cleanup', '--help'], 'Usage: stored-messages cleanup'],
  ])('%j prints the usage and exits 0 without opening storage', async (args, usage) => {
    const r = await cli(args, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(usage)).toBe(true);
  }, 120_000);
});
