import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, addOwnRaw, archive, broadcast, broadcastRaw, counts, deleteMessages, inbox, isoDaysAgo, isoIn, knownUser, markRead, markUnread, messageById,
  newProducer, newUser, pending, sendTo, sendToRaw, type Caller,
} from '../factories.js';
import { waitFor } from '../support.js';

const DAY = 86_400_000;
// Long enough for the two or three requests each test makes before its message expires, on a loaded machine.
const SOON = 4_000;

// The backends run at the same time (these tests mostly wait for messages to expire); each backend's tests
// run one after another, as they count what its cleanup reclaims.
describe.concurrent.each(BACKENDS)('expiry on %s', (backend) => {
  const it = test.sequential;
  let t: TestApp;
  beforeAll(async () => {
    // The periodic cleanup stays out of the way: these tests call app.cleanup() themselves.
    t = await startTestApp(backend, { CLEANUP_INTERVAL_SECONDS: '86400' });
  });
  afterAll(async () => t?.close());

  /** Waits (polling, not asserting speed) until the message no longer shows for the user. */
  const waitGone = (u: Caller, id: string) => waitFor(async () => (await messageById(u, id)) === null);

  it('a message disappears from every query and count once expiresAt passes', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const keep = await sendTo(p, u.sub, { text: 'stays' });
    const gone = await sendTo(p, u.sub, { text: 'short-lived', expiresAt: isoIn(SOON) });
    expect(gone.message.expiresAt).not.toBeNull();
    expect(await counts(u)).toEqual({ unread: 2, inboxTotal: 2, archiveTotal: 2 });

    await waitGone(u, gone.message.id);
    expect((await archive(u)).ids).toEqual([keep.message.id]);
    expect((await inbox(u)).ids).toEqual([keep.message.id]);
    expect((await archive(u, { filter: { read: false } })).totalCount).toBe(1);
    expect((await pending(u)).map((m) => m.id)).toEqual([keep.message.id]);
    expect((await u.q('query($id: ID!) { node(id: $id) { id } }', { id: gone.message.id })).node).toBeNull();
    expect(await counts(u)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    // Nor can it be changed: it behaves like a message that does not exist.
    expect(await markRead(u, [gone.message.id])).toMatchObject({ count: 0, notFound: [gone.message.id], unreadCount: 1 });
    expect(await markUnread(u, [gone.message.id])).toMatchObject({ count: 0, notFound: [gone.message.id] });
    expect(await deleteMessages(u, [gone.message.id])).toEqual({ count: 0, notFound: [gone.message.id], unreadCount: 1 });
  });

  it('the cleanup reclaims expired messages and the counts stay right', async () => {
    const [p, a, b] = [await newProducer(t), await newUser(t), await newUser(t)];
    const keep = await sendTo(p, [a.sub, b.sub], { text: 'stays' });
    const gone = await sendTo(p, [a.sub, b.sub], { text: 'short-lived', expiresAt: isoIn(SOON) });
    await markRead(b, [gone.message.id]); // one read, one unread delivery of the expiring message
    await waitGone(a, gone.message.id);
    await waitGone(b, gone.message.id);

    expect(await t.app.cleanup()).toBeGreaterThan(0);
    expect(await t.app.cleanup()).toBe(0);
    expect(await counts(a)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    expect(await counts(b)).toEqual({ unread: 1, inboxTotal: 1, archiveTotal: 1 });
    expect(await messageById(a, gone.message.id)).toBeNull();
    expect((await archive(b)).ids).toEqual([keep.message.id]);
    // Counters kept exact through the reclaim: reading the survivor brings unread to 0, not below.
    expect((await markRead(a, [keep.message.id])).unreadCount).toBe(0);
    expect(await counts(a)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 1 });
  });

  it('an expired broadcast reaches nobody, whether they caught up before or not', async () => {
    const p = await newProducer(t);
    const [early, late] = [await knownUser(t), await knownUser(t)];
    const b = await broadcast(p, { text: 'flash sale', expiresAt: isoIn(SOON) });
    expect((await inbox(early)).ids).toEqual([b.message.id]); // delivered before it expired
    await waitGone(early, b.message.id);
    await waitGone(late, b.message.id);
    for (const u of [early, late]) expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    expect(await t.app.cleanup()).toBeGreaterThan(0);
    for (const u of [early, late]) {
      expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
      expect(await archive(u)).toMatchObject({ ids: [], totalCount: 0 });
    }
    // Broadcasts after the reclaim still reach both.
    const next = await broadcast(p, { text: 'next' });
    for (const u of [early, late]) expect((await inbox(u)).ids).toEqual([next.message.id]);
  });

  it('a flash message disappears once its expiresAt passes', async () => {
    const u = await newUser(t);
    const flash = await addOwn(u, { level: 'INFO', text: 'short-lived flash', expiresAt: isoIn(SOON) });
    const other = await addOwn(u, { level: 'INFO', text: 'stays' });
    expect((await pending(u)).map((m) => m.id)).toEqual([flash.message.id, other.message.id]);
    await waitGone(u, flash.message.id);
    expect((await pending(u)).map((m) => m.id)).toEqual([other.message.id]);
  });

  it('an expiresAt in the past is BAD_USER_INPUT, and nothing is stored', async () => {
    const [p, u] = [await newProducer(t), await knownUser(t)];
    const past = isoDaysAgo(0.001);
    for (const r of [
      await addOwnRaw(u, { expiresAt: past }),
      await addOwnRaw(u, { level: 'INFO', expiresAt: past }),
      await sendToRaw(p, u.sub, { expiresAt: past }),
      await broadcastRaw(p, { expiresAt: past }),
    ]) {
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].extensions?.field).toBe('input.expiresAt');
    }
    expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    expect(await pending(u)).toEqual([]);
  });

  it('a date older than MESSAGE_EXPIRE_DAYS is BAD_USER_INPUT (the message would be expired already)', async () => {
    const [p, u] = [await newProducer(t), await knownUser(t)];
    expect(errorCode(await sendToRaw(p, u.sub, { date: isoDaysAgo(121) }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await sendToRaw(p, u.sub, { date: isoDaysAgo(180) }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await broadcastRaw(p, { date: isoDaysAgo(121) }))).toBe('BAD_USER_INPUT');
    expect(await counts(u)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
  });

  it('a date within MESSAGE_EXPIRE_DAYS expires that many days after it; a given expiresAt wins', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const now = Date.now();
    const recent = await sendTo(p, u.sub, { date: isoDaysAgo(119, now) });
    expect(Date.parse(recent.message.expiresAt!)).toBe(now - 119 * DAY + 120 * DAY);
    const old = await sendTo(p, u.sub, { date: isoDaysAgo(365, now), expiresAt: isoIn(DAY) });
    expect(old.message.createdAt).toBe(isoDaysAgo(365, now));
    expect((await inbox(u)).ids).toEqual([old.message.id, recent.message.id]);
  });
});
