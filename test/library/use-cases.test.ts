import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalEvent } from '../../src/library.js';
import { MESSAGE } from '../factories.js';
import { dataOf } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { refusal, startHost, STATES, type Host } from './helpers.js';
import { uid, userToken } from '../support.js';

const UNREAD = `{ unreadCount unreadMessages { edges { node { ${MESSAGE} ${STATES} } } } }`;
const MARK_READ = 'mutation($i: [ID!]!) { markRead(input: { ids: $i }) { count notFound unreadCount } }';


describe('library use cases: the mutations’ rules and payloads, with global ids', () => {
  let host: Host;
  const gql = (token: string, query: string, variables?: Record<string, unknown>) => httpClient(host.baseUrl).gql(token, query, variables);

  beforeAll(async () => {
    host = await startHost({ storeLevels: ['STORED_INFO', 'STORED_ERROR'] });
  });
  afterAll(async () => host?.close());

  it('answers addMessageFor with the message as GraphQL shows it, and its id works in markRead here and over HTTP', async () => {
    const [a, b] = [await userToken(), await userToken()];
    const sent = await host.stored.messages.addMessageFor({ userIds: [a.sub, b.sub, a.sub], level: 'STORED_ERROR', text: 'disk full', extraTags: 'ops', data: { disk: 1 } });
    expect(sent.recipientCount).toBe(2);

    const seen = dataOf(await gql(a.token, UNREAD));
    expect(seen.unreadCount).toBe(1);
    const node = seen.unreadMessages.edges[0].node;
    // The same message, field for field: JSON carries the DateTime fields as ISO strings.
    expect(JSON.parse(JSON.stringify(sent.message))).toEqual(node);
    expect(sent.message.createdAt).toBeInstanceOf(Date);
    expect(sent.message).toMatchObject({ level: 'STORED_ERROR', levelValue: 41, tags: 'ops stored error', read: false, stored: true });

    const read = await host.stored.messages.markRead(a.sub, [sent.message.id]);
    expect(read).toMatchObject({ count: 1, notFound: [], unreadCount: 0 });
    expect(read.messages[0]).toMatchObject({ id: sent.message.id, read: true });
    expect(read.messages[0].readAt).toBeInstanceOf(Date);
    expect(dataOf(await gql(b.token, MARK_READ, { i: [sent.message.id] })).markRead).toEqual({ count: 1, notFound: [], unreadCount: 0 });
  });

  it('takes ids from GraphQL clients, and echoes unknown ones in notFound exactly as given', async () => {
    const [a, other] = [await userToken(), await userToken()];
    const mine = dataOf(await gql(a.token, 'mutation { addMessage(input: { level: STORED_INFO, text: "mine" }) { message { id } } }')).addMessage.message.id;
    const theirs = (await host.stored.messages.addMessage(other.sub, { level: 'STORED_INFO', text: 'theirs' })).message.id;

    expect(await host.stored.messages.markUnread(a.sub, [mine])).toMatchObject({ count: 0, notFound: [] });
    expect(await host.stored.messages.deleteMessages(a.sub, [mine, theirs, theirs])).toEqual({ count: 1, notFound: [theirs], unreadCount: 0 });
    expect(dataOf(await gql(a.token, '{ unreadCount messages { totalCount } }'))).toEqual({ unreadCount: 0, messages: { totalCount: 0 } });
    expect(await refusal(host.stored.messages.markRead(a.sub, ['42']))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.ids[0]' });
  });

  it('stores or flashes by storeLevels, marks all read up to a time, and refuses what the mutations refuse', async () => {
    const user = uid('user');
    const m = host.stored.messages;
    expect(await m.addMessage(user, { level: 'INFO', text: 'flash' })).toMatchObject({ stored: false, message: { stored: false, level: 'INFO' } });
    const stored = await m.addMessage(user, { level: 'STORED_INFO', text: 'kept' });
    expect(stored.stored).toBe(true);
    expect(await m.markAllRead(user, new Date(stored.message.createdAt.getTime() - 60_000))).toEqual({ count: 0, unreadCount: 1 });
    expect(await m.markAllRead(user)).toEqual({ count: 1, unreadCount: 0 });

    expect(await refusal(m.addMessage(user, { level: 'STORED_INFO', text: ' ' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.text' });
    expect(await refusal(m.addMessage(user, { level: 'LOUD' as never, text: 'x' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.level' });
    expect(await refusal(m.addMessageFor({ userIds: [], level: 'INFO', text: 'x' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.userIds' });
    expect(await refusal(m.broadcastMessage({ level: 'INFO', text: 'x', expiresAt: new Date('nope') }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.expiresAt' });
    expect(await refusal(m.markAllRead('', null))).toEqual({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  it('replays an idempotent send, also one first made over GraphQL, and refuses the key with other input', async () => {
    const caller = await userToken();
    const viaHttp = dataOf(await gql(caller.token, 'mutation($k: String) { addMessage(input: { level: STORED_INFO, text: "k", idempotencyKey: $k }) { message { id } } }', { k: 'same-key' }));
    expect((await host.stored.messages.addMessage(caller.sub, { level: 'STORED_INFO', text: 'k', idempotencyKey: 'same-key' })).message.id).toBe(viaHttp.addMessage.message.id);

    const user = uid('user');
    const key = uid('key');
    const first = await host.stored.messages.addMessageFor({ userIds: [user], level: 'INFO', text: 'once', idempotencyKey: key });
    expect(await host.stored.messages.addMessageFor({ userIds: [user], level: 'INFO', text: 'once', idempotencyKey: key })).toEqual(first);
    expect(await refusal(host.stored.messages.addMessageFor({ userIds: [user], level: 'INFO', text: 'twice', idempotencyKey: key }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.idempotencyKey',
    });
  });

  it('retracts a message by its global id: each who had it gets its signals, a second retraction reaches nobody', async () => {
    const events: SignalEvent[] = [];
    const off = host.stored.signals.on((e) => void events.push(e));
    try {
      const [a, b] = [uid(), uid()];
      const sent = await host.stored.messages.addMessageFor({ userIds: [a, b], level: 'STORED_INFO', text: 'oops' });
      await host.stored.messages.markRead(b, [sent.message.id]); // its INBOX_DELETED is the read's
      events.length = 0;
      expect(await host.stored.messages.retractMessage(sent.message.id)).toEqual({ recipientCount: 2 });
      expect(await host.stored.messages.retractMessage(sent.message.id)).toEqual({ recipientCount: 0 });
      // In order for each user (users in any order).
      const of = (user: string) => events.filter((e) => e.userId === user).map((e) => [e.signal, e.messageIds, e.unreadCount]);
      expect([of(a), of(b)]).toEqual([
        [
          ['INBOX_DELETED', [sent.message.id], 0],
          ['ARCHIVE_DELETED', [sent.message.id], 0],
        ],
        [['ARCHIVE_DELETED', [sent.message.id], 0]],
      ]);
      await expect(host.stored.messages.retractMessage('not an id!')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.id' });
    } finally {
      off();
    }
  });

  it('fires the signals of each change once, with global ids and the counts after it', async () => {
    const events: SignalEvent[] = [];
    const off = host.stored.signals.on((e) => void events.push(e));
    try {
      const user = await userToken();
      // The user becomes known, so the broadcast reaches them.
      dataOf(await gql(user.token, '{ unreadCount }'));
      const sent = await host.stored.messages.addMessageFor({ userIds: [user.sub], level: 'INFO', text: 'for you' });
      const broadcast = await host.stored.messages.broadcastMessage({ level: 'WARNING', text: 'for all' });
      dataOf(await gql(user.token, MARK_READ, { i: [sent.message.id] }));
      await host.stored.messages.deleteMessages(user.sub, [sent.message.id]);
      const mine = events.filter((e) => e.userId === user.sub || (e.broadcast && e.message?.id === broadcast.message.id));
      expect(mine.map((e) => [e.signal, e.broadcast, e.messageIds, e.unreadCount])).toEqual([
        ['ARCHIVE_STORED', false, [sent.message.id], 1],
        ['INBOX_STORED', false, [sent.message.id], 1],
        ['ARCHIVE_STORED', true, [broadcast.message.id], null],
        ['INBOX_STORED', true, [broadcast.message.id], null],
        // The broadcast stays unread.
        ['INBOX_DELETED', false, [sent.message.id], 1],
        ['ARCHIVE_DELETED', false, [sent.message.id], 1],
      ]);
      expect(mine[0].message).toEqual(sent.message);
    } finally {
      off();
    }
  });
});
