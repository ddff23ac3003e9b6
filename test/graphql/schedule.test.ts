import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { encodeMessageId } from '../../src/graphql/ids.js';
import { BACKENDS, dataOf, errorCode, startTestApp, type TestApp } from '../harness.js';
import { INBOX_EVENTS, payload, subscribeOver, waitForSubscriber } from '../live/helpers.js';
import { inMs, producerToken, uid, userToken } from '../support.js';

/**
 * Scheduled delivery through GraphQL (CONTRACT.md §9): addMessageFor and broadcastMessage with
 * deliverAt, scheduledMessages, cancelScheduledMessage, and the delivery by the app's job with its
 * events on the live transport. Several processes and restarts: schedule-processes.test.ts.
 */

const SEND_FOR = `mutation($u: [ID!]!, $t: String!, $at: DateTime, $k: String) {
  addMessageFor(input: { userIds: $u, level: STORED_INFO, text: $t, deliverAt: $at, idempotencyKey: $k }) { message { id text createdAt read } recipientCount }
}`;
const BROADCAST = `mutation($t: String!, $at: DateTime) {
  broadcastMessage(input: { level: STORED_INFO, text: $t, deliverAt: $at }) { message { id text createdAt } recipientCount }
}`;
const SCHEDULED = `query($first: Int, $after: String) {
  scheduledMessages(first: $first, after: $after) {
    edges { cursor node { message { id text } deliverAt recipientCount broadcast } }
    pageInfo { hasNextPage endCursor } totalCount
  }
}`;
const CANCEL = 'mutation($id: ID!) { cancelScheduledMessage(input: { id: $id }) { cancelled message { id text } } }';
const INBOX = '{ unreadCount messages(first: 10) { edges { node { id text createdAt } } } }';

interface Node {
  message: { id: string; text: string };
  deliverAt: string;
  recipientCount: number;
  broadcast: boolean;
}

/** Every scheduled message waiting, page by page. */
async function allScheduled(t: TestApp, token: string, first = 100): Promise<{ nodes: Node[]; totalCount: number }> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string }; totalCount: number } = dataOf(await t.gql(token, SCHEDULED, { first, after })).scheduledMessages;
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return { nodes, totalCount: page.totalCount };
    after = page.pageInfo.endCursor;
  }
}

describe.each(BACKENDS)('scheduled delivery on %s', (backend) => {
  let t: TestApp;
  let producer: { sub: string; token: string };
  beforeAll(async () => {
    t = await startTestApp(backend);
    producer = await producerToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers at once, lists the schedule, delivers it at deliverAt with its events, to the users known then', async () => {
    const [a, b] = [await userToken(), await userToken()];
    for (const u of [a, b]) dataOf(await t.gql(u.token, '{ unreadCount }'));
    const events = subscribeOver('ws', t.baseUrl, a.token, INBOX_EVENTS);
    try {
      await waitForSubscriber(t.app, a.sub);
      const deliverAt = inMs(1500);
      const direct = dataOf(await t.gql(producer.token, SEND_FOR, { u: [a.sub, b.sub, a.sub], t: 'later', at: deliverAt.toISOString() })).addMessageFor;
      expect(direct).toMatchObject({ recipientCount: 2, message: { text: 'later', createdAt: deliverAt.toISOString(), read: false } });
      const all = dataOf(await t.gql(producer.token, BROADCAST, { t: 'to all, later', at: deliverAt.toISOString() })).broadcastMessage;
      expect(all.recipientCount).toBeGreaterThanOrEqual(2);
      const late = await userToken();
      dataOf(await t.gql(late.token, '{ unreadCount }'));

      const waiting = await allScheduled(t, producer.token, 1);
      expect(waiting.nodes.filter((n) => [direct.message.id, all.message.id].includes(n.message.id))).toEqual([
        { message: { id: direct.message.id, text: 'later' }, deliverAt: deliverAt.toISOString(), recipientCount: 2, broadcast: false },
        { message: { id: all.message.id, text: 'to all, later' }, deliverAt: deliverAt.toISOString(), recipientCount: all.recipientCount, broadcast: true },
      ]);
      expect(waiting.totalCount).toBe(waiting.nodes.length);
      expect(dataOf(await t.gql(a.token, INBOX)).unreadCount).toBe(0);

      // The job delivers both; a's events say so, not before deliverAt.
      const seen: { signal: string; unreadCount: number; message: { id: string; text: string } | null }[] = [];
      while (seen.filter((e) => e.signal === 'INBOX_STORED').length < 2) seen.push(payload((await events.results.next()), 'inboxEvents'));
      expect(Date.now()).toBeGreaterThanOrEqual(deliverAt.getTime());
      const stored = seen.filter((e) => e.signal === 'INBOX_STORED');
      expect(stored.map((e) => e.message?.text).sort()).toEqual(['later', 'to all, later']);
      for (const e of stored) expect([direct.message.id, all.message.id]).not.toContain(e.message?.id);

      for (const u of [a, late]) {
        const inbox = dataOf(await t.gql(u.token, INBOX));
        const texts = inbox.messages.edges.map((e: { node: { text: string } }) => e.node.text);
        expect(texts.sort()).toEqual(u === a ? ['later', 'to all, later'] : ['to all, later']);
        for (const e of inbox.messages.edges) expect(e.node.createdAt).toBe(deliverAt.toISOString());
      }
      const after = (await allScheduled(t, producer.token)).nodes.map((n) => n.message.id);
      expect(after).not.toContain(direct.message.id);
      expect(dataOf(await t.gql(producer.token, CANCEL, { id: direct.message.id })).cancelScheduledMessage).toEqual({ cancelled: false, message: { id: direct.message.id, text: 'later' } });
    } finally {
      events.close();
    }
  });
});

describe('scheduling through GraphQL: cancelling, paging and refusals', () => {
  let t: TestApp;
  let producer: { sub: string; token: string };
  beforeAll(async () => {
    t = await startTestApp('embedded');
    producer = await producerToken();
  });
  afterAll(async () => {
    await t?.close();
  });
  const schedule = async (text: string, at: Date, users = [uid()]) => dataOf(await t.gql(producer.token, SEND_FOR, { u: users, t: text, at: at.toISOString() })).addMessageFor.message.id as string;

  it('pages scheduled messages soonest first and cancels one once; nobody ever gets it', async () => {
    const user = await userToken();
    const base = Date.now() + 3_600_000;
    const ids = [await schedule('third', new Date(base + 3000), [user.sub]), await schedule('first', new Date(base + 1000)), await schedule('second', new Date(base + 2000))];
    const pages = await allScheduled(t, producer.token, 2);
    expect(pages.nodes.map((n) => n.message.text)).toEqual(['first', 'second', 'third']);
    expect(pages.totalCount).toBe(3);

    const cancel = dataOf(await t.gql(producer.token, CANCEL, { id: ids[0] })).cancelScheduledMessage;
    expect(cancel).toEqual({ cancelled: true, message: { id: ids[0], text: 'third' } });
    expect(dataOf(await t.gql(producer.token, CANCEL, { id: ids[0] })).cancelScheduledMessage.cancelled).toBe(false);
    expect((await allScheduled(t, producer.token)).nodes.map((n) => n.message.text)).toEqual(['first', 'second']);
    expect(await t.app.store.deliverDue(new Date(base + 10_000), 10)).toHaveLength(2);
    expect(dataOf(await t.gql(user.token, INBOX)).unreadCount).toBe(0);
    expect(errorCode(await t.gql(producer.token, SCHEDULED, { first: 1, after: 'bm9wZQ' }))).toBe('BAD_USER_INPUT');
  });

  it('refuses non-producers, unknown and flash ids, and deliverAt past, too far or on addMessage', async () => {
    const user = await userToken();
    const id = await schedule('kept', inMs(3_600_000));
    expect(errorCode(await t.gql(user.token, SCHEDULED))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(user.token, CANCEL, { id }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(producer.token, CANCEL, { id: encodeMessageId('999999999999', true) }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(producer.token, CANCEL, { id: encodeMessageId(randomUUID(), false) }))).toBe('NOT_FOUND');

    const refused = async (at: Date) => {
      const r = await t.gql(producer.token, SEND_FOR, { u: [user.sub], t: 'x', at: at.toISOString() });
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].extensions?.field).toBe('input.deliverAt');
    };
    await refused(inMs(-1000));
    await refused(inMs(366 * 86_400_000));
    expect(errorCode(await t.gql(producer.token, BROADCAST, { t: 'x', at: inMs(-1000).toISOString() }))).toBe('BAD_USER_INPUT');
    // addMessage has no deliverAt in the schema; through the library it is a coded refusal.
    await expect(t.app.messages.addMessage({ id: user.sub, producer: false }, { level: 'STORED_INFO', text: 'x', deliverAt: inMs(60_000) })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.deliverAt',
    } satisfies Partial<AppError>);
    expect((await allScheduled(t, producer.token)).nodes.map((n) => n.message.id)).toContain(id);
    expect(dataOf(await t.gql(user.token, INBOX)).unreadCount).toBe(0);
  });

  it('replays the same idempotency key and refuses it with another deliverAt', async () => {
    const user = uid();
    const at = inMs(3_600_000);
    const k = uid('key');
    const first = dataOf(await t.gql(producer.token, SEND_FOR, { u: [user], t: 'once', at: at.toISOString(), k })).addMessageFor;
    const again = dataOf(await t.gql(producer.token, SEND_FOR, { u: [user], t: 'once', at: at.toISOString(), k })).addMessageFor;
    expect(again).toEqual(first);
    const other = await t.gql(producer.token, SEND_FOR, { u: [user], t: 'once', at: new Date(at.getTime() + 1000).toISOString(), k });
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
    expect(other.errors?.[0].extensions?.field).toBe('input.idempotencyKey');
  });
});
