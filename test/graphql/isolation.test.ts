import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addOwn,
  archive,
  deleteMessages,
  MESSAGE,
  newProducer,
  newUser,
  sendTo,
  unknownId,
  type Caller,
} from '../factories.js';
import { BACKENDS, startTestApp, type GqlResult, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §2: a user sees and changes only their own messages; another user's message id
 * behaves exactly like an id that does not exist. Every query and mutation is tried by Bob with
 * Alice's ids and with ids nobody has: the responses must be identical once the id is masked,
 * and Alice's messages must not change.
 */

const unknownFlashId = () => Buffer.from(`Flash:${randomUUID()}`, 'utf8').toString('base64url');

/** The response with one id replaced by a placeholder, so two responses can be compared. */
const masked = (result: GqlResult, id: string) => JSON.parse(JSON.stringify(result).split(id).join('<ID>'));

const NODE = `query($id: ID!) { node(id: $id) { id __typename ... on Message { ${MESSAGE} } } }`;
const MESSAGE_Q = `query($id: ID!) { message(id: $id) { ${MESSAGE} } }`;
const MARK = (name: string) => `mutation($ids: [ID!]!) { ${name}(input: { ids: $ids }) { count notFound unreadCount messages { ${MESSAGE} } } }`;
const DELETE = 'mutation($ids: [ID!]!) { deleteMessages(input: { ids: $ids }) { count notFound unreadCount } }';
const STATE = `{
  unreadCount
  pendingMessages { ${MESSAGE} }
  messages(first: 100) { totalCount edges { cursor node { ${MESSAGE} } } }
  unreadMessages(first: 100) { totalCount edges { cursor node { id } } }
}`;

describe.each(BACKENDS)('isolation between users on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  /** Everything a user can see of their own messages. */
  const state = async (u: Caller) => {
    const r = await u.raw(STATE);
    expect(r.errors).toBeUndefined();
    return r.data;
  };

  /**
   * Alice holds an unread and a read stored message and a flash message; Bob holds one unread
   * stored message of his own. Returns their ids and Alice's state, to check it never changes.
   */
  async function world() {
    const producer = await newProducer(t);
    const [alice, bob] = [await newUser(t), await newUser(t)];
    const aliceUnread = (await sendTo(producer, alice.sub, { text: 'alice unread secret', level: 'STORED_ERROR' })).message.id;
    const aliceRead = (await sendTo(producer, alice.sub, { text: 'alice read secret' })).message.id;
    await alice.q(MARK('markRead'), { ids: [aliceRead] });
    const aliceFlash = (await addOwn(alice, { level: 'INFO', text: 'alice flash secret' })).message.id;
    const bobOwn = (await sendTo(producer, bob.sub, { text: 'bob own' })).message.id;
    const aliceState = await state(alice);
    expect(aliceState.unreadCount).toBe(1);
    expect(aliceState.pendingMessages.map((m: { id: string }) => m.id)).toEqual([aliceFlash, aliceUnread]);
    return { producer, alice, bob, aliceUnread, aliceRead, aliceFlash, bobOwn, aliceState, aliceIds: [aliceUnread, aliceRead, aliceFlash] };
  }

  /** Bob's response with Alice's id must equal his response with an id nobody has (stored or flash alike). */
  async function expectSameAsMissing(bob: Caller, run: (id: string) => Promise<GqlResult>, theirs: string, flash: boolean) {
    const missing = flash ? unknownFlashId() : unknownId();
    const withTheirs = await run(theirs);
    const withMissing = await run(missing);
    expect(masked(withTheirs, theirs)).toEqual(masked(withMissing, missing));
    return withTheirs;
  }

  it('node and message: another user\'s id gives null, exactly as a missing id', async () => {
    const w = await world();
    for (const id of w.aliceIds) {
      const flash = id === w.aliceFlash;
      const node = await expectSameAsMissing(w.bob, (x) => w.bob.raw(NODE, { id: x }), id, flash);
      expect(node).toEqual({ data: { node: null } });
      const message = await expectSameAsMissing(w.bob, (x) => w.bob.raw(MESSAGE_Q, { id: x }), id, flash);
      expect(message).toEqual({ data: { message: null } });
      // The owner does see it: the ids are real.
      expect((await w.alice.q(MESSAGE_Q, { id })).message.id).toBe(id);
    }
    expect(await state(w.alice)).toEqual(w.aliceState);
  });

  it('messages, unreadMessages, unreadCount and pendingMessages hold only the caller\'s messages', async () => {
    const w = await world();
    const bobState = await state(w.bob);
    expect(bobState.unreadCount).toBe(1);
    expect(bobState.messages.totalCount).toBe(1);
    expect(bobState.messages.edges.map((e: any) => e.node.id)).toEqual([w.bobOwn]);
    expect(bobState.unreadMessages.totalCount).toBe(1);
    expect(bobState.unreadMessages.edges.map((e: any) => e.node.id)).toEqual([w.bobOwn]);
    expect(bobState.pendingMessages.map((m: any) => m.id)).toEqual([w.bobOwn]);
    for (const filter of [{ read: true }, { read: false }, { levels: ['STORED_ERROR', 'STORED_INFO'] }, { since: '2000-01-01T00:00:00Z' }]) {
      const page = await archive(w.bob, { filter });
      expect(page.ids.every((id) => id === w.bobOwn), JSON.stringify(filter)).toBe(true);
      expect(page.totalCount).toBe(page.ids.length);
    }
    expect(JSON.stringify(bobState)).not.toContain('alice');
  });

  it('a cursor taken from another user\'s list is only a position, like that of a deleted message', async () => {
    const producer = await newProducer(t);
    const [alice, bob, carol] = [await newUser(t), await newUser(t), await newUser(t)];
    const bobOld = (await sendTo(producer, bob.sub, { text: 'bob old' })).message.id;
    await sendTo(producer, alice.sub, { text: 'alice between' });
    await sendTo(producer, carol.sub, { text: 'carol between' });
    const bobNew = (await sendTo(producer, bob.sub, { text: 'bob new' })).message.id;
    const aliceCursor = (await archive(alice)).cursors[0];
    const carolPage = await archive(carol);
    await deleteMessages(carol, carolPage.ids); // carol's message no longer exists for anyone
    const carolCursor = carolPage.cursors[0];
    const ARCHIVE = `query($first: Int, $after: String, $last: Int, $before: String) { messages(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage } edges { node { id text } } } }`;
    for (const arg of ['after', 'before'] as const) {
      const page = arg === 'after' ? { first: 10, after: aliceCursor } : { last: 10, before: aliceCursor };
      const withAlice = await bob.raw(ARCHIVE, page);
      const withGone = await bob.raw(ARCHIVE, { ...page, [arg]: carolCursor });
      expect(withAlice.errors).toBeUndefined();
      expect(withAlice.data).toEqual(withGone.data);
      expect(withAlice.data.messages.edges.map((e: any) => e.node.id)).toEqual([arg === 'after' ? bobOld : bobNew]);
      expect(withAlice.data.messages.totalCount).toBe(2);
    }
  });

  for (const name of ['markRead', 'markUnread'] as const) {
    it(`${name}: another user's id is notFound exactly as a missing id, and nothing changes`, async () => {
      const w = await world();
      const bobBefore = await state(w.bob);
      for (const id of w.aliceIds) {
        const r = await expectSameAsMissing(w.bob, (x) => w.bob.raw(MARK(name), { ids: [x] }), id, id === w.aliceFlash);
        expect(r).toEqual({ data: { [name]: { count: 0, notFound: [id], unreadCount: 1, messages: [] } } });
        // Mixed with the caller's own id: only the own one is found (Bob's message is reset before each call).
        const mixedRun = async (x: string) => {
          await w.bob.q(MARK(name === 'markRead' ? 'markUnread' : 'markRead'), { ids: [w.bobOwn] });
          return w.bob.raw(`mutation($ids: [ID!]!) { ${name}(input: { ids: $ids }) { count notFound unreadCount messages { id read } } }`, { ids: [x, w.bobOwn] });
        };
        const mixed = await expectSameAsMissing(w.bob, mixedRun, id, id === w.aliceFlash);
        expect(mixed.data[name]).toEqual({ count: 1, notFound: [id], unreadCount: name === 'markRead' ? 0 : 1, messages: [{ id: w.bobOwn, read: name === 'markRead' }] });
        await w.bob.q(MARK('markUnread'), { ids: [w.bobOwn] });
        // With a malformed id next to it, the error is the same too.
        const bad = await expectSameAsMissing(w.bob, (x) => w.bob.raw(MARK(name), { ids: [x, 'not-an-id'] }), id, id === w.aliceFlash);
        expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      }
      expect(await state(w.alice)).toEqual(w.aliceState);
      expect(await state(w.bob)).toEqual(bobBefore);
    });
  }

  it('markAllRead marks only the caller\'s messages', async () => {
    const w = await world();
    const r = await w.bob.q('mutation { markAllRead { count unreadCount } }');
    expect(r.markAllRead).toEqual({ count: 1, unreadCount: 0 });
    expect(await state(w.alice)).toEqual(w.aliceState);
    const until = await w.bob.q('mutation($u: DateTime) { markAllRead(input: { until: $u }) { count unreadCount } }', { u: new Date(Date.now() + 60_000).toISOString() });
    expect(until.markAllRead).toEqual({ count: 0, unreadCount: 0 });
    expect(await state(w.alice)).toEqual(w.aliceState);
  });

  it('deleteMessages: another user\'s id is notFound exactly as a missing id, and nothing is deleted', async () => {
    const w = await world();
    for (const id of w.aliceIds) {
      const r = await expectSameAsMissing(w.bob, (x) => w.bob.raw(DELETE, { ids: [x] }), id, id === w.aliceFlash);
      expect(r).toEqual({ data: { deleteMessages: { count: 0, notFound: [id], unreadCount: 1 } } });
      const bad = await expectSameAsMissing(w.bob, (x) => w.bob.raw(DELETE, { ids: [x, '!!'] }), id, id === w.aliceFlash);
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(await state(w.alice)).toEqual(w.aliceState);
    expect((await state(w.bob)).messages.totalCount).toBe(1);
  });

  it('consumeMessages consumes only the caller\'s flash and stored messages', async () => {
    const w = await world();
    const bobFlash = (await addOwn(w.bob, { level: 'WARNING', text: 'bob flash' })).message.id;
    const r = await w.bob.q(`mutation { consumeMessages { unreadCount messages { ${MESSAGE} } } }`);
    expect(r.consumeMessages.messages.map((m: any) => m.id)).toEqual([bobFlash, w.bobOwn]);
    expect(r.consumeMessages.unreadCount).toBe(0);
    expect(await state(w.alice)).toEqual(w.aliceState);
    const again = await w.bob.q('mutation { consumeMessages { unreadCount messages { id } } }');
    expect(again.consumeMessages).toEqual({ unreadCount: 0, messages: [] });
    expect(await state(w.alice)).toEqual(w.aliceState);
  });

  it('addMessage flash messages reach only their owner', async () => {
    const w = await world();
    const bobState = await state(w.bob);
    expect(bobState.pendingMessages.map((m: any) => m.id)).not.toContain(w.aliceFlash);
    const flash = await addOwn(w.alice, { level: 'SUCCESS', text: 'second alice flash' });
    expect(flash.stored).toBe(false);
    expect(await state(w.bob)).toEqual(bobState);
    const aliceNow = await state(w.alice);
    expect(aliceNow.pendingMessages.map((m: any) => m.id)).toEqual([w.aliceFlash, flash.message.id, w.aliceUnread]);
  });

  it('a message sent to several users has one id; each recipient\'s read state and deletion are their own', async () => {
    const producer = await newProducer(t);
    const [alice, bob] = [await newUser(t), await newUser(t)];
    const shared = await sendTo(producer, [alice.sub, bob.sub], { text: 'for both' });
    const id = shared.message.id;
    expect((await alice.q(MARK('markRead'), { ids: [id] })).markRead).toMatchObject({ count: 1, unreadCount: 0 });
    const bobView = (await bob.q(MESSAGE_Q, { id })).message;
    expect(bobView).toMatchObject({ id, read: false, readAt: null });
    expect((await bob.q('{ unreadCount }')).unreadCount).toBe(1);
    expect((await bob.q(DELETE, { ids: [id] })).deleteMessages).toEqual({ count: 1, notFound: [], unreadCount: 0 });
    expect((await alice.q(MESSAGE_Q, { id })).message).toMatchObject({ id, read: true });
    // After Bob deleted his copy, the id is missing for him, and Alice's copy is untouched by his calls.
    expect((await bob.q(MARK('markUnread'), { ids: [id] })).markUnread).toMatchObject({ count: 0, notFound: [id] });
    expect((await alice.q(MESSAGE_Q, { id })).message).toMatchObject({ id, read: true });

    const b = await producer.q(`mutation { broadcastMessage(input: { level: STORED_INFO, text: "to all" }) { message { id } } }`);
    const bid = b.broadcastMessage.message.id;
    await bob.q(MARK('markRead'), { ids: [bid] });
    expect((await alice.q(MESSAGE_Q, { id: bid })).message).toMatchObject({ id: bid, read: false });
  });

  describe('idempotency keys are scoped to the caller', () => {
    const ADD = `mutation($input: AddMessageInput!) { addMessage(input: $input) { stored message { ${MESSAGE} } } }`;
    const ADD_FOR = `mutation($input: AddMessageForInput!) { addMessageFor(input: $input) { recipientCount message { ${MESSAGE} } } }`;

    for (const level of ['STORED_INFO', 'INFO'] as const) {
      it(`addMessage (${level === 'INFO' ? 'flash' : 'stored'}): another user's key neither replays nor conflicts`, async () => {
        const [alice, bob, carol] = [await newUser(t), await newUser(t), await newUser(t)];
        const key = `shared-key-${randomUUID()}`;
        const a = await alice.raw(ADD, { input: { level, text: 'alice secret', idempotencyKey: key } });
        expect(a.errors).toBeUndefined();
        const aliceId = a.data.addMessage.message.id;
        // Same key, other input: no mismatch error (that would tell Bob the key was used), Bob's own message.
        const b = await bob.raw(ADD, { input: { level, text: 'bob text', idempotencyKey: key } });
        expect(b.errors).toBeUndefined();
        expect(b.data.addMessage.message).toMatchObject({ text: 'bob text' });
        // Same key, same input: still Carol's own new message, not a replay of Alice's.
        const c = await carol.raw(ADD, { input: { level, text: 'alice secret', idempotencyKey: key } });
        expect(c.errors).toBeUndefined();
        expect(c.data.addMessage.message.id).not.toBe(aliceId);
        for (const [u, own] of [[bob, b], [carol, c]] as const) {
          const ids = (await u.q('{ pendingMessages { id } }')).pendingMessages.map((m: any) => m.id);
          expect(ids).toEqual([own.data.addMessage.message.id]);
        }
        const alicePending = (await alice.q('{ pendingMessages { id } }')).pendingMessages;
        expect(alicePending.map((m: any) => m.id)).toEqual([aliceId]);
      });
    }

    it('addMessageFor: another producer\'s key neither replays nor conflicts', async () => {
      const [p1, p2] = [await newProducer(t), await newProducer(t)];
      const [alice, bob] = [await newUser(t), await newUser(t)];
      const key = `shared-key-${randomUUID()}`;
      const first = await p1.raw(ADD_FOR, { input: { userIds: [alice.sub], level: 'STORED_INFO', text: 'for alice', idempotencyKey: key } });
      expect(first.errors).toBeUndefined();
      const second = await p2.raw(ADD_FOR, { input: { userIds: [bob.sub], level: 'STORED_INFO', text: 'for bob', idempotencyKey: key } });
      expect(second.errors).toBeUndefined();
      expect(second.data.addMessageFor.message).toMatchObject({ text: 'for bob' });
      expect(second.data.addMessageFor.message.id).not.toBe(first.data.addMessageFor.message.id);
      expect((await bob.q('{ unreadMessages { edges { node { text } } } }')).unreadMessages.edges).toEqual([{ node: { text: 'for bob' } }]);
      expect((await alice.q('{ unreadMessages { edges { node { text } } } }')).unreadMessages.edges).toEqual([{ node: { text: 'for alice' } }]);
    });
  });
});
