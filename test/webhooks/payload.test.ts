import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcast, deleteMessages, knownUser, markRead, sendTo, type Caller, type SendInput } from '../factories.js';
import { archiveIds, markSeen, snooze, unarchive, unsnooze } from '../graphql/inbox-states-helpers.js';
import { BACKENDS } from '../harness.js';
import { verified, type Received } from './receiver.js';
import { verifyWebhook } from './verify-example.js';
import { startWebhookWorld, typesOf, userIn, type WebhookWorld } from './support.js';

/**
 * CONTRACT.md §10 end to end: GraphQL mutations on a real server, and what a real local endpoint receives
 * for each signal, its signature verified with the `standardwebhooks` package.
 */

const RETRACT = 'mutation($id: ID!) { retractMessage(input: { id: $id }) { recipientCount } }';
const MARK_ALL_READ = 'mutation($input: MarkAllReadInput) { markAllRead(input: $input) { count } }';

describe.each(BACKENDS)('webhook payloads on %s', (backend) => {
  let w: WebhookWorld;
  beforeAll(async () => {
    w = await startWebhookWorld(backend);
  }, 60_000);
  afterAll(() => w?.close());

  /** The next `n` webhooks about `user` after the `seen` already checked, each verified. */
  const next = async (user: string | null, seen: number, n: number) => {
    const all = await w.receivers[0].waitFor(user, seen + n);
    return all.slice(seen).map((r: Received) => {
      // The README's node:crypto verifier agrees with the standardwebhooks package.
      expect(verifyWebhook(w.secret, r.headers, r.raw)).toEqual(JSON.parse(r.raw));
      return { ...verified(w.secret, r), headers: r.headers };
    });
  };

  it('a send: ARCHIVE_STORED then INBOX_STORED, signed, with the ids the API shows and the counts after', async () => {
    const user = await userIn(w);
    const before = Date.now();
    const { message } = await sendTo(w.producer, user.sub, { text: 'signed' });
    const [archived, inboxed] = await next(user.sub, 0, 2);
    for (const e of [archived, inboxed]) {
      expect(e.headers['webhook-id']).toBe(e.id);
      expect(e.id).toMatch(/^msg_[A-Za-z0-9_-]+$/);
      expect(Math.abs(Number(e.headers['webhook-timestamp']) * 1000 - Date.now())).toBeLessThan(10_000);
      expect(e).toMatchObject({ userId: user.sub, messageIds: [message.id], unreadCount: 1, unseenCount: 1, until: null, category: null, broadcast: false });
      expect(new Date(e.occurredAt).toISOString()).toBe(e.occurredAt);
      expect(Date.parse(e.occurredAt)).toBeGreaterThanOrEqual(before - 2_000);
    }
    expect([archived.type, inboxed.type]).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
    expect(archived.id).not.toBe(inboxed.id);
    // The body has exactly the contract's fields.
    expect(Object.keys(JSON.parse(w.receivers[0].of(user.sub)[0].raw)).sort()).toEqual(
      ['broadcast', 'category', 'id', 'messageIds', 'occurredAt', 'type', 'unreadCount', 'unseenCount', 'until', 'userId'].sort(),
    );
  });

  it('read, the inbox states and delete: one webhook each, in the order they were made', async () => {
    const user = await userIn(w);
    const [a, b] = [(await sendTo(w.producer, user.sub, { text: 'a' })).message.id, (await sendTo(w.producer, user.sub, { text: 'b' })).message.id];
    await markRead(user, [a]);
    await markSeen(user, [b]);
    await archiveIds(user, [b]);
    await unarchive(user, [b]);
    await snooze(user, [b], new Date(Date.now() + 3_600_000).toISOString());
    await unsnooze(user, [b]);
    await deleteMessages(user, [a]);
    const events = await next(user.sub, 4, 7);
    expect(events.map((e) => [e.type, e.messageIds])).toEqual([
      ['INBOX_DELETED', [a]],
      ['INBOX_SEEN', [b]],
      ['INBOX_ARCHIVED', [b]],
      ['INBOX_UNARCHIVED', [b]],
      ['INBOX_SNOOZED', [b]],
      ['INBOX_STORED', [b]],
      ['ARCHIVE_DELETED', [a]],
    ]);
    expect(events[0]).toMatchObject({ unreadCount: 1, unseenCount: 1 });
    expect(events.at(-1)).toMatchObject({ unreadCount: 1, broadcast: false, until: null, category: null });
  });

  it('markAllRead limited to a category and a cut-off carries both', async () => {
    const user = await userIn(w);
    await sendTo(w.producer, user.sub, { text: 'bill', category: 'billing' } as SendInput);
    const until = new Date(Date.now() + 1).toISOString();
    await user.q(MARK_ALL_READ, { input: { until, category: 'billing' } });
    const [purged] = await next(user.sub, 2, 1);
    expect(purged).toMatchObject({ type: 'INBOX_PURGED', messageIds: [], until, category: 'billing', unreadCount: 0, broadcast: false });
  });

  it('a broadcast is ONE webhook per signal, with no user and no counts, however many users it reaches', async () => {
    const users: Caller[] = [await knownUser(w.t), await knownUser(w.t), await knownUser(w.t)];
    const { message, recipientCount } = await broadcast(w.producer, { text: 'to all' });
    expect(recipientCount).toBeGreaterThanOrEqual(users.length);
    const sent = (await next(null, 0, 2)).filter((e) => e.messageIds[0] === message.id);
    expect(sent.map((e) => e.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
    for (const e of sent) expect(e).toMatchObject({ userId: null, unreadCount: null, unseenCount: null, until: null, category: null, broadcast: true });
    for (const u of users) expect(w.receivers[0].of(u.sub)).toEqual([]);

    await w.producer.q(RETRACT, { id: message.id });
    const retracted = (await next(null, 2, 2)).filter((e) => e.messageIds[0] === message.id);
    expect(retracted.map((e) => e.type).sort()).toEqual(['ARCHIVE_DELETED', 'INBOX_DELETED']);
    for (const e of retracted) expect(e).toMatchObject({ userId: null, broadcast: true, unreadCount: null });
  });

  it("a direct message's retraction reaches each recipient that had it", async () => {
    const [reader, unread] = [await userIn(w), await userIn(w)];
    const { message } = await sendTo(w.producer, [reader.sub, unread.sub], { text: 'oops' });
    await markRead(reader, [message.id]);
    await w.producer.q(RETRACT, { id: message.id });
    const [readerGone] = await next(reader.sub, 3, 1);
    expect(typesOf(w.receivers[0], reader.sub)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED', 'INBOX_DELETED', 'ARCHIVE_DELETED']);
    expect(readerGone).toMatchObject({ type: 'ARCHIVE_DELETED', messageIds: [message.id], unreadCount: 0 });
    const unreadGone = await next(unread.sub, 2, 2);
    expect(unreadGone.map((e) => e.type)).toEqual(['INBOX_DELETED', 'ARCHIVE_DELETED']);
  });
});

describe.each(BACKENDS)('WEBHOOK_EVENTS and a plain-text secret on %s', (backend) => {
  let w: WebhookWorld;
  const secret = 'a plain secret, é and all, signs too';
  beforeAll(async () => {
    w = await startWebhookWorld(backend, { secret, events: 'INBOX_DELETED,ARCHIVE_DELETED' });
  }, 60_000);
  afterAll(() => w?.close());

  it('sends only the named signals, signed with the UTF-8 bytes of the secret', async () => {
    const user = await userIn(w);
    const { message } = await sendTo(w.producer, user.sub, { text: 'filtered' });
    await markRead(user, [message.id]);
    await deleteMessages(user, [message.id]);
    const got = await w.receivers[0].waitFor(user.sub, 2);
    expect(got.map((r) => verified(secret, r).type)).toEqual(['INBOX_DELETED', 'ARCHIVE_DELETED']);
    expect(verifyWebhook(secret, got[0].headers, got[0].raw).messageIds).toEqual([message.id]);
    expect(() => verifyWebhook(secret, got[0].headers, got[0].raw.replace('INBOX_DELETED', 'INBOX_STORED'))).toThrow(/bad signature/);
    expect(() => verified('another secret of 24+ characters', got[0])).toThrow();
  });
});

it("README.md's verification code is the one these tests run", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const marker = '<!-- runs as test/webhooks/verify-example.ts -->';
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(marker)));
  expect(readme).toContain(marker);
  expect(block?.[1]).toBe(readFileSync(new URL('verify-example.ts', import.meta.url), 'utf8'));
});
