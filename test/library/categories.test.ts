import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalEvent } from '../../src/library.js';
import { dataOf } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { userToken } from '../support.js';
import { refusal, startHost, type Host } from './helpers.js';

/** Categories, preferences and grouping (CONTRACT.md §9) for code beside the server: the inputs, the calls, the signals. */
describe('library use cases: categories, preferences, grouping', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(async () => host?.close());

  it('sends with category, critical and groupKey; preferences; counts and markAllRead by category, with their signals', async () => {
    const m = host.stored.messages;
    const user = await userToken();
    const events: SignalEvent[] = [];
    const off = host.stored.signals.on((e) => void (e.userId === user.sub && events.push(e)));
    try {
      expect(await m.preferences(user.sub)).toEqual([]);
      expect(await m.setPreference(user.sub, { category: 'promo', enabled: false })).toEqual({ category: 'promo', enabled: false });
      expect(await m.preferences(user.sub)).toEqual([{ category: 'promo', enabled: false }]);
      expect((await m.addMessageFor({ userIds: [user.sub], level: 'INFO', text: 'sale', category: 'promo' })).recipientCount).toBe(0);
      const critical = await m.addMessageFor({ userIds: [user.sub], level: 'INFO', text: 'recall', category: 'promo', critical: true });
      expect(critical).toMatchObject({ recipientCount: 1, message: { category: 'promo', groupKey: null, groupCount: 1 } });

      const first = await m.addMessageFor({ userIds: [user.sub], level: 'INFO', text: '1 comment', category: 'social', groupKey: 'post:9' });
      const second = await m.addMessage(user.sub, { level: 'STORED_INFO', text: '2 comments', category: 'social', groupKey: 'post:9' });
      expect(second).toMatchObject({ stored: true, message: { category: 'social', groupKey: 'post:9', groupCount: 2 } });
      const node = dataOf(await httpClient(host.baseUrl).gql(user.token, 'query($id: ID!) { message(id: $id) { read groupCount } }', { id: first.message.id })).message;
      expect(node).toEqual({ read: true, groupCount: 1 });

      expect(await m.counts(user.sub, 'social')).toEqual({ total: 2, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
      expect(await m.markAllRead(user.sub, { category: 'promo' })).toEqual({ count: 1, unreadCount: 1 });
      expect(await m.markAllSeen(user.sub, { category: 'social', until: new Date() })).toEqual({ count: 1, unseenCount: 0 });
      expect(await m.archiveAll(user.sub, { category: 'promo' })).toMatchObject({ count: 1, counts: { archived: 1, unread: 1 } });
      expect(await m.counts(user.sub, 'promo')).toEqual({ total: 1, unread: 0, unseen: 0, archived: 1, snoozed: 0 });

      expect(events.map((e) => [e.signal, e.messageIds.length, e.message?.groupCount ?? null, e.category])).toEqual([
        ['ARCHIVE_STORED', 1, 1, null],
        ['INBOX_STORED', 1, 1, null],
        ['ARCHIVE_STORED', 1, 1, null],
        ['INBOX_STORED', 1, 1, null],
        ['INBOX_DELETED', 1, null, null],
        ['ARCHIVE_STORED', 1, 2, null],
        ['INBOX_STORED', 1, 2, null],
        ['INBOX_PURGED', 0, null, 'promo'],
        ['INBOX_SEEN', 0, null, 'social'],
        ['INBOX_ARCHIVED', 0, null, 'promo'],
      ]);
      expect(events[4].messageIds).toEqual([first.message.id]);
      expect(events[5].message?.category).toBe('social');
    } finally {
      off();
    }
  });

  it('refuses what GraphQL refuses, naming the field, and what JavaScript alone could pass', async () => {
    const m = host.stored.messages;
    const user = (await userToken()).sub;
    const send = { userIds: [user], level: 'INFO', text: 'x' } as const;
    expect(await refusal(m.addMessageFor({ ...send, category: 'Promo' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.category' });
    expect(await refusal(m.addMessageFor({ ...send, category: 7 as never }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.category' });
    expect(await refusal(m.addMessageFor({ ...send, groupKey: '' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.groupKey' });
    expect(await refusal(m.addMessageFor({ ...send, critical: 'yes' as never }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.critical' });
    expect(await refusal(m.addMessageFor({ ...send, deliverAt: new Date('nope') }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.deliverAt' });
    expect(await refusal(m.broadcastMessage({ level: 'INFO', text: 'x', groupKey: 'g' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.groupKey' });
    expect(await refusal(m.setPreference(user, { category: undefined as never, enabled: true }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.category' });
    expect(await refusal(m.setPreference(user, { category: 'ok', enabled: 'no' as never }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.enabled' });
    expect(await refusal(m.counts(user, 'A'))).toEqual({ code: 'BAD_USER_INPUT', field: 'category' });
    expect(await refusal(m.markAllRead(user, { category: 'a b' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.category' });
    expect(await m.counts(user)).toEqual({ total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 });
  });
});
