import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  archive, archiveRaw, counts, inbox, isoDaysAgo, markRead, MESSAGE, messageById, newProducer, newUser, sendMany, sendTo, unknownId, type Caller,
} from '../factories.js';

describe.each(BACKENDS)('archive and inbox on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  /** A user with three messages, the middle one read. */
  async function userWithThree(): Promise<{ u: Caller; p: Caller; ids: string[] }> {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const ids = (await sendMany(p, u.sub, 3)).map((m) => m.id);
    await markRead(u, [ids[1]]);
    return { u, p, ids };
  }

  it('messages is the archive: read and unread, newest first', async () => {
    const { u, ids } = await userWithThree();
    const page = await archive(u);
    expect(page.ids).toEqual([ids[2], ids[1], ids[0]]);
    expect(page.nodes.map((m) => m.read)).toEqual([false, true, false]);
    expect(page.totalCount).toBe(3);
  });

  it('unreadMessages is the inbox: only unread, newest first', async () => {
    const { u, ids } = await userWithThree();
    const page = await inbox(u);
    expect(page.ids).toEqual([ids[2], ids[0]]);
    expect(page.nodes.every((m) => !m.read && m.readAt === null && m.stored)).toBe(true);
    expect(page.totalCount).toBe(2);
    expect(await counts(u)).toEqual({ unread: 2, inboxTotal: 2, archiveTotal: 3 });
  });

  it('orders by delivery, not by the date the producer gave', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const yesterday = await sendTo(p, u.sub, { date: isoDaysAgo(1), text: 'dated yesterday, delivered first' });
    const older = await sendTo(p, u.sub, { date: isoDaysAgo(5), text: 'dated last week, delivered second' });
    expect((await archive(u)).ids).toEqual([older.message.id, yesterday.message.id]);
    expect((await inbox(u)).ids).toEqual([older.message.id, yesterday.message.id]);
  });

  it('an empty inbox and archive are empty connections, not errors', async () => {
    const u = await newUser(t);
    for (const page of [await archive(u), await inbox(u)]) {
      expect(page).toEqual({
        ids: [], nodes: [], cursors: [], totalCount: 0,
        pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      });
    }
    expect((await u.q('{ unreadCount }')).unreadCount).toBe(0);
  });

  describe('one message by id', () => {
    it('message(id) and node(id) return the caller\'s message, read or not', async () => {
      const { u, ids } = await userWithThree();
      const [m] = (await archive(u)).nodes.filter((n) => n.id === ids[1]);
      expect(await messageById(u, ids[1])).toEqual(m);
      const node = await u.q(`query($id: ID!) { node(id: $id) { __typename id ... on Message { ${MESSAGE} } } }`, { id: ids[1] });
      expect(node.node).toEqual({ __typename: 'Message', ...m });
    });

    it('return null for a well-formed id that is not the caller\'s message', async () => {
      const u = await newUser(t);
      const id = unknownId();
      expect(await messageById(u, id)).toBeNull();
      expect((await u.q('query($id: ID!) { node(id: $id) { id } }', { id })).node).toBeNull();
    });

    it('refuse a malformed id with BAD_USER_INPUT', async () => {
      const u = await newUser(t);
      for (const id of ['nope!', '', Buffer.from('Message:abc').toString('base64url'), Buffer.from('User:1').toString('base64url')]) {
        expect(errorCode(await u.raw('query($id: ID!) { message(id: $id) { id } }', { id }))).toBe('BAD_USER_INPUT');
        expect(errorCode(await u.raw('query($id: ID!) { node(id: $id) { id } }', { id }))).toBe('BAD_USER_INPUT');
      }
    });

    it('gives every recipient the same id for one message', async () => {
      const p = await newProducer(t);
      const [a, b] = [await newUser(t), await newUser(t)];
      const { message } = await sendTo(p, [a.sub, b.sub]);
      expect((await messageById(a, message.id))?.id).toBe(message.id);
      expect((await messageById(b, message.id))?.id).toBe(message.id);
    });
  });

  describe('MessageFilter', () => {
    async function mixed() {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const now = Date.now();
      const d = (days: number) => isoDaysAgo(days, now);
      const a = (await sendTo(p, u.sub, { level: 'STORED_ERROR', date: d(4), text: 'a' })).message;
      const b = (await sendTo(p, u.sub, { level: 'INFO', date: d(3), text: 'b' })).message;
      const c = (await sendTo(p, u.sub, { level: 'STORED_ERROR', date: d(2), text: 'c' })).message;
      const e = (await sendTo(p, u.sub, { level: 'WARNING', date: d(1), text: 'e' })).message;
      await markRead(u, [b.id, c.id]);
      return { u, a, b, c, e, d };
    }
    const texts = async (u: Caller, filter: Record<string, unknown>) => {
      const page = await archive(u, { filter });
      expect(page.totalCount).toBe(page.ids.length);
      return page.nodes.map((m) => m.text);
    };

    it('read: true / false', async () => {
      const { u } = await mixed();
      expect(await texts(u, { read: true })).toEqual(['c', 'b']);
      expect(await texts(u, { read: false })).toEqual(['e', 'a']);
      expect(await texts(u, {})).toEqual(['e', 'c', 'b', 'a']);
    });

    it('levels', async () => {
      const { u } = await mixed();
      expect(await texts(u, { levels: ['STORED_ERROR'] })).toEqual(['c', 'a']);
      expect(await texts(u, { levels: ['INFO', 'WARNING'] })).toEqual(['e', 'b']);
      expect(await texts(u, { levels: ['STORED_ERROR', 'STORED_ERROR'] })).toEqual(['c', 'a']);
      expect(await texts(u, { levels: ['DEBUG'] })).toEqual([]);
    });

    it('since and until bound createdAt, inclusive', async () => {
      const { u, b, c } = await mixed();
      expect(await texts(u, { since: b.createdAt })).toEqual(['e', 'c', 'b']);
      expect(await texts(u, { until: c.createdAt })).toEqual(['c', 'b', 'a']);
      expect(await texts(u, { since: b.createdAt, until: c.createdAt })).toEqual(['c', 'b']);
      expect(await texts(u, { since: c.createdAt, until: c.createdAt })).toEqual(['c']);
      const justAfter = new Date(Date.parse(c.createdAt) + 1).toISOString();
      expect(await texts(u, { since: justAfter, until: justAfter })).toEqual([]);
    });

    it('accepts any offset for since/until', async () => {
      const { u, c } = await mixed();
      const at = new Date(Date.parse(c.createdAt));
      const plus2 = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      expect(await texts(u, { since: plus2, until: plus2 })).toEqual(['c']);
    });

    it('combines conditions', async () => {
      const { u, d } = await mixed();
      expect(await texts(u, { read: false, levels: ['STORED_ERROR', 'WARNING'], since: d(5) })).toEqual(['e', 'a']);
      expect(await texts(u, { read: true, levels: ['STORED_ERROR'], until: d(2) })).toEqual(['c']);
    });

    it('refuses since after until, and a DateTime without an offset', async () => {
      const { u, d } = await mixed();
      expect(errorCode(await archiveRaw(u, { filter: { since: d(1), until: d(2) } }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await archiveRaw(u, { filter: { since: '2026-01-01T00:00:00' } }))).toBe('BAD_USER_INPUT');
      const literal = await u.raw('{ messages(filter: { until: "2026-01-01" }) { totalCount } }');
      expect(errorCode(literal)).toBe('BAD_USER_INPUT');
      // The error points at the literal in the query text (line 1, after "until: ").
      expect((literal.errors![0] as { locations?: unknown }).locations).toEqual([{ line: 1, column: 29 }]);
    });
  });
});
