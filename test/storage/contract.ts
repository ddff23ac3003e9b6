import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveredRecord, type MessageRecord, type NewMessage } from '../../src/domain/message.js';
import { IdempotencyMismatch, InvalidCursor, type IdempotencyClaim, type RememberedFlash, type ListQuery, type MessageStore, type SendResult } from '../../src/domain/message-store.js';

/**
 * The storage contract (src/storage/store.ts), run against the MessageStore interface directly.
 * Every backend must pass it: `runStoreContract('my backend', open)` in a *.test.ts file.
 *
 * `open` is called once per suite; tests share the store and keep apart by using fresh user ids,
 * so the suite never depends on what else the store holds. Tests in a suite run one at a time
 * (broadcast counts rely on no other test sending a broadcast meanwhile).
 */
export interface OpenedStore {
  store: MessageStore;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const uid = (prefix = 'u') => `${prefix}-${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (xs: readonly string[]) => [...xs].sort();

/** A valid, normalised message (what the domain hands to storage). */
/** A user's unread counts as the sends reported them, in the order of the messages' ids. */
export function countsInIdOrder(results: readonly SendResult[], user: string): number[] {
  return results
    .flatMap((r) => (r.recipients ?? []).filter((x) => x.userId === user).map((x) => [Number(r.message.id), x.unreadCount] as const))
    .sort((p, q) => p[0] - q[0])
    .map(([, n]) => n);
}

export function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    level: 21,
    text: 'hello',
    extraTags: '',
    url: null,
    data: null,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 30 * DAY),
    ...over,
  };
}

/** Every message id of a user (up to 100), newest first. */
export const idsOf = async (store: MessageStore, user: string) =>
  (await store.list(user, { unreadOnly: false, filter: {}, direction: 'forward', limit: 100, cursor: null })).items.map((i) => i.message.id);

const query = (over: Partial<ListQuery> = {}): ListQuery => ({
  unreadOnly: false,
  filter: {},
  direction: 'forward',
  limit: 20,
  cursor: null,
  ...over,
});

/** A flash message's idempotency record, as addMessage keeps it. */
const flashResult = (id: string, text: string): RememberedFlash => ({ message: { ...deliveredRecord(id, msg({ text })), stored: false }, stored: false });

const claim = (over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({
  scope: `addMessageFor:${uid('caller')}`,
  key: uid('key'),
  fingerprint: 'f'.repeat(64),
  ...over,
});

export function runStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`MessageStore contract: ${name}`, () => {
    let opened: OpenedStore | undefined;
    let store: MessageStore;

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => opened?.close());

    const send = (to: string[], over: Partial<NewMessage> = {}) => store.send(msg(over), { userIds: to });
    const broadcast = (over: Partial<NewMessage> = {}) => store.send(msg({ text: 'broadcast', ...over }), { everyone: true });
    const ids = (page: { items: { message: MessageRecord }[] }) => page.items.map((i) => i.message.id);

    /** Every message of the user, newest first, walking the pages forward. */
    async function listAll(userId: string, over: Partial<ListQuery> = {}): Promise<MessageRecord[]> {
      const out: MessageRecord[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page = await store.list(userId, query({ ...over, limit: 7, cursor }));
        out.push(...page.items.map((i) => i.message));
        if (!page.hasNextPage) return out;
        cursor = page.items[page.items.length - 1].cursor;
      }
    }

    /** The user's counts from every angle; they must always agree with the rows. */
    async function countsOf(userId: string) {
      const [unread, all, inbox, archive] = await Promise.all([
        store.unreadCount(userId),
        listAll(userId),
        store.list(userId, query({ unreadOnly: true, limit: 0 })),
        store.list(userId, query({ limit: 0 })),
      ]);
      return {
        unread,
        unreadRows: all.filter((m) => m.readAt === null).length,
        rows: all.length,
        inboxTotal: inbox.totalCount,
        archiveTotal: archive.totalCount,
        ids: all.map((m) => m.id),
      };
    }

    /** Asserts that every count agrees with the listed rows, and returns them. */
    async function expectConsistent(userId: string) {
      const c = await countsOf(userId);
      expect(c.unread).toBe(c.unreadRows);
      expect(c.inboxTotal).toBe(c.unreadRows);
      expect(c.archiveTotal).toBe(c.rows);
      expect(new Set(c.ids).size).toBe(c.ids.length);
      return c;
    }

    /** How many users the store knows (what a broadcast reaches), measured by a broadcast. */
    const knownUsers = async () => (await broadcast({ text: 'probe' })).recipientCount;

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('send', () => {
      it('stores one message for each listed user, de-duplicated, with one id for all', async () => {
        const [a, b] = [uid(), uid()];
        const createdAt = new Date(Date.now() - 60_000);
        const expiresAt = new Date(Date.now() + 7 * DAY);
        const data = { n: 1, nested: { s: 'é ☢ 😀' }, list: [1, 'two', null, true] };
        const sent = await store.send(
          { level: 41, text: 'an error ☢ 😀\nsecond line', extraTags: 'urgent', url: 'https://example.com/x?y=1', data, createdAt, expiresAt },
          { userIds: [a, b, a] },
        );
        expect(sent.replayed).toBe(false);
        expect(sent.recipientCount).toBe(2);
        expect([...(sent.recipients ?? [])].sort((x, y) => x.userId.localeCompare(y.userId))).toEqual(
          [{ userId: a, unreadCount: 1 }, { userId: b, unreadCount: 1 }].sort((x, y) => x.userId.localeCompare(y.userId)),
        );
        expect(sent.message).toEqual({
          id: expect.stringMatching(/^[1-9]\d*$/),
          level: 41,
          text: 'an error ☢ 😀\nsecond line',
          extraTags: 'urgent',
          url: 'https://example.com/x?y=1',
          data,
          createdAt,
          expiresAt,
          readAt: null,
          stored: true,
        });
        expect(await store.get(a, sent.message.id)).toEqual(sent.message);
        expect(await store.get(b, sent.message.id)).toEqual(sent.message);
        expect(await store.unreadCount(a)).toBe(1);
        expect(ids(await store.list(a, query()))).toEqual([sent.message.id]);
      });

      it('shows a message to its recipients only', async () => {
        const [a, stranger] = [uid(), uid()];
        await store.ensureUser(stranger);
        const sent = await send([a]);
        expect(await store.get(stranger, sent.message.id)).toBeNull();
        expect(await store.unreadCount(stranger)).toBe(0);
        const page = await store.list(stranger, query());
        expect(page.items).toEqual([]);
        expect(page.totalCount).toBe(0);
        expect(await store.oldestUnread(stranger, 100)).toEqual([]);
      });

      it('returns exact unread counts per recipient after each send', async () => {
        const [a, b] = [uid(), uid()];
        await send([a]);
        await send([a]);
        const third = await send([a, b]);
        const counts = Object.fromEntries((third.recipients ?? []).map((r) => [r.userId, r.unreadCount]));
        expect(counts).toEqual({ [a]: 3, [b]: 1 });
      });

      it('keeps data of any JSON shape, and no data as null', async () => {
        const a = uid();
        for (const data of [null, 'a string', 42, 1.5, true, false, [1, [2, { three: 3 }]], { deep: { deeper: { deepest: 'é' } } }, {}]) {
          const sent = await send([a], { data });
          expect(sent.message.data).toEqual(data);
          expect((await store.get(a, sent.message.id))?.data).toEqual(data);
        }
      });

      it('keeps messages without expiry and without url', async () => {
        const a = uid();
        const sent = await send([a], { expiresAt: null, url: null });
        expect(await store.get(a, sent.message.id)).toMatchObject({ expiresAt: null, url: null });
      });
    });

    describe('get', () => {
      it('returns null for ids that do not exist, are malformed, or are not the user\'s', async () => {
        const [a, b] = [uid(), uid()];
        const own = await send([a]);
        const other = await send([b]);
        for (const id of ['987654321987654', '0', '-1', 'abc', '', `${own.message.id}x`, other.message.id]) {
          expect(await store.get(a, id)).toBeNull();
        }
        expect(await store.get(a, own.message.id)).not.toBeNull();
      });
    });

    describe('broadcast', () => {
      it('reaches every user known when it is sent, with one message, and not users known later', async () => {
        const [a, b, late, lateByMessage] = [uid(), uid(), uid(), uid()];
        await store.ensureUser(a);
        await store.ensureUser(b);
        await store.ensureUser(a); // idempotent
        const first = await broadcast({ text: 'first broadcast' });
        expect(first.recipients).toBeNull();
        expect(first.replayed).toBe(false);
        expect(first.recipientCount).toBeGreaterThanOrEqual(2);
        expect(first.message).toMatchObject({ text: 'first broadcast', readAt: null, stored: true });
        for (const user of [a, b]) {
          expect(await store.get(user, first.message.id)).toEqual(first.message);
          expect(await store.unreadCount(user)).toBe(1);
        }

        await store.ensureUser(late);
        await send([lateByMessage]); // receiving a message makes a user known too
        for (const user of [late, lateByMessage]) {
          expect(await store.get(user, first.message.id)).toBeNull();
          expect(ids(await store.list(user, query()))).not.toContain(first.message.id);
        }
        expect(await store.unreadCount(late)).toBe(0);
        expect(await store.unreadCount(lateByMessage)).toBe(1);

        const second = await broadcast({ text: 'second broadcast' });
        expect(second.recipientCount).toBe(first.recipientCount + 2);
        for (const user of [a, b, late, lateByMessage]) expect(await store.get(user, second.message.id)).toEqual(second.message);
        await store.ensureUser(a);
        expect(await knownUsers()).toBe(second.recipientCount);
      });

      it('resolves many users\' views of a broadcast at once (has it, exact unread count), copying it first', async () => {
        const [early, reader, late, stranger] = [uid(), uid(), uid(), uid()];
        await store.ensureUser(early);
        await store.ensureUser(reader);
        await send([reader]);
        const b = await broadcast({ text: 'viewed broadcast' });
        await store.ensureUser(late); // known after the broadcast: not theirs
        await store.setRead(reader, [(await store.oldestUnread(reader, 1))[0].id], true);
        // Neither early nor reader has accessed storage since the broadcast: the views copy it for them.
        const views = await store.broadcastViews(b.message.id, [early, reader, late, stranger, early]);
        expect(Object.fromEntries(views)).toEqual({
          [early]: { has: true, unreadCount: 1 },
          [reader]: { has: true, unreadCount: 1 },
          [late]: { has: false, unreadCount: 0 },
          [stranger]: { has: false, unreadCount: 0 },
        });
        expect(await store.unreadCount(early)).toBe(1);
        expect((await store.broadcastViews('not-an-id', [early])).get(early)).toEqual({ has: false, unreadCount: 1 });
      });

      it('keeps read state and deletion per user', async () => {
        const [a, b] = [uid(), uid()];
        await store.ensureUser(a);
        await store.ensureUser(b);
        const sent = await broadcast();
        const read = await store.setRead(a, [sent.message.id], true);
        expect(read.changed).toEqual([sent.message.id]);
        expect((await store.get(b, sent.message.id))?.readAt).toBeNull();
        expect(await store.unreadCount(b)).toBe(1);
        const del = await store.deleteMessages(b, [sent.message.id]);
        expect(del.deleted).toEqual([sent.message.id]);
        expect(await store.get(b, sent.message.id)).toBeNull();
        expect((await store.get(a, sent.message.id))?.readAt).toBeInstanceOf(Date);
        expect(await store.unreadCount(a)).toBe(0);
      });

      it('orders broadcasts with direct messages by delivery, and counts them in every operation', async () => {
        const a = uid();
        const m1 = await send([a], { text: 'm1' });
        const b1 = await broadcast();
        // a has not been back since the broadcast: the next send still reports the exact count.
        const m2 = await send([a], { text: 'm2' });
        expect(m2.recipients).toEqual([{ userId: a, unreadCount: 3 }]);
        expect(ids(await store.list(a, query()))).toEqual([m2.message.id, b1.message.id, m1.message.id]);
        expect((await store.oldestUnread(a, 10)).map((m) => m.id)).toEqual([m1.message.id, b1.message.id, m2.message.id]);
        await expectConsistent(a);
      });

      it('is delivered to a user whose first access after it is a write', async () => {
        const [a, b, c] = [uid(), uid(), uid()];
        for (const u of [a, b, c]) await store.ensureUser(u);
        const sent = await broadcast();
        // Each user's first access after the broadcast is a different write.
        expect((await store.setRead(a, [sent.message.id], true)).changed).toEqual([sent.message.id]);
        expect((await store.deleteMessages(b, [sent.message.id])).deleted).toEqual([sent.message.id]);
        expect(await store.markAllRead(c, new Date(Date.now() + 1000))).toEqual({ count: 1, unreadCount: 0 });
        expect(ids(await store.list(a, query()))).toEqual([sent.message.id]);
        expect(ids(await store.list(b, query()))).toEqual([]); // deleted stays deleted
        expect(ids(await store.list(c, query({ filter: { read: true } })))).toEqual([sent.message.id]);
        for (const u of [a, b, c]) await expectConsistent(u);
      });
    });

    describe('list', () => {
      /** Five messages for one user, oldest first, with distinct dates and levels; m2 and m4 read. */
      async function fixture() {
        const a = uid();
        const base = Date.now() - 10 * 3_600_000;
        const levels = [11, 21, 26, 31, 41];
        const m: MessageRecord[] = [];
        for (let i = 0; i < 5; i++) {
          m.push((await send([a], { text: `m${i + 1}`, level: levels[i], createdAt: new Date(base + i * 3_600_000) })).message);
        }
        await store.setRead(a, [m[1].id, m[3].id], true);
        return { a, m: m.map((x) => x.id), dates: m.map((x) => x.createdAt) };
      }

      it('pages forward, newest first, with exact page info and totals', async () => {
        const { a, m } = await fixture();
        const p1 = await store.list(a, query({ limit: 2 }));
        expect(ids(p1)).toEqual([m[4], m[3]]);
        expect(p1).toMatchObject({ hasNextPage: true, hasPreviousPage: false, totalCount: 5 });
        const p2 = await store.list(a, query({ limit: 2, cursor: p1.items[1].cursor }));
        expect(ids(p2)).toEqual([m[2], m[1]]);
        expect(p2).toMatchObject({ hasNextPage: true, hasPreviousPage: true, totalCount: 5 });
        const p3 = await store.list(a, query({ limit: 2, cursor: p2.items[1].cursor }));
        expect(ids(p3)).toEqual([m[0]]);
        expect(p3).toMatchObject({ hasNextPage: false, hasPreviousPage: true, totalCount: 5 });
        const all = await store.list(a, query({ limit: 5 }));
        expect(ids(all)).toEqual([...m].reverse());
        expect(all).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      });

      it('pages backward from the oldest end, items still newest first', async () => {
        const { a, m } = await fixture();
        const p1 = await store.list(a, query({ direction: 'backward', limit: 2 }));
        expect(ids(p1)).toEqual([m[1], m[0]]);
        expect(p1).toMatchObject({ hasPreviousPage: true, hasNextPage: false, totalCount: 5 });
        const p2 = await store.list(a, query({ direction: 'backward', limit: 2, cursor: p1.items[0].cursor }));
        expect(ids(p2)).toEqual([m[3], m[2]]);
        expect(p2).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
        const p3 = await store.list(a, query({ direction: 'backward', limit: 2, cursor: p2.items[0].cursor }));
        expect(ids(p3)).toEqual([m[4]]);
        expect(p3).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
      });

      it('answers limit 0 with no items and the exact total', async () => {
        const { a } = await fixture();
        const page = await store.list(a, query({ limit: 0 }));
        expect(page.items).toEqual([]);
        expect(page.totalCount).toBe(5);
        expect(page.hasNextPage).toBe(true);
      });

      it('filters by read state, levels and inclusive date bounds, with exact totals', async () => {
        const { a, m, dates } = await fixture();
        const check = async (over: Partial<ListQuery>, expected: string[]) => {
          const page = await store.list(a, query(over));
          expect(ids(page)).toEqual(expected);
          expect(page.totalCount).toBe(expected.length);
        };
        await check({ unreadOnly: true }, [m[4], m[2], m[0]]);
        await check({ filter: { read: false } }, [m[4], m[2], m[0]]);
        await check({ filter: { read: true } }, [m[3], m[1]]);
        await check({ filter: { levels: [11, 26] } }, [m[2], m[0]]);
        await check({ filter: { levels: [21, 31], read: true } }, [m[3], m[1]]);
        await check({ filter: { levels: [21, 31], read: false } }, []);
        await check({ filter: { since: dates[1], until: dates[3] } }, [m[3], m[2], m[1]]);
        await check({ filter: { since: dates[4] } }, [m[4]]);
        await check({ filter: { until: dates[0] } }, [m[0]]);
        await check({ filter: { since: new Date(dates[0].getTime() + 1), until: new Date(dates[4].getTime() - 1) } }, [m[3], m[2], m[1]]);
        await check({ unreadOnly: true, filter: { since: dates[1] } }, [m[4], m[2]]);
      });

      it('pages through a filtered list', async () => {
        const { a, m } = await fixture();
        const p1 = await store.list(a, query({ unreadOnly: true, limit: 2 }));
        expect(ids(p1)).toEqual([m[4], m[2]]);
        expect(p1).toMatchObject({ hasNextPage: true, hasPreviousPage: false, totalCount: 3 });
        const p2 = await store.list(a, query({ unreadOnly: true, limit: 2, cursor: p1.items[1].cursor }));
        expect(ids(p2)).toEqual([m[0]]);
        expect(p2).toMatchObject({ hasNextPage: false, hasPreviousPage: true, totalCount: 3 });
      });

      it('keeps cursors valid while messages are added, read and deleted', async () => {
        const { a, m } = await fixture();
        const p1 = await store.list(a, query({ limit: 2 }));
        const inbox1 = await store.list(a, query({ unreadOnly: true, limit: 1 }));
        expect(ids(inbox1)).toEqual([m[4]]);
        const m6 = await send([a], { text: 'm6' });
        await store.setRead(a, [m[2], m[4]], true); // m[4] is the inbox cursor's own message
        await store.deleteMessages(a, [m[3]]); // the archive cursor's own message
        const p2 = await store.list(a, query({ limit: 2, cursor: p1.items[1].cursor }));
        expect(ids(p2)).toEqual([m[2], m[1]]);
        expect(p2.hasPreviousPage).toBe(true);
        const inbox2 = await store.list(a, query({ unreadOnly: true, limit: 5, cursor: inbox1.items[0].cursor }));
        expect(ids(inbox2)).toEqual([m[0]]);
        expect(inbox2.totalCount).toBe(2); // m6 and m1
        expect(inbox2.hasPreviousPage).toBe(true); // m6
        const back = await store.list(a, query({ direction: 'backward', limit: 5, cursor: p1.items[1].cursor }));
        expect(ids(back)).toEqual([m6.message.id, m[4]]);
      });

      it('refuses a malformed cursor with InvalidCursor', async () => {
        const { a } = await fixture();
        for (const cursor of ['not a cursor', '-5', '1.5', '99999999999999999999999999', 'x1']) {
          for (const direction of ['forward', 'backward'] as const) {
            const err = await store.list(a, query({ cursor, direction })).then(
              () => null,
              (e: unknown) => e,
            );
            expect(err, `cursor ${JSON.stringify(cursor)} ${direction}`).toBeInstanceOf(InvalidCursor);
          }
        }
      });
    });

    describe('read state', () => {
      it('marks read: changed, request-ordered messages, notFound, exact unread count', async () => {
        const [a, b] = [uid(), uid()];
        const m = [];
        for (let i = 0; i < 3; i++) m.push((await send([a], { text: `m${i}` })).message.id);
        const others = (await send([b])).message.id;
        const missing = '987654321987654';
        const r = await store.setRead(a, [m[1], others, m[0], missing, m[1], 'abc'], true);
        expect(sorted(r.changed)).toEqual(sorted([m[0], m[1]]));
        expect(r.messages.map((x) => x.id)).toEqual([m[1], m[0]]);
        for (const x of r.messages) expect(x.readAt).toBeInstanceOf(Date);
        expect(r.notFound).toEqual([others, missing, 'abc']);
        expect(r.unreadCount).toBe(1);
        expect((await store.get(b, others))?.readAt).toBeNull();
        expect(await store.unreadCount(b)).toBe(1);

        const readAt = r.messages[0].readAt;
        const again = await store.setRead(a, [m[1], m[0]], true);
        expect(again.changed).toEqual([]);
        expect(again.messages.map((x) => x.id)).toEqual([m[1], m[0]]);
        expect(again.messages[0].readAt).toEqual(readAt); // reading again changes nothing
        expect(again.unreadCount).toBe(1);

        const unread = await store.setRead(a, [m[0], m[2]], false);
        expect(unread.changed).toEqual([m[0]]);
        expect(unread.messages.map((x) => [x.id, x.readAt])).toEqual([
          [m[0], null],
          [m[2], null],
        ]);
        expect(unread.unreadCount).toBe(2);
        expect((await store.setRead(a, [m[0]], false)).changed).toEqual([]);
        expect(await store.setRead(a, [], true)).toEqual({ changed: [], messages: [], notFound: [], unreadCount: 2 });
        expect(await store.setRead(a, [others], false)).toEqual({ changed: [], messages: [], notFound: [others], unreadCount: 2 });
        await expectConsistent(a);
      });

      it('marks all read only up to `until`', async () => {
        const [a, b] = [uid(), uid()];
        const early = await send([a, b], { text: 'early' });
        const readEarlier = await send([a], { text: 'read earlier' });
        await store.setRead(a, [readEarlier.message.id], true);
        await sleep(20);
        const until = new Date();
        await sleep(20);
        const late = await send([a], { text: 'late' });
        expect(await store.markAllRead(a, until)).toEqual({ count: 1, unreadCount: 1 });
        expect((await store.get(a, early.message.id))?.readAt).toBeInstanceOf(Date);
        expect((await store.get(a, late.message.id))?.readAt).toBeNull();
        expect((await store.get(b, early.message.id))?.readAt).toBeNull();
        expect(await store.unreadCount(b)).toBe(1);
        expect(await store.markAllRead(a, until)).toEqual({ count: 0, unreadCount: 1 });
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 1, unreadCount: 0 });
        expect(await store.markAllRead(uid(), new Date())).toEqual({ count: 0, unreadCount: 0 });
        await expectConsistent(a);
      });

      it('keeps each message\'s read time through later mark-all-reads, unreads and deletes', async () => {
        const a = uid();
        const m1 = (await send([a], { text: 'm1' })).message.id;
        const m2 = (await send([a], { text: 'm2' })).message.id;
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 2, unreadCount: 0 });
        const t1 = (await store.get(a, m1))?.readAt;
        expect(t1).toBeInstanceOf(Date);
        expect((await store.get(a, m2))?.readAt).toEqual(t1);
        await sleep(30);
        const m3 = (await send([a], { text: 'm3' })).message.id;
        const m4 = (await send([a], { text: 'm4' })).message.id;
        // Reading an already-read message changes nothing.
        expect((await store.setRead(a, [m1], true)).changed).toEqual([]);
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 2, unreadCount: 0 });
        const t2 = (await store.get(a, m3))?.readAt;
        expect(t2!.getTime()).toBeGreaterThan(t1!.getTime());
        expect((await store.get(a, m1))?.readAt).toEqual(t1); // the earlier read time is kept
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 0, unreadCount: 0 });
        expect((await store.get(a, m4))?.readAt).toEqual(t2);

        // Unreading an old message makes it alone unread; the others keep their read times.
        const u = await store.setRead(a, [m2], false);
        expect(u.changed).toEqual([m2]);
        expect(u.unreadCount).toBe(1);
        expect((await store.get(a, m1))?.readAt).toEqual(t1);
        expect((await store.get(a, m2))?.readAt).toBeNull();
        expect((await store.get(a, m3))?.readAt).toEqual(t2);
        expect((await store.get(a, m4))?.readAt).toEqual(t2);
        expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([m2]);
        expect(ids(await store.list(a, query({ filter: { read: true } })))).toEqual([m4, m3, m1]);
        expect((await store.oldestUnread(a, 10)).map((x) => x.id)).toEqual([m2]);
        await expectConsistent(a);

        // Deleting read messages leaves the unread count alone; a new message after all this is unread.
        expect((await store.deleteMessages(a, [m1, m4])).unreadCount).toBe(1);
        const m5 = (await send([a], { text: 'm5' })).message.id;
        expect((await store.get(a, m5))?.readAt).toBeNull();
        expect(await store.unreadCount(a)).toBe(2);
        expect((await store.setRead(a, [m3], false)).unreadCount).toBe(3);
        expect((await store.setRead(a, [m2, m3, m5], true)).changed.length).toBe(3);
        expect((await store.get(a, m3))?.readAt!.getTime()).toBeGreaterThan(t2!.getTime());
        const c = await expectConsistent(a);
        expect(c).toMatchObject({ rows: 3, unread: 0 });
      });

      it('marks a large inbox read in one call, and messages arriving after stay unread', async () => {
        const [a, b] = [uid(), uid()];
        const n = 250;
        for (let i = 0; i < n; i++) await send(i % 2 ? [a] : [a, b], { text: `bulk ${i}` });
        const before = await store.list(a, query({ unreadOnly: true, limit: 0 }));
        expect(before.totalCount).toBe(n);
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: n, unreadCount: 0 });
        const after = await send([a, b], { text: 'after' });
        expect(after.recipients?.find((r) => r.userId === a)?.unreadCount).toBe(1);
        expect(ids(await store.list(a, query({ unreadOnly: true })))).toEqual([after.message.id]);
        expect((await store.list(a, query({ filter: { read: true }, limit: 0 }))).totalCount).toBe(n);
        expect(await store.unreadCount(b)).toBe(n / 2 + 1);
        await expectConsistent(a);
        await expectConsistent(b);
      });

      it('keeps read state and counts exact when messages read in bulk expire', async () => {
        const a = uid();
        const expiresAt = new Date(Date.now() + 1500);
        const soon = (await send([a], { text: 'soon', expiresAt })).message.id;
        const keep = (await send([a], { text: 'keep', expiresAt: null })).message.id;
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 2, unreadCount: 0 });
        const unreadLater = (await send([a], { text: 'unread, expires', expiresAt })).message.id;
        await sleep(expiresAt.getTime() - Date.now() + 300);
        expect(await store.get(a, soon)).toBeNull();
        expect(await store.get(a, unreadLater)).toBeNull();
        expect(await store.unreadCount(a)).toBe(0);
        await store.cleanupExpired(1000);
        const c = await expectConsistent(a);
        expect(c).toMatchObject({ rows: 1, unread: 0, ids: [keep] });
        expect((await store.setRead(a, [keep], false)).unreadCount).toBe(1);
        await expectConsistent(a);
      });

      it('leaves a broadcast sent after mark-all-read unread, even when copied on a later access', async () => {
        const a = uid();
        await store.ensureUser(a);
        await send([a], { text: 'direct' });
        expect((await store.markAllRead(a, new Date(Date.now() + 1000))).unreadCount).toBe(0);
        const b = await broadcast({ text: 'after mark-all-read' });
        expect((await store.get(a, b.message.id))?.readAt).toBeNull();
        expect(await store.unreadCount(a)).toBe(1);
        await expectConsistent(a);
      });

      it('deletes only the user\'s deliveries', async () => {
        const [a, b] = [uid(), uid()];
        const unread = (await send([a])).message.id;
        const read = (await send([a])).message.id;
        const kept = (await send([a])).message.id;
        const shared = (await send([a, b])).message.id;
        const others = (await send([b])).message.id;
        await store.setRead(a, [read], true);
        const missing = '987654321987654';
        const r = await store.deleteMessages(a, [unread, read, shared, others, missing, unread, 'abc']);
        expect(sorted(r.deleted)).toEqual(sorted([unread, read, shared]));
        expect(r.notFound).toEqual([others, missing, 'abc']);
        expect(r.unreadCount).toBe(1);
        expect(ids(await store.list(a, query()))).toEqual([kept]);
        expect(await store.get(a, shared)).toBeNull();
        expect(sorted(ids(await store.list(b, query())))).toEqual(sorted([shared, others]));
        expect(await store.unreadCount(b)).toBe(2);

        const again = await store.deleteMessages(a, [unread, shared]);
        expect(again).toEqual({ deleted: [], notFound: [unread, shared], unreadCount: 1 });
        expect((await store.setRead(a, [read], false)).notFound).toEqual([read]);
        await expectConsistent(a);
        await expectConsistent(b);
      });

      it('lists the oldest unread first, up to the limit', async () => {
        const a = uid();
        const m = [];
        for (let i = 0; i < 5; i++) m.push((await send([a], { text: `m${i}` })).message.id);
        await store.setRead(a, [m[1]], true);
        expect((await store.oldestUnread(a, 2)).map((x) => x.id)).toEqual([m[0], m[2]]);
        const all = await store.oldestUnread(a, 100);
        expect(all.map((x) => x.id)).toEqual([m[0], m[2], m[3], m[4]]);
        expect(all.every((x) => x.readAt === null && x.stored)).toBe(true);
        expect(await store.oldestUnread(uid(), 100)).toEqual([]);
      });
    });

    describe('idempotency', () => {
      it('replays a send with the same claim: same result, nothing new stored', async () => {
        const [a, b] = [uid(), uid()];
        const c = claim();
        const first = await store.send(msg({ text: 'once' }), { userIds: [a, b] }, c);
        expect(first.replayed).toBe(false);
        await store.setRead(a, [first.message.id], true); // a replay returns the first result as it was
        const again = await store.send(msg({ text: 'once' }), { userIds: [a, b] }, c);
        expect(again.replayed).toBe(true);
        expect(again.message).toEqual(first.message);
        expect(again.message.createdAt).toBeInstanceOf(Date);
        expect(again.recipientCount).toBe(2);
        expect(ids(await store.list(a, query()))).toEqual([first.message.id]);
        expect(ids(await store.list(b, query()))).toEqual([first.message.id]);
        expect(await store.unreadCount(b)).toBe(1);
      });

      it('refuses a claim reused with another fingerprint, storing nothing', async () => {
        const a = uid();
        const c = claim();
        await store.send(msg(), { userIds: [a] }, c);
        await expect(store.send(msg({ text: 'other' }), { userIds: [a] }, { ...c, fingerprint: 'e'.repeat(64) })).rejects.toBeInstanceOf(
          IdempotencyMismatch,
        );
        expect((await store.list(a, query())).totalCount).toBe(1);
      });

      it('scopes keys: the same key in another scope is a new request', async () => {
        const a = uid();
        const key = uid('key');
        const one = await store.send(msg(), { userIds: [a] }, claim({ key, scope: `addMessageFor:${uid('caller')}` }));
        const two = await store.send(msg(), { userIds: [a] }, claim({ key, scope: `addMessageFor:${uid('caller')}` }));
        expect(two.replayed).toBe(false);
        expect(two.message.id).not.toBe(one.message.id);
        expect(await store.unreadCount(a)).toBe(2);
      });

      it('replays a broadcast', async () => {
        const a = uid();
        await store.ensureUser(a);
        const c = claim();
        const first = await store.send(msg({ text: 'once for all' }), { everyone: true }, c);
        const again = await store.send(msg({ text: 'once for all' }), { everyone: true }, c);
        expect(again).toMatchObject({ replayed: true, recipientCount: first.recipientCount });
        expect(again.message).toEqual(first.message);
        expect(ids(await store.list(a, query()))).toEqual([first.message.id]);
      });

      it('stores a claim once under concurrent identical sends', async () => {
        const a = uid();
        const c = claim();
        const results = await Promise.all(Array.from({ length: 6 }, () => store.send(msg({ text: 'race' }), { userIds: [a] }, c)));
        expect(results.filter((r) => !r.replayed)).toHaveLength(1);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
        expect(await store.unreadCount(a)).toBe(1);
        await expectConsistent(a);
      });

      it('remembers the first result that is not a stored message and answers it to later calls', async () => {
        const c = claim({ scope: `addMessage:${uid('caller')}` });
        const result = flashResult('b9f3c1e2-0000-4000-8000-000000000000', 'flash ☢');
        expect(await store.remember(c, result)).toEqual(result);
        // The first result wins; a second remember returns it, dates revived.
        const again = await store.remember(c, flashResult('c9f3c1e2-0000-4000-8000-000000000000', 'other'));
        expect(again).toEqual(result);
        expect(again.message.createdAt).toBeInstanceOf(Date);
        const other = { ...c, fingerprint: 'e'.repeat(64) };
        await expect(store.remember(other, result)).rejects.toBeInstanceOf(IdempotencyMismatch);
        const fresh = flashResult('d9f3c1e2-0000-4000-8000-000000000000', 'fresh');
        expect(await store.remember({ ...c, key: uid('key') }, fresh)).toEqual(fresh);
      });

      it('forgets a remembered result for its own fingerprint only, so a retry can remember anew', async () => {
        const c = claim({ scope: `addMessage:${uid('caller')}` });
        const result = flashResult('e9f3c1e2-0000-4000-8000-000000000000', 'first');
        const retry = flashResult('f9f3c1e2-0000-4000-8000-000000000000', 'retry');
        await store.remember(c, result);
        await store.forget({ ...c, fingerprint: 'e'.repeat(64) });
        expect(await store.remember(c, retry)).toEqual(result);
        await store.forget(c);
        expect(await store.remember(c, retry)).toEqual(retry);
      });
    });

    describe('expiry', () => {
      it('hides an expired message from everything at once; the cleanup reclaims it and counts stay exact', async () => {
        const [a, b, idle] = [uid(), uid(), uid()];
        for (const u of [a, b, idle]) await store.ensureUser(u);
        const keep = await send([a], { text: 'keep', expiresAt: null });
        const keepRead = await send([a], { text: 'keep read' });
        await store.setRead(a, [keepRead.message.id], true);

        const expiresAt = new Date(Date.now() + 2500);
        const soon = await send([a, b], { text: 'soon', expiresAt, level: 41 });
        const soonRead = await send([a], { text: 'soon read', expiresAt });
        await store.setRead(a, [soonRead.message.id], true);
        const soonBroadcast = await broadcast({ text: 'soon broadcast', expiresAt });
        // Before expiry: all visible (a has seen the broadcast; `idle` has not been back since).
        expect(await store.unreadCount(a)).toBe(3);
        expect((await store.list(a, query())).totalCount).toBe(5);

        await sleep(expiresAt.getTime() - Date.now() + 300);

        const gone = [soon.message.id, soonRead.message.id, soonBroadcast.message.id];
        for (const id of gone) {
          expect(await store.get(a, id)).toBeNull();
          expect(await store.get(b, id)).toBeNull();
          expect(await store.get(idle, id)).toBeNull();
        }
        const expectAfterExpiry = async () => {
          expect(await store.unreadCount(a)).toBe(1);
          expect(await store.unreadCount(b)).toBe(0);
          expect(await store.unreadCount(idle)).toBe(0);
          expect(ids(await store.list(a, query()))).toEqual([keepRead.message.id, keep.message.id]);
          expect((await store.list(a, query())).totalCount).toBe(2);
          expect((await store.list(a, query({ unreadOnly: true }))).totalCount).toBe(1);
          expect((await store.list(a, query({ filter: { levels: [41] } }))).totalCount).toBe(0);
          expect((await store.list(a, query({ filter: { read: true } }))).totalCount).toBe(1);
          expect((await store.list(b, query())).totalCount).toBe(0);
          expect((await store.list(idle, query())).items).toEqual([]);
          expect((await store.oldestUnread(a, 100)).map((m) => m.id)).toEqual([keep.message.id]);
          await expectConsistent(a);
          await expectConsistent(b);
          await expectConsistent(idle);
        };
        await expectAfterExpiry();
        // Writes do not see them either.
        expect((await store.setRead(a, [soon.message.id], true)).notFound).toEqual([soon.message.id]);
        expect((await store.setRead(a, [soonRead.message.id], false)).notFound).toEqual([soonRead.message.id]);
        expect((await store.deleteMessages(b, [soon.message.id])).notFound).toEqual([soon.message.id]);
        expect((await store.deleteMessages(idle, [soonBroadcast.message.id])).notFound).toEqual([soonBroadcast.message.id]);

        expect(await store.cleanupExpired(1000)).toBeGreaterThan(0);
        await expectAfterExpiry();
        expect(await store.cleanupExpired(1000)).toBe(0);

        // Counters stay exact for what comes next.
        const next = await send([a, b], { text: 'after cleanup' });
        const reported = Object.fromEntries((next.recipients ?? []).map((r) => [r.userId, r.unreadCount]));
        expect(reported).toEqual({ [a]: 2, [b]: 1 });
        expect(await store.markAllRead(a, new Date(Date.now() + 1000))).toEqual({ count: 2, unreadCount: 0 });
        await expectConsistent(a);
      });

      it('pages past many expired deliveries the cleanup has not reclaimed yet (more than a read checks at once)', async () => {
        // Redis lists skip up to 256 expired deliveries by id and read each one's expiry beyond that:
        // 300 exercise the second way, interleaved with live ones at both ends and in the middle.
        const a = uid();
        const expiresAt = new Date(Date.now() + 2500);
        const live: string[] = [];
        live.push((await send([a], { text: 'live oldest', expiresAt: null })).message.id);
        for (let i = 0; i < 300; i++) {
          await send([a], { text: `soon ${i}`, expiresAt });
          if (i === 150) live.push((await send([a], { text: 'live middle', expiresAt: null })).message.id);
        }
        const readOne = (await send([a], { text: 'live read', expiresAt: null })).message.id;
        await store.setRead(a, [readOne], true);
        live.push(readOne, (await send([a], { text: 'live newest', expiresAt: null })).message.id);
        await sleep(expiresAt.getTime() - Date.now() + 300);

        const newestFirst = [...live].reverse();
        expect((await listAll(a, { limit: 2 })).map((m) => m.id)).toEqual(newestFirst);
        expect((await listAll(a, { limit: 2, unreadOnly: true })).map((m) => m.id)).toEqual(newestFirst.filter((id) => id !== readOne));
        expect((await listAll(a, { filter: { read: true } })).map((m) => m.id)).toEqual([readOne]);
        const first = await store.list(a, query({ limit: 2 }));
        expect([first.totalCount, first.hasNextPage, first.hasPreviousPage]).toEqual([4, true, false]);
        const back = await store.list(a, query({ direction: 'backward', limit: 2, cursor: live[0] }));
        expect(ids(back)).toEqual([newestFirst[1], newestFirst[2]]);
        expect([back.hasNextPage, back.hasPreviousPage]).toEqual([true, true]);
        expect(await store.unreadCount(a)).toBe(3);
        await expectConsistent(a);
        // Reclaimed, nothing changes for the user (and no expired record is left for the next tests).
        for (let round = 0; round < 100 && (await store.cleanupExpired(1000)) > 0; round++);
        expect((await listAll(a)).map((m) => m.id)).toEqual(newestFirst);
        expect(await store.unreadCount(a)).toBe(3);
      });

      it('reclaims in batches of at most `limit`', async () => {
        const users = [uid(), uid(), uid()];
        const expiresAt = new Date(Date.now() + 1500);
        for (let i = 0; i < 3; i++) await send(users, { expiresAt });
        await sleep(expiresAt.getTime() - Date.now() + 300);
        let total = 0;
        for (let round = 0; round < 100; round++) {
          const n = await store.cleanupExpired(2);
          expect(n).toBeLessThanOrEqual(2 * 3); // each kind of record is bounded by the limit
          if (n === 0) break;
          total += n;
        }
        expect(total).toBeGreaterThanOrEqual(3); // at least the three messages
        expect(await store.cleanupExpired(1000)).toBe(0);
        for (const u of users) expect((await expectConsistent(u)).rows).toBe(0);
      });
    });

    describe('concurrency', () => {
      it('gives each of many concurrent sends to shared users its own message, its recipients and the count just after it', async () => {
        const [a, b, c] = [uid(), uid(), uid()];
        const to = (k: number) => (k % 3 === 0 ? [a] : k % 3 === 1 ? [a, b] : [c, b]);
        const results = await Promise.all(Array.from({ length: 60 }, (_, k) => send(to(k), { text: `concurrent ${k}` })));
        expect(new Set(results.map((r) => r.message.id)).size).toBe(60);
        const seen = new Map<string, [id: number, count: number][]>();
        results.forEach((r, k) => {
          expect(r.message.text).toBe(`concurrent ${k}`);
          expect(r.recipientCount).toBe(to(k).length);
          expect(r.recipients?.map((x) => x.userId).sort()).toEqual([...to(k)].sort());
          for (const x of r.recipients ?? []) seen.set(x.userId, [...(seen.get(x.userId) ?? []), [Number(r.message.id), x.unreadCount]]);
        });
        // Per user: each send reports its own count, so together they are 1, 2, 3 ... exactly. (In the
        // order of the messages' ids on a single store; a Redis Cluster delivers multi-user sends per
        // user after the id is taken, so there the order may differ.)
        for (const [user, pairs] of seen) {
          pairs.sort((p, q) => p[0] - q[0]);
          const counts = pairs.map(([, n]) => n).sort((p, q) => p - q);
          expect(counts, user).toEqual(counts.map((_, i) => i + 1));
          expect(await store.unreadCount(user)).toBe(counts.length);
          expect((await listAll(user)).map((m) => m.id)).toEqual(pairs.map(([id]) => String(id)).reverse());
          await expectConsistent(user);
        }
        expect([seen.get(a)?.length, seen.get(b)?.length, seen.get(c)?.length]).toEqual([40, 40, 20]);
      });

      it('keeps counts exact under concurrent sends, reads and deletes for one user', async () => {
        const a = uid();
        const existing: string[] = [];
        for (let i = 0; i < 10; i++) existing.push((await send([a], { text: `existing ${i}` })).message.id);
        const results = await Promise.all([
          ...Array.from({ length: 20 }, (_, i) => send([a], { text: `concurrent ${i}` })),
          store.setRead(a, existing.slice(0, 5), true),
          store.setRead(a, existing.slice(5, 7), false),
          store.deleteMessages(a, existing.slice(8, 10)),
          store.unreadCount(a),
          store.list(a, query({ unreadOnly: true })),
        ]);
        const sends = results.slice(0, 20) as SendResult[];
        // Each send reports the count right after it: at least 1, at most everything unread.
        for (const s of sends) expect(s.recipients?.[0].unreadCount).toBeGreaterThanOrEqual(1);
        for (const s of sends) expect(s.recipients?.[0].unreadCount).toBeLessThanOrEqual(30);
        const c = await expectConsistent(a);
        expect(c.rows).toBe(28);
        expect(c.unread).toBe(23);
      });

      it('keeps counts exact when mark-all-read and deletes race with sends', async () => {
        const a = uid();
        for (let i = 0; i < 5; i++) await send([a]);
        const first = await store.list(a, query({ limit: 2 }));
        await Promise.all([
          ...Array.from({ length: 10 }, () => send([a])),
          store.markAllRead(a, new Date()),
          store.deleteMessages(a, ids(first)),
          store.markAllRead(a, new Date()),
        ]);
        const c = await expectConsistent(a);
        expect(c.rows).toBe(13);
      });

      it('keeps counts exact when mark-all-read races with sends, reads, unreads, deletes and broadcasts, round after round', async () => {
        const a = uid();
        await store.ensureUser(a);
        const seen: string[] = [];
        let deleted = 0;
        for (let round = 0; round < 4; round++) {
          const page = ids(await store.list(a, query({ limit: 6 })));
          const results = await Promise.all([
            ...Array.from({ length: 6 }, (_, i) => send([a], { text: `round ${round} send ${i}` })),
            store.markAllRead(a, new Date()),
            store.setRead(a, page.slice(0, 2), false),
            store.setRead(a, page.slice(2, 4), true),
            store.deleteMessages(a, page.slice(4, 5)),
            broadcast({ text: `round ${round} broadcast` }),
            store.markAllRead(a, new Date()),
          ]);
          for (const r of results.slice(0, 6) as SendResult[]) seen.push(r.message.id);
          deleted += (results[9] as { deleted: string[] }).deleted.length;
          await expectConsistent(a);
        }
        // Nothing sent was lost: every direct send is still listed unless this test deleted it.
        const c = await expectConsistent(a);
        expect(deleted).toBe(3); // the first round's page was empty
        expect(c.rows).toBe(4 * 6 + 4 - deleted); // sends + broadcasts - deletes
        for (const id of seen.slice(-6)) expect(c.ids).toContain(id);
      });

      it('lands every concurrent multi-recipient send for every recipient, whatever the recipient order', async () => {
        const users = Array.from({ length: 5 }, () => uid());
        const n = 12;
        const sends = await Promise.all(
          Array.from({ length: n }, (_, i) => {
            const order = i % 2 ? [...users].reverse() : [...users.slice(i % 5), ...users.slice(0, i % 5)];
            return send(order, { text: `multi ${i}` });
          }),
        );
        for (const u of users) {
          const c = await expectConsistent(u);
          expect(c.rows).toBe(n);
          expect(c.unread).toBe(n);
          // Every send reported this user's exact count after it: 1..n, each once.
          const reported = sends.map((s) => s.recipients?.find((r) => r.userId === u)?.unreadCount).sort((x, y) => (x ?? 0) - (y ?? 0));
          expect(reported).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        }
      });

      it('delivers concurrent broadcasts exactly once to users reading meanwhile', async () => {
        const users = Array.from({ length: 3 }, () => uid());
        for (const u of users) await store.ensureUser(u);
        const sent = await Promise.all([
          ...Array.from({ length: 5 }, (_, i) => broadcast({ text: `concurrent broadcast ${i}` })),
          ...users.flatMap((u) => [store.unreadCount(u), store.list(u, query()), store.markAllRead(u, new Date(0)), store.oldestUnread(u, 10)]),
        ]);
        const broadcastIds = sorted((sent.slice(0, 5) as SendResult[]).map((s) => s.message.id));
        for (const u of users) {
          const c = await expectConsistent(u);
          expect(sorted(c.ids)).toEqual(broadcastIds);
          expect(c.unread).toBe(5);
        }
      });
    });

    describe('atomicity', () => {
      it('stores a multi-recipient send for all recipients or for none', async () => {
        const known = uid();
        const [fresh1, fresh2] = [uid(), uid()];
        await store.ensureUser(known);
        const before = await knownUsers();
        // U+0000 is text some backends cannot store (PostgreSQL): there the send must fail as a whole.
        const outcome = await store.send(msg({ text: 'nul \u0000 byte' }), { userIds: [known, fresh1, fresh2] }).then(
          (r) => ({ ok: true as const, id: r.message.id }),
          () => ({ ok: false as const, id: null }),
        );
        const after = await knownUsers();
        const listed = await Promise.all([known, fresh1, fresh2].map(async (u) => ids(await store.list(u, query({ limit: 100 })))));
        if (outcome.ok) {
          for (const l of listed) expect(l).toContain(outcome.id);
          expect(after).toBe(before + 2);
        } else {
          // None got it, and the users it would have introduced are still unknown (no later broadcast reached them).
          expect(listed[0]).toHaveLength(2); // the two probes
          expect(listed[1]).toEqual([]);
          expect(listed[2]).toEqual([]);
          expect(after).toBe(before);
        }
        for (const u of [known, fresh1, fresh2]) await expectConsistent(u);
      });
    });
  });
}
