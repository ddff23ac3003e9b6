import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownUser, markAllRead, markRead, newProducer, newUser, pending, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, broadcastIn, countsIn, eventsOf, messagesOf, preferencesOf, refusedWith, sendFor, sendRaw, setPreference, setPreferenceRaw, takeEvents,
} from './categories-helpers.js';
import { archiveAll, countsOf, cutOff, stateRaw } from './inbox-states-helpers.js';

const ZERO = { total: 0, unread: 0, unseen: 0, archived: 0, snoozed: 0 };

/** CONTRACT.md §9's categories and preferences through GraphQL on every backend: inputs, preferences, counts, the "all" operations, filters. */
describe.each(BACKENDS)('categories and preferences on %s', (backend) => {
  let t: TestApp;
  let p: Caller;
  beforeAll(async () => {
    t = await startTestApp(backend);
    p = await newProducer(t);
  });
  afterAll(async () => t?.close());

  it('refuses a malformed category wherever one is accepted, and a bad group key, naming the field and changing nothing', async () => {
    const u = await knownUser(t);
    const kept = (await sendFor(p, [u], { text: 'kept' })).message.id;
    const sends: [Parameters<typeof sendRaw>[1], Record<string, unknown>, string][] = [
      ['addMessageFor', { to: [u.sub], category: 'Billing' }, 'input.category'],
      ['addMessage', { category: 'a b' }, 'input.category'],
      ['broadcastMessage', { category: 'x'.repeat(65) }, 'input.category'],
      ['addMessageFor', { to: [u.sub], category: '' }, 'input.category'],
      ['addMessageFor', { to: [u.sub], groupKey: '' }, 'input.groupKey'],
      ['addMessage', { groupKey: '🎉'.repeat(256) }, 'input.groupKey'],
      ['broadcastMessage', { groupKey: 'g' }, 'input.groupKey'],
    ];
    for (const [name, input, field] of sends) {
      expect([name, input, refusedWith(await sendRaw(name === 'addMessage' ? u : p, name, input))]).toEqual([name, input, { code: 'BAD_USER_INPUT', field }]);
    }
    const others: [string, Record<string, unknown>, string][] = [
      ['query($f: MessageFilter) { messages(filter: $f) { totalCount } }', { f: { categories: ['ok', 'NOT.OK'] } }, 'filter.categories[1]'],
      ['query($c: String) { counts(category: $c) { total } }', { c: 'é' }, 'category'],
      ['mutation($c: String) { markAllRead(input: { category: $c }) { count } }', { c: 'A' }, 'input.category'],
      ['mutation($c: String) { markAllSeen(input: { category: $c }) { count } }', { c: 'a/b' }, 'input.category'],
      ['mutation($c: String) { archiveAll(input: { category: $c }) { count } }', { c: ' ' }, 'input.category'],
      ['mutation($c: String!) { setPreference(input: { category: $c, enabled: false }) { category } }', { c: 'Promo' }, 'input.category'],
    ];
    for (const [query, variables, field] of others) expect([query, refusedWith(await u.raw(query, variables))]).toEqual([query, { code: 'BAD_USER_INPUT', field }]);
    expect(await countsOf(u)).toEqual({ total: 1, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
    expect(await preferencesOf(u)).toEqual([]);
    expect((await messagesOf(u)).map((m) => m.id)).toEqual([kept]);

    // The longest of each is fine, and a group key may be any storable text.
    const longest = await sendFor(p, [u], { category: 'a'.repeat(64), groupKey: '🎉'.repeat(255) });
    expect(longest.message).toMatchObject({ category: 'a'.repeat(64), groupKey: '🎉'.repeat(255), groupCount: 1 });
  });

  it('preferences: the ones set, by name in code-point order, upserted', async () => {
    const u = await newUser(t);
    expect(await preferencesOf(u)).toEqual([]);
    expect(await setPreference(u, 'social', false)).toEqual({ category: 'social', enabled: false });
    // Code points, not a collation that ignores punctuation.
    for (const c of ['ab', 'a_b', 'a.b', 'a0', 'a-b']) await setPreference(u, c, c !== 'a.b');
    expect(await setPreference(u, 'social', true)).toEqual({ category: 'social', enabled: true });
    expect(await preferencesOf(u)).toEqual([
      { category: 'a-b', enabled: true },
      { category: 'a.b', enabled: false },
      { category: 'a0', enabled: true },
      { category: 'a_b', enabled: true },
      { category: 'ab', enabled: true },
      { category: 'social', enabled: true },
    ]);
  });

  it('a disabled category: no message, no count, no event, not in recipientCount, unless critical; broadcasts and flash follow it', async () => {
    const [u, v] = [await knownUser(t), await knownUser(t)];
    await setPreference(u, 'billing', false);
    const events = await eventsOf(t, u);
    try {
      const both = await sendFor(p, [u, v], { category: 'billing', text: 'invoice' });
      expect(both.recipientCount).toBe(1);
      expect((await sendFor(p, [u], { category: 'billing', text: 'invoice again' })).recipientCount).toBe(0);
      expect(await addOwn(u, { category: 'billing', text: 'own' })).toMatchObject({ stored: false });
      expect(await addOwn(u, { category: 'billing', level: 'INFO', text: 'flash' })).toMatchObject({ stored: false });
      const critical = await sendFor(p, [u], { category: 'billing', critical: true, text: 'card declined' });
      expect(critical).toMatchObject({ recipientCount: 1, message: { category: 'billing' } });
      const skipped = await broadcastIn(p, { category: 'billing', text: 'price change' });
      const plain = await broadcastIn(p, { text: 'maintenance' });
      expect(skipped.recipientCount).toBe(plain.recipientCount);

      expect((await messagesOf(u)).map((m) => m.text)).toEqual(['maintenance', 'card declined']);
      expect((await messagesOf(v)).map((m) => m.text)).toEqual(['maintenance', 'price change', 'invoice']);
      expect((await pending(u)).map((m) => m.text)).toEqual(['card declined', 'maintenance']);
      expect(await countsOf(u)).toMatchObject({ total: 2, unread: 2 });
      expect(await countsIn(u, 'billing')).toEqual({ ...ZERO, total: 1, unread: 1, unseen: 1 });

      // Every event the user got, up to a last message's: only what reached them.
      const last = (await sendFor(p, [u], { text: 'last' })).message.id;
      const got: [string, string | undefined][] = [];
      while (got.at(-1)?.[1] !== last || got.at(-1)?.[0] !== 'INBOX_STORED') {
        const [e] = await takeEvents(events, 1);
        got.push([e.signal, e.message?.id]);
      }
      expect(new Set(got.map(([, id]) => id))).toEqual(new Set([critical.message.id, plain.message.id, last]));

      // Re-enabling brings nothing back; what is sent from now on arrives.
      await setPreference(u, 'billing', true);
      expect((await messagesOf(u)).map((m) => m.text)).toEqual(['last', 'maintenance', 'card declined']);
      expect(await sendFor(p, [u], { category: 'billing', text: 'welcome back' })).toMatchObject({ recipientCount: 1 });
    } finally {
      events.close();
    }
  });

  it('counts and the "all" operations by category, with the category on their events and the whole inbox in their answers', async () => {
    const u = await newUser(t);
    const send = async (text: string, category?: string) => (await sendFor(p, [u], { text, category })).message.id;
    const b1 = await send('b1', 'billing');
    await send('s1', 'social');
    await send('b2', 'billing');
    await send('n1');
    const until = await cutOff();
    await send('b3', 'billing');
    expect(await countsIn(u, 'billing')).toEqual({ ...ZERO, total: 3, unread: 3, unseen: 3 });
    expect(await countsIn(u, 'never-sent')).toEqual(ZERO);
    const events = await eventsOf(t, u);
    try {
      await markRead(u, [b1]);
      expect((await stateRaw(u, 'markAllSeen', { category: 'social' })).data?.markAllSeen).toEqual({ count: 1, unseenCount: 3 });
      const read = await u.q('mutation($i: MarkAllReadInput) { markAllRead(input: $i) { count unreadCount } }', { i: { category: 'billing', until } });
      expect(read.markAllRead).toEqual({ count: 1, unreadCount: 3 });
      expect(await archiveAll(u, { until, category: 'billing' })).toEqual({ count: 2, counts: { total: 5, unread: 3, unseen: 2, archived: 2, snoozed: 0 } });
      expect(await countsIn(u, 'billing')).toEqual({ total: 3, unread: 1, unseen: 1, archived: 2, snoozed: 0 });
      expect(await countsIn(u, 'social')).toEqual({ ...ZERO, total: 1, unread: 1 });
      expect(await markAllRead(u)).toEqual({ count: 3, unreadCount: 0 });
      const got = await takeEvents(events, 5);
      expect(got.map((e) => [e.signal, e.messageIds.length, e.unreadCount, e.unseenCount, e.category])).toEqual([
        ['INBOX_DELETED', 1, 4, 4, null],
        ['INBOX_SEEN', 0, 4, 3, 'social'],
        ['INBOX_PURGED', 0, 3, 2, 'billing'],
        ['INBOX_ARCHIVED', 0, 3, 2, 'billing'],
        ['INBOX_PURGED', 0, 0, 0, null],
      ]);
      expect(got.slice(2, 4).map((e) => e.until)).toEqual([until, until]);
      expect(got[1].until).not.toBeNull();
    } finally {
      events.close();
    }
  });

  it("a federation gateway's User carries counts(category) for the caller", async () => {
    const u = await newUser(t);
    await sendFor(p, [u], { category: 'billing' });
    await sendFor(p, [u], { category: 'social' });
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { all: counts { total } billing: counts(category: "billing") { total unread } } } }';
    expect((await u.q(query, { r: [{ __typename: 'User', id: u.sub }] }))._entities).toEqual([{ all: { total: 2 }, billing: { total: 1, unread: 1 } }]);
  });

  it('filters by categories: any of them; a message without one never matches; an empty list matches nothing', async () => {
    const u = await newUser(t);
    const send = async (text: string, category?: string) => (await sendFor(p, [u], { text, category })).message.id;
    const [b, s, , a] = [await send('b', 'billing'), await send('s', 'social'), await send('n'), await send('a', 'alerts')];
    const ids = async (filter: Record<string, unknown>) => (await messagesOf(u, filter)).map((m) => m.id);
    expect(await ids({ categories: ['billing', 'social'] })).toEqual([s, b]);
    expect(await ids({ categories: ['alerts', 'never-sent'] })).toEqual([a]);
    expect(await ids({ categories: [] })).toEqual([]);
    await markRead(u, [s]);
    expect(await ids({ categories: ['billing', 'social'], read: false })).toEqual([b]);
    const d = await u.q('query($f: MessageFilter) { messages(filter: $f) { totalCount } }', { f: { categories: ['billing', 'alerts'] } });
    expect(d.messages.totalCount).toBe(2);
  });

  it('an idempotency key used again with another category, critical or group key is refused; the same input replays', async () => {
    const u = await newUser(t);
    const idempotencyKey = `key-${randomUUID()}`;
    const first = await sendFor(p, [u], { idempotencyKey, category: 'billing', groupKey: 'g' });
    for (const change of [{ category: 'social', groupKey: 'g' }, { category: 'billing', groupKey: 'h' }, { category: 'billing' }, { category: 'billing', groupKey: 'g', critical: true }]) {
      expect([change, refusedWith(await sendRaw(p, 'addMessageFor', { to: [u.sub], idempotencyKey, ...change }))]).toEqual([change, { code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' }]);
    }
    expect(await sendFor(p, [u], { idempotencyKey, category: 'billing', groupKey: 'g', critical: false })).toEqual(first);
    expect(await countsOf(u)).toMatchObject({ total: 1, unread: 1 });
  });
});

/**
 * The limit is each store's (the storage contract checks it on every backend); this checks that
 * GraphQL answers it as BAD_USER_INPUT naming the field, once: a thousand upserts are slow to repeat.
 */
describe('the 1,001st preference', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded');
  });
  afterAll(async () => t?.close());

  it('is refused with BAD_USER_INPUT naming input.category; the thousand set stay, and each can still change', async () => {
    const u = await newUser(t);
    // 50 per request: the alias limit.
    const set = Array.from({ length: 1_000 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    for (let i = 0; i < set.length; i += 50) {
      const fields = set.slice(i, i + 50).map((c, j) => `p${j}: setPreference(input: { category: "${c}", enabled: false }) { enabled }`);
      await u.q(`mutation { ${fields.join(' ')} }`);
    }
    expect(refusedWith(await setPreferenceRaw(u, 'one-too-many', false))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.category' });
    expect(await setPreference(u, 'c500', true)).toEqual({ category: 'c500', enabled: true });
    const all = await preferencesOf(u);
    expect(all.map((x) => x.category)).toEqual(set);
    expect(all.filter((x) => x.enabled)).toEqual([{ category: 'c500', enabled: true }]);
  });
});
