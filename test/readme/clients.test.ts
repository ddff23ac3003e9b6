import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { Arrivals, waitForSubscriber } from '../live/helpers.js';
import * as apollo from './apollo-client.js';
import * as sse from './sse-client.js';
import * as urql from './urql-client.js';

/**
 * The documentation's Node-runnable client code, run as written against a real server: each block of
 * README.md or docs/clients.md marked `<!-- runs as test/readme/NAME.ts -->` must equal that file,
 * which `npm run typecheck` compiles (strict) and this test runs. Transport-level code: one storage
 * backend is enough.
 */

const DOCS = { 'README.md': '../../README.md', 'docs/clients.md': '../../docs/clients.md' } as const;

/** The code block that follows `doc`'s marker for `file`. */
function markedBlock(doc: keyof typeof DOCS, file: string): string {
  const text = readFileSync(new URL(DOCS[doc], import.meta.url), 'utf8');
  const marker = `<!-- runs as test/readme/${file} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${doc} has no ${marker}`);
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(at + marker.length));
  if (!block) throw new Error(`${doc} has no \`\`\`ts block after ${marker}`);
  return block[1];
}

describe.each([
  ['README.md', 'apollo-client.ts'],
  ['README.md', 'sse-client.ts'],
  ['docs/clients.md', 'urql-client.ts'],
] as const)('%s block %s', (doc, file) => {
  it('is the file the test runs, unchanged', () => {
    expect(markedBlock(doc, file)).toBe(readFileSync(new URL(file, import.meta.url), 'utf8'));
  });
});

describe('documented clients against a running server', () => {
  let t: TestApp;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  /** A new user's Apollo client from the README, subscribed to inboxEvents; `end` stops both. */
  async function apolloFor() {
    const user = await newUser(t);
    const { client, close } = apollo.createNotificationsClient(`${t.baseUrl}/graphql`, async () => user.token);
    const events = new Arrivals<apollo.InboxEvent>();
    const subscription = client.subscribe({ query: apollo.INBOX_EVENTS, variables: { after: null } }).subscribe({
      next: (result) => (result.data ? events.push(result.data.inboxEvents) : events.fail(result.error)),
      error: (err) => events.fail(err),
    });
    const end = async () => {
      subscription.unsubscribe();
      client.stop();
      await close();
    };
    return { user, client, events, end };
  }

  it('Apollo Client: typed query over HTTP, inboxEvents over graphql-ws', async () => {
    const { user, client, events, end } = await apolloFor();
    try {
      expect((await client.query({ query: apollo.UNREAD_COUNT, fetchPolicy: 'network-only' })).data?.unreadCount).toBe(0);
      await waitForSubscriber(t.app, user.sub);
      const { message } = await sendTo(producer, user.sub, { text: 'from the README' });
      const [archived, inbox] = await events.take(2);
      expect([archived.signal, inbox.signal]).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
      expect(inbox).toMatchObject({ message: { id: message.id, text: 'from the README', read: false }, messageIds: [message.id], unreadCount: 1 });
      expect((await client.query({ query: apollo.UNREAD_COUNT, fetchPolicy: 'network-only' })).data?.unreadCount).toBe(1);
    } finally {
      await end();
    }
  });

  it('Apollo Client: the badge, Archive and Snooze, each change arriving on inboxEvents with both counts', async () => {
    const { user, client, events, end } = await apolloFor();
    const counts = async () => (await client.query({ query: apollo.COUNTS, fetchPolicy: 'network-only' })).data?.counts;
    try {
      await waitForSubscriber(t.app, user.sub);
      const [a, b] = [(await sendTo(producer, user.sub, { text: 'a' })).message.id, (await sendTo(producer, user.sub, { text: 'b' })).message.id];
      await events.take(4);
      expect(await counts()).toEqual({ __typename: 'InboxCounts', total: 2, unread: 2, unseen: 2, archived: 0, snoozed: 0 });

      const opened = new Date().toISOString();
      expect((await client.mutate({ mutation: apollo.MARK_ALL_SEEN, variables: { until: opened } })).data?.markAllSeen).toMatchObject({ count: 2, unseenCount: 0 });
      expect((await client.mutate({ mutation: apollo.ARCHIVE, variables: { ids: [a] } })).data?.archive.counts).toMatchObject({ total: 2, unread: 1, archived: 1 });
      const until = new Date(Date.now() + 3_600_000).toISOString();
      expect((await client.mutate({ mutation: apollo.SNOOZE, variables: { ids: [b], until } })).data?.snooze.counts).toMatchObject({ total: 1, unread: 0, snoozed: 1 });
      expect((await events.take(3)).map((e) => [e.signal, e.messageIds, e.unreadCount, e.unseenCount])).toEqual([
        ['INBOX_SEEN', [], 2, 0],
        ['INBOX_ARCHIVED', [a], 1, 0],
        ['INBOX_SNOOZED', [b], 0, 0],
      ]);
    } finally {
      await end();
    }
  });

  it('urql: typed query over HTTP, inboxEvents over graphql-ws', async () => {
    const user = await newUser(t);
    const { client, close } = urql.createNotificationsClient(`${t.baseUrl}/graphql`, async () => user.token);
    const events = new Arrivals<{ signal: string; messageIds: string[]; unreadCount: number }>();
    const subscription = client.subscription(urql.INBOX_EVENTS, { after: null }).subscribe((result) => {
      if (result.data) events.push(result.data.inboxEvents);
      else events.fail(result.error);
    });
    try {
      const before = await client.query(urql.UNREAD_COUNT, {}, { requestPolicy: 'network-only' }).toPromise();
      expect(before.error).toBeUndefined();
      expect(before.data?.unreadCount).toBe(0);
      await waitForSubscriber(t.app, user.sub);
      const { message } = await sendTo(producer, user.sub, { text: 'from the README' });
      const [archived, inbox] = await events.take(2);
      expect([archived.signal, inbox.signal]).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
      expect(inbox).toMatchObject({ messageIds: [message.id], unreadCount: 1 });
      expect((await client.query(urql.UNREAD_COUNT, {}, { requestPolicy: 'network-only' }).toPromise()).data?.unreadCount).toBe(1);
    } finally {
      subscription.unsubscribe();
      await close();
    }
  });

  it('SSE with fetch: inboxEvents replays what followed a cursor, then goes on live', async () => {
    const user = await newUser(t);
    const url = `${t.baseUrl}/graphql`;
    const abort = new AbortController();
    const live = sse.inboxEvents(url, user.token, null, abort.signal);
    try {
      const first = live.next();
      await waitForSubscriber(t.app, user.sub);
      const sent = await sendTo(producer, user.sub, { text: 'over SSE' });
      const archived = (await first).value as sse.InboxEvent;
      const inbox = (await live.next()).value as sse.InboxEvent;
      expect([archived.signal, inbox.signal]).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
      expect(inbox).toMatchObject({ messageIds: [sent.message.id], unreadCount: 1, unseenCount: 1 });

      // Resuming from the first event's cursor replays the second, exactly once.
      const resumed = sse.inboxEvents(url, user.token, archived.cursor, abort.signal);
      expect((await resumed.next()).value).toEqual(inbox);
    } finally {
      abort.abort();
    }
  });
});
