import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeMessageId } from '../../src/graphql/ids.js';
import { deleteMessages, knownUser, markRead, newProducer, newUser, unknownId, unreadCount, type Caller } from '../factories.js';
import { errorCode, type TestApp } from '../harness.js';
import { liveAppSuite, PUBSUB_SETUPS } from '../live/helpers.js';
import { inMs } from '../support.js';
import { broadcastIn, eventsOf, messagesOf, sendFor, takeEvents, type Event } from './categories-helpers.js';

const RETRACT = 'mutation($id: ID!) { retractMessage(input: { id: $id }) { recipientCount } }';
const retract = async (p: Caller, id: string): Promise<number> => (await p.q(RETRACT, { id })).retractMessage.recipientCount;

/** What a client acts on: the signal, the ids and the counts after. */
const brief = (events: Event[]) => events.map((e) => [e.signal, e.messageIds, e.unreadCount, e.unseenCount]);

/** CONTRACT.md §9's retraction through GraphQL and live events (WebSocket and SSE), both pub/subs and storages. */
describe.each(PUBSUB_SETUPS)('retractMessage with %s pub/sub on %s storage', (mode, backend) => {
  const app = liveAppSuite(mode, backend);
  let t: TestApp;
  let p: Caller;
  beforeAll(async () => {
    t = app();
    p = await newProducer(t);
  });

  it('a direct message leaves each recipient who still had it: INBOX_DELETED where unread, then ARCHIVE_DELETED', async () => {
    const [u, v, w] = [await newUser(t), await newUser(t), await newUser(t)];
    const keep = (await sendFor(p, [u], { text: 'keep' })).message;
    const m = (await sendFor(p, [u, v, w], { text: 'mistake' })).message;
    await markRead(v, [m.id]);
    await deleteMessages(w, [m.id]);
    const [ws, sse] = [await eventsOf(t, u, 'ws'), await eventsOf(t, v, 'sse')];
    try {
      expect(await retract(p, m.id)).toBe(2);
      expect(brief(await takeEvents(ws, 2))).toEqual([
        ['INBOX_DELETED', [m.id], 1, 1],
        ['ARCHIVE_DELETED', [m.id], 1, 1],
      ]);
      expect(brief(await takeEvents(sse, 1))).toEqual([['ARCHIVE_DELETED', [m.id], 0, 0]]);
      expect((await messagesOf(u)).map((x) => x.id)).toEqual([keep.id]);
      expect(await messagesOf(v)).toEqual([]);
      expect(await unreadCount(u)).toBe(1);
      expect(await retract(p, m.id)).toBe(0);
    } finally {
      ws.close();
      sse.close();
    }
  });

  it('a broadcast: one step, and events only for the users who had it, with their own counts', async () => {
    const [had, read] = [await knownUser(t), await knownUser(t)];
    const b = (await broadcastIn(p, { text: 'wrong' })).message;
    await markRead(read, [b.id]);
    const later = await knownUser(t);
    const [ws, sse, other] = [await eventsOf(t, had, 'ws'), await eventsOf(t, read, 'sse'), await eventsOf(t, later, 'sse')];
    try {
      expect(await retract(p, b.id)).toBeGreaterThanOrEqual(2);
      expect(brief(await takeEvents(ws, 2))).toEqual([
        ['INBOX_DELETED', [b.id], 0, 0],
        ['ARCHIVE_DELETED', [b.id], 0, 0],
      ]);
      // Every feed had the broadcast event before this marker: it is the first thing `later` sees.
      const marker = (await sendFor(p, [read, later], { text: 'marker' })).message;
      expect(brief(await takeEvents(sse, 3))).toEqual([
        ['ARCHIVE_DELETED', [b.id], 0, 0],
        ['ARCHIVE_STORED', [marker.id], 1, 1],
        ['INBOX_STORED', [marker.id], 1, 1],
      ]);
      expect(brief(await takeEvents(other, 1))).toEqual([['ARCHIVE_STORED', [marker.id], 1, 1]]);
      for (const c of [had, read]) expect((await messagesOf(c)).map((x) => x.id)).not.toContain(b.id);
      expect(await retract(p, b.id)).toBe(0);
    } finally {
      ws.close();
      sse.close();
      other.close();
    }
  });

  it('cancels a pending scheduled message; refuses non-producers, unknown, flash and malformed ids', async () => {
    const u = await newUser(t);
    const scheduled = await p.q('mutation($u: [ID!]!, $at: DateTime!) { addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "later", deliverAt: $at }) { message { id } } }', {
      u: [u.sub],
      at: inMs(3_600_000).toISOString(),
    });
    const id = scheduled.addMessageFor.message.id;
    expect(errorCode(await u.raw(RETRACT, { id }))).toBe('FORBIDDEN');
    expect(await retract(p, id)).toBe(0);
    expect((await p.q('{ scheduledMessages(first: 100) { edges { node { message { id } } } } }')).scheduledMessages.edges.map((e: { node: { message: { id: string } } }) => e.node.message.id)).not.toContain(id);
    expect(errorCode(await p.raw(RETRACT, { id: unknownId() }))).toBe('NOT_FOUND');
    expect(errorCode(await p.raw(RETRACT, { id: encodeMessageId(randomUUID(), false) }))).toBe('NOT_FOUND');
    const bad = await p.raw(RETRACT, { id: 'not an id!' });
    expect([errorCode(bad), bad.errors?.[0].extensions?.field]).toEqual(['BAD_USER_INPUT', 'input.id']);
  });
});
