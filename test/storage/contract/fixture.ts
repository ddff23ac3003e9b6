import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveredRecord, type MessageRecord, type NewMessage } from '../../../src/domain/message.js';
import type { IdempotencyClaim, InboxCounts, ListQuery, MessageFilter, MessageStore, RememberedFlash, SendResult } from '../../../src/domain/message-store.js';
import type { WebhookOutbox } from '../../../src/domain/webhooks.js';
import { inMs, uid } from '../../support.js';

/**
 * What every feature file of the storage contract shares: message and query builders, and the
 * suite fixture (the opened store, handed to each test as `store`, and helpers that check counts).
 */
export interface OpenedStore {
  store: MessageStore;
  /** Another instance on the same data (a second process), when the backend can open one: races between instances use it. */
  twin?: MessageStore;
  /**
   * The store's webhook outbox (the store opened with webhooks on, every signal): the webhooks contract
   * fails without it. `twinOutbox`: the twin's, when there is a twin.
   */
  outbox?: WebhookOutbox;
  twinOutbox?: WebhookOutbox;
  close(): Promise<void>;
}

export const DAY = 86_400_000;

/**
 * How far ahead a message that the test watches expire is set: long enough for the few store calls
 * made before it expires on a loaded machine, short enough not to slow the suite much.
 */
const EXPIRY_WINDOW_MS = 4_000;
export const expiresSoon = () => inMs(EXPIRY_WINDOW_MS);

export const sorted = (xs: readonly string[]) => [...xs].sort();

/** A valid, normalised message (what the domain hands to storage). */
export function msg(over: Partial<NewMessage> = {}): NewMessage {
  return {
    level: 21,
    text: 'hello',
    extraTags: '',
    url: null,
    data: null,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 30 * DAY),
    category: null,
    critical: false,
    groupKey: null,
    ...over,
  };
}

/** A user's unread counts as the sends reported them, in the order of the messages' ids. */
export function countsInIdOrder(results: readonly SendResult[], user: string): number[] {
  return results
    .flatMap((r) => (r.recipients ?? []).filter((x) => x.userId === user).map((x) => [Number(r.message.id), x.unreadCount] as const))
    .sort((p, q) => p[0] - q[0])
    .map(([, n]) => n);
}

export const query = (over: Partial<ListQuery> = {}): ListQuery => ({
  unreadOnly: false,
  filter: {},
  direction: 'forward',
  limit: 20,
  cursor: null,
  ...over,
});

/** Every message id of a user (up to 100), newest first. */
export const idsOf = async (store: MessageStore, user: string) => (await store.list(user, query({ limit: 100 }))).items.map((i) => i.message.id);

/** The ids of a page, in order. */
export const ids = (page: { items: { message: MessageRecord }[] }) => page.items.map((i) => i.message.id);

/** A flash message's idempotency record, as addMessage keeps it. */
export const flashResult = (id: string, text: string): RememberedFlash => ({ message: { ...deliveredRecord(id, msg({ text })), stored: false }, stored: false });

export const claim = (over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({
  scope: `addMessageFor:${uid('caller')}`,
  key: uid('key'),
  fingerprint: 'f'.repeat(64),
  ...over,
});

/**
 * Opens the store once for the enclosing describe block (tests keep apart by using fresh user ids,
 * and run one at a time: broadcast counts rely on no other test broadcasting meanwhile), and closes it after.
 */
export function openContract(open: () => Promise<OpenedStore>) {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await open();
  });
  afterAll(async () => opened?.close());
  const current = () => {
    if (!opened) throw new Error('the store is not open (beforeAll failed)');
    return opened.store;
  };
  /** The second instance on the same data, or the same one when the backend has no second (calls still race on it). */
  const twin = () => opened?.twin ?? current();
  /** The store's outbox and the twin's (the same one when there is no twin). */
  const outboxes = () => {
    if (!opened?.outbox) throw new Error('this backend was opened without a webhook outbox (OpenedStore.outbox)');
    return { outbox: opened.outbox, twin: opened.twinOutbox ?? opened.outbox };
  };

  const send = (to: string[], over: Partial<NewMessage> = {}) => current().send(msg(over), { userIds: to });
  const broadcast = (over: Partial<NewMessage> = {}) => current().send(msg({ text: 'broadcast', ...over }), { everyone: true });

  /** Every message of the user, newest first, walking the pages forward. */
  async function listAll(userId: string, over: Partial<ListQuery> = {}): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await current().list(userId, query({ ...over, limit: 7, cursor }));
      out.push(...page.items.map((i) => i.message));
      if (!page.hasNextPage) return out;
      cursor = page.items[page.items.length - 1].cursor;
    }
  }

  /** Asserts that every count agrees with the listed rows (they must always agree), and returns them. */
  async function expectConsistent(userId: string) {
    const store = current();
    const [unread, all, inbox, archive] = await Promise.all([
      store.unreadCount(userId),
      listAll(userId),
      store.list(userId, query({ unreadOnly: true, limit: 0 })),
      store.list(userId, query({ limit: 0 })),
    ]);
    const c = { unread, unreadRows: all.filter((m) => m.readAt === null).length, rows: all.length, ids: all.map((m) => m.id) };
    expect(c.unread).toBe(c.unreadRows);
    expect(inbox.totalCount).toBe(c.unreadRows);
    expect(archive.totalCount).toBe(c.rows);
    expect(new Set(c.ids).size).toBe(c.ids.length);
    return c;
  }

  /**
   * Asserts the user's five counts, and that every list agrees with them (the totals of the pages each
   * count stands for, and the rows walked page by page).
   */
  async function expectCounts(userId: string, expected: InboxCounts) {
    const store = current();
    const total = (filter: MessageFilter, unreadOnly = false) => store.list(userId, query({ filter, unreadOnly, limit: 0 })).then((p) => p.totalCount);
    expect(await store.counts(userId)).toEqual(expected);
    expect(await store.unreadCount(userId)).toBe(expected.unread);
    const totals = {
      total: await total({}),
      unread: await total({}, true),
      unseen: await total({ seen: false }),
      archived: await total({ archived: true }),
      snoozed: await total({ snoozed: true }),
    };
    expect(totals).toEqual(expected);
    expect(await total({ archived: false })).toBe(expected.total - expected.archived);
    expect((await listAll(userId, { filter: { snoozed: true } })).length).toBe(expected.snoozed);
    await expectConsistent(userId);
  }

  /** How many users the store knows (what a broadcast reaches), measured by a broadcast. */
  const knownUsers = async () => (await broadcast({ text: 'probe' })).recipientCount;

  return {
    /** `it` whose tests receive the opened store: `it('...', async ({ store }) => ...)`. */
    it: it.extend('store', async () => current()),
    send,
    broadcast,
    listAll,
    expectConsistent,
    expectCounts,
    knownUsers,
    twin,
    outboxes,
  };
}

export type StoreContract = ReturnType<typeof openContract>;
