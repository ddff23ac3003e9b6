import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';
import { Arrivals, waitForSubscriber } from '../live/helpers.js';
import * as apollo from './apollo-client.js';
import * as urql from './urql-client.js';

/**
 * The README's Node-runnable client code, run as written against a real server: each README block
 * marked `<!-- runs as test/readme/NAME.ts -->` must equal that file, which `npm run typecheck`
 * compiles (strict) and this test runs. Transport-level code: one storage backend is enough.
 */

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The code block that follows the README's marker for `file`. */
function readmeBlock(file: string): string {
  const marker = `<!-- runs as test/readme/${file} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at + marker.length));
  if (!block) throw new Error(`README.md has no \`\`\`ts block after ${marker}`);
  return block[1];
}

describe.each(['apollo-client.ts', 'urql-client.ts'])('README block %s', (file) => {
  it('is the file the test runs, unchanged', () => {
    expect(readmeBlock(file)).toBe(readFileSync(new URL(file, import.meta.url), 'utf8'));
  });
});

describe('README clients against a running server', () => {
  let t: TestApp;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  it('Apollo Client: typed query over HTTP, inboxEvents over graphql-ws', async () => {
    const user = await newUser(t);
    const { client, close } = apollo.createNotificationsClient(`${t.baseUrl}/graphql`, async () => user.token);
    const events = new Arrivals<apollo.InboxEvent>();
    const subscription = client.subscribe({ query: apollo.INBOX_EVENTS, variables: { after: null } }).subscribe({
      next: (result) => (result.data ? events.push(result.data.inboxEvents) : events.fail(result.error)),
      error: (err) => events.fail(err),
    });
    try {
      expect((await client.query({ query: apollo.UNREAD_COUNT, fetchPolicy: 'network-only' })).data?.unreadCount).toBe(0);
      await waitForSubscriber(t.app, user.sub);
      const { message } = await sendTo(producer, user.sub, { text: 'from the README' });
      const [archived, inbox] = await events.take(2);
      expect([archived.signal, inbox.signal]).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
      expect(inbox).toMatchObject({ message: { id: message.id, text: 'from the README', read: false }, messageIds: [message.id], unreadCount: 1 });
      expect((await client.query({ query: apollo.UNREAD_COUNT, fetchPolicy: 'network-only' })).data?.unreadCount).toBe(1);
    } finally {
      subscription.unsubscribe();
      client.stop();
      await close();
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
});
