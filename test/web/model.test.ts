import { describe, expect, it } from 'vitest';
import type { InboxEvent } from '../../client/index.js';
import { InboxModel, type Item } from '../../web/model.js';

/** The web inbox's model (web/model.ts): how events change what each tab shows, without a browser. */

const message = (id: string, createdAt: string, o: Partial<Item> = {}): Item => ({
  id, text: id, level: 'INFO', levelTag: 'info', tags: 'info', url: null, data: null, createdAt, readAt: null, read: false, seen: false,
  archived: false, snoozedUntil: null, expiresAt: null, category: null, groupKey: null, groupCount: 1, ...o,
});
const event = (signal: InboxEvent['signal'], o: Partial<InboxEvent> = {}): InboxEvent => ({
  signal, message: null, messageIds: [], unreadCount: 0, unseenCount: 0, until: null, category: null, cursor: 'c', ...o,
});
const ids = (items: Item[]) => items.map((m) => m.id);

describe('web inbox model', () => {
  it('shows each tab as a view of the same messages, newest first, and hides snoozed ones', () => {
    const model = new InboxModel();
    model.put([
      message('a', '2026-01-01T00:00:00.000Z'),
      message('b', '2026-01-02T00:00:00.000Z', { read: true, category: 'ops' }),
      message('c', '2026-01-03T00:00:00.000Z', { archived: true, read: true }),
    ]);
    model.put([message('d', '2026-01-04T00:00:00.000Z', { snoozedUntil: '2027-01-01T00:00:00.000Z' })]);
    expect(ids(model.view('unread'))).toEqual(['a']);
    expect(ids(model.view('all'))).toEqual(['c', 'b', 'a']);
    expect(ids(model.view('archived'))).toEqual(['c']);
    expect(ids(model.view('category:ops'))).toEqual(['b']);
    expect(model.categories()).toEqual(['ops']);
  });

  it('applies events idempotently and takes the counts from them', () => {
    const model = new InboxModel();
    const stored = event('INBOX_STORED', { message: message('a', '2026-01-01T00:00:00.000Z'), unreadCount: 1, unseenCount: 1 });
    model.apply(stored);
    model.apply(stored);
    expect([ids(model.view('unread')), model.unread, model.unseen]).toEqual([['a'], 1, 1]);
    model.apply(event('INBOX_ARCHIVED', { messageIds: ['a'] }));
    expect([ids(model.view('unread')), ids(model.view('archived')), model.unread]).toEqual([[], ['a'], 0]);
    model.apply(event('INBOX_SNOOZED', { messageIds: ['a'] }));
    expect(ids(model.view('all'))).toEqual([]);
  });

  it('covers what an "all" operation did by its cut-off and category', () => {
    const model = new InboxModel();
    model.put([
      message('old', '2026-01-01T00:00:00.000Z', { category: 'ops' }),
      message('other', '2026-01-01T00:00:00.000Z'),
      message('new', '2026-01-03T00:00:00.000Z', { category: 'ops' }),
    ]);
    model.apply(event('INBOX_PURGED', { until: '2026-01-02T00:00:00.000Z', category: 'ops' }));
    expect(ids(model.view('unread')).sort()).toEqual(['new', 'other']);
    model.readUntil('2026-01-05T00:00:00.000Z', null);
    expect(ids(model.view('unread'))).toEqual([]);
  });

  it('keeps what events said over an answer to a request sent before them: counts, changed and removed messages', () => {
    const model = new InboxModel();
    const asked = model.mark();
    model.apply(event('INBOX_STORED', { message: message('a', '2026-01-02T00:00:00.000Z'), unreadCount: 1, unseenCount: 1 }));
    model.put([message('b', '2026-01-01T00:00:00.000Z')]);
    model.apply(event('ARCHIVE_DELETED', { messageIds: ['b'], unreadCount: 1, unseenCount: 1 }));
    // The answers to requests sent before those events, read before the message was stored.
    model.count(asked, { unread: 0, unseen: 0 });
    model.put([message('a', '2026-01-02T00:00:00.000Z', { read: true }), message('b', '2026-01-01T00:00:00.000Z'), message('c', '2026-01-01T00:00:00.000Z')], asked);
    expect([ids(model.view('unread')), model.unread, model.unseen]).toEqual([['a', 'c'], 1, 1]);
    // An answer to a request sent after the latest event is taken whole.
    const now = model.mark();
    model.count(now, { unread: 2, unseen: 0 });
    model.put([message('a', '2026-01-02T00:00:00.000Z', { read: true })], now);
    expect([ids(model.view('unread')), model.unread, model.unseen]).toEqual([['c'], 2, 0]);
  });
});
