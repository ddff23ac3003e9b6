import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalEvent } from '../../src/library.js';
import { MESSAGE } from '../factories.js';
import { dataOf } from '../harness.js';
import { httpClient } from '../live/helpers.js';
import { refusal, startHost, STATES, type Host } from './helpers.js';
import { userToken } from '../support.js';


/** The inbox states' use cases for code beside the server: global ids, GraphQL's payloads, the same signals. */
describe('library use cases: inbox states', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(async () => host?.close());

  it('archive, snooze, markSeen and the "all" calls answer as GraphQL does and fire one signal each', async () => {
    const m = host.stored.messages;
    const user = await userToken();
    const events: SignalEvent[] = [];
    const off = host.stored.signals.on((e) => void (e.userId === user.sub && events.push(e)));
    try {
      const [a, b] = [(await m.addMessageFor({ userIds: [user.sub], level: 'INFO', text: 'a' })).message, (await m.addMessageFor({ userIds: [user.sub], level: 'INFO', text: 'b' })).message];
      expect(await m.markSeen(user.sub, [a.id])).toEqual({ count: 1, notFound: [], unseenCount: 1 });
      const archived = await m.archive(user.sub, [b.id]);
      expect(archived).toMatchObject({ count: 1, notFound: [], counts: { total: 2, unread: 1, unseen: 0, archived: 1, snoozed: 0 } });
      const node = dataOf(await httpClient(host.baseUrl).gql(user.token, `query($id: ID!) { message(id: $id) { ${MESSAGE} ${STATES} } }`, { id: b.id })).message;
      expect(JSON.parse(JSON.stringify(archived.messages[0]))).toEqual(node);
      const until = new Date(Date.now() + 86_400_000);
      expect(await m.snooze(user.sub, [a.id], until)).toMatchObject({ count: 1, messages: [{ id: a.id, snoozedUntil: until }] });
      expect(await m.unsnooze(user.sub, [a.id])).toMatchObject({ count: 1, messages: [{ id: a.id, seen: false, snoozedUntil: null }] });
      expect(await m.unarchive(user.sub, [b.id])).toMatchObject({ count: 1 });
      expect(await m.markAllSeen(user.sub)).toEqual({ count: 1, unseenCount: 0 });
      expect(await m.archiveAll(user.sub, { onlyRead: true })).toEqual({ count: 1, counts: { total: 2, unread: 1, unseen: 0, archived: 1, snoozed: 0 } });
      expect(await m.counts(user.sub)).toEqual({ total: 2, unread: 1, unseen: 0, archived: 1, snoozed: 0 });
      expect(events.slice(4).map((e) => [e.signal, e.messageIds, e.unreadCount, e.unseenCount, e.until !== null])).toEqual([
        ['INBOX_SEEN', [a.id], 2, 1, false],
        ['INBOX_ARCHIVED', [b.id], 1, 0, false],
        ['INBOX_SNOOZED', [a.id], 0, 0, false],
        ['INBOX_STORED', [a.id], 1, 1, false],
        ['INBOX_UNARCHIVED', [b.id], 1, 1, false],
        ['INBOX_SEEN', [], 1, 0, true],
        ['INBOX_ARCHIVED', [], 1, 0, true],
      ]);
    } finally {
      off();
    }
  });

  it('refuses what GraphQL refuses, naming the field', async () => {
    const m = host.stored.messages;
    const user = (await userToken()).sub;
    expect(await refusal(m.snooze(user, [], new Date(Date.now() - 1000)))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.until' });
    expect(await refusal(m.snooze(user, [], null as never))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.until' });
    expect(await refusal(m.archive(user, ['42']))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.ids[0]' });
    expect(await refusal(m.markAllSeen(user, new Date('nope')))).toEqual({ code: 'BAD_USER_INPUT', field: 'until' });
  });
});
