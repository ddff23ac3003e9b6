import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboxChange } from '../../src/domain/signals.js';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  addOwn, addOwnRaw, broadcast, consume, deleteMessages, deleteMessagesRaw, knownUser, markAllRead, markRead, markReadRaw, markUnread, newProducer,
  newUser, sendMany, sendTo, sendToRaw, storageId, unknownId, type Caller,
} from '../factories.js';

/** What a user signal says, in a comparable shape. */
const brief = (c: InboxChange) =>
  c.kind === 'user'
    ? { signal: c.signal, userId: c.userId, messageIds: c.messageIds, unreadCount: c.unreadCount, messageId: c.message?.id ?? null }
    : c.kind === 'broadcast'
      ? { signal: c.signal, broadcast: true, messageIds: c.messageIds, messageId: c.message?.id ?? null }
      : { flash: true, userId: c.userId, messageId: c.message.id };

describe.each(BACKENDS)('in-process signals on %s', (backend) => {
  let t: TestApp;
  let changes: InboxChange[] = [];
  beforeAll(async () => {
    t = await startTestApp(backend);
    t.app.signals.on((c) => void changes.push(c));
  });
  afterAll(async () => t?.close());
  beforeEach(() => {
    changes = [];
  });

  /** Signals about these users (a test's own), in the order they fired. Signals fire before the response. */
  const about = (...users: Caller[]) => changes.filter((c) => c.kind !== 'broadcast' && users.some((u) => u.sub === c.userId)).map(brief);
  const sid = (globalIds: string[]) => globalIds.map(storageId);

  it('a stored message fires ARCHIVE_STORED then INBOX_STORED per recipient, with the unread count after commit', async () => {
    const p = await newProducer(t);
    const [a, b] = [await newUser(t), await newUser(t)];
    await sendTo(p, a.sub);
    changes = [];
    const { message } = await sendTo(p, [a.sub, b.sub]);
    const id = storageId(message.id);
    const one = (u: Caller, unreadCount: number) => [
      { signal: 'ARCHIVE_STORED', userId: u.sub, messageIds: [id], unreadCount, messageId: id },
      { signal: 'INBOX_STORED', userId: u.sub, messageIds: [id], unreadCount, messageId: id },
    ];
    expect(about(a)).toEqual(one(a, 2));
    expect(about(b)).toEqual(one(b, 1));
    expect(changes).toHaveLength(4);
  });

  it('addMessage fires the stored pair for a stored level and no user signal for a flash one', async () => {
    const u = await newUser(t);
    const stored = await addOwn(u, { level: 'STORED_WARNING' });
    const id = storageId(stored.message.id);
    expect(about(u).map((c) => c.signal)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
    expect(about(u)[1]).toMatchObject({ messageIds: [id], unreadCount: 1 });
    changes = [];
    const flash = await addOwn(u, { level: 'WARNING' });
    expect(changes.filter((c) => c.kind === 'user')).toEqual([]);
    expect(about(u)).toEqual([{ flash: true, userId: u.sub, messageId: Buffer.from(flash.message.id, 'base64url').toString().slice('Flash:'.length) }]);
  });

  it('markRead fires one INBOX_DELETED listing every changed id', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const ids = (await sendMany(p, u.sub, 4)).map((m) => m.id);
    await markRead(u, [ids[0]]);
    changes = [];
    await markRead(u, [ids[0], ids[1], ids[2], unknownId()]);
    expect(about(u)).toEqual([{ signal: 'INBOX_DELETED', userId: u.sub, messageIds: sid([ids[1], ids[2]]), unreadCount: 1, messageId: null }]);
  });

  it('markUnread fires INBOX_STORED listing every changed id', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const ids = (await sendMany(p, u.sub, 3)).map((m) => m.id);
    await markRead(u, ids);
    changes = [];
    await markUnread(u, [ids[0], ids[2]]);
    const [signal] = about(u);
    expect(about(u)).toHaveLength(1);
    expect(signal).toMatchObject({ signal: 'INBOX_STORED', messageIds: sid([ids[0], ids[2]]), unreadCount: 2 });
  });

  it('markAllRead fires INBOX_PURGED only when something changed', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    await sendMany(p, u.sub, 2);
    changes = [];
    await markAllRead(u);
    expect(about(u)).toEqual([{ signal: 'INBOX_PURGED', userId: u.sub, messageIds: [], unreadCount: 0, messageId: null }]);
    changes = [];
    await markAllRead(u);
    expect(about(u)).toEqual([]);
  });

  it('deleteMessages fires only ARCHIVE_DELETED, even for unread messages', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const ids = (await sendMany(p, u.sub, 3)).map((m) => m.id);
    await markRead(u, [ids[0]]);
    changes = [];
    await deleteMessages(u, [ids[0], ids[1], unknownId()]);
    expect(about(u)).toEqual([{ signal: 'ARCHIVE_DELETED', userId: u.sub, messageIds: sid([ids[0], ids[1]]), unreadCount: 1, messageId: null }]);
  });

  it('consumeMessages fires one INBOX_DELETED for the stored messages it read', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const ids = (await sendMany(p, u.sub, 2)).map((m) => m.id);
    await addOwn(u, { level: 'INFO' });
    changes = [];
    await consume(u);
    expect(about(u)).toEqual([{ signal: 'INBOX_DELETED', userId: u.sub, messageIds: sid(ids), unreadCount: 0, messageId: null }]);
  });

  it('a broadcast fires one broadcast signal pair, whatever the number of users', async () => {
    const p = await newProducer(t);
    const users = [await knownUser(t), await knownUser(t), await knownUser(t)];
    changes = [];
    const { message, recipientCount } = await broadcast(p);
    expect(recipientCount).toBeGreaterThanOrEqual(3);
    const id = storageId(message.id);
    expect(changes.map(brief)).toEqual([
      { signal: 'ARCHIVE_STORED', broadcast: true, messageIds: [id], messageId: id },
      { signal: 'INBOX_STORED', broadcast: true, messageIds: [id], messageId: id },
    ]);
    // Users catching up on it later fire nothing more.
    for (const u of users) await u.q('{ unreadCount messages { totalCount } }');
    expect(changes).toHaveLength(2);
  });

  it('nothing fires for no-op calls', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const [m] = await sendMany(p, u.sub, 1);
    await markRead(u, [m.id]);
    changes = [];
    await markRead(u, [m.id, unknownId()]);
    await markUnread(u, [unknownId()]);
    await markAllRead(u);
    await deleteMessages(u, [unknownId()]);
    await consume(u);
    await u.q('{ unreadCount pendingMessages { id } messages { totalCount } unreadMessages { totalCount } }');
    expect(changes).toEqual([]);
  });

  it('nothing fires for idempotent replays', async () => {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const input = { idempotencyKey: `k-${u.sub}` };
    await sendTo(p, u.sub, input);
    await addOwn(u, { ...input, level: 'STORED_INFO' });
    changes = [];
    await sendTo(p, u.sub, input);
    await addOwn(u, { ...input, level: 'STORED_INFO' });
    expect(changes).toEqual([]);
  });

  it('nothing fires for failed calls', async () => {
    const [p, u] = [await newProducer(t), await knownUser(t)];
    const [m] = await sendMany(p, u.sub, 1);
    changes = [];
    expect(errorCode(await sendToRaw(p, u.sub, { text: '' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await sendToRaw(p, [], {}))).toBe('BAD_USER_INPUT');
    expect(errorCode(await addOwnRaw(u, { expiresAt: '2000-01-01T00:00:00Z' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await markReadRaw(u, [m.id, 'bad id']))).toBe('BAD_USER_INPUT');
    expect(errorCode(await deleteMessagesRaw(u, [m.id, 'bad id']))).toBe('BAD_USER_INPUT');
    expect(errorCode(await u.raw('mutation { broadcastMessage(input: { level: INFO, text: "x" }) { recipientCount } }'))).toBe('FORBIDDEN');
    expect(changes).toEqual([]);
  });

  it('a listener that throws does not fail the change', async () => {
    const off = t.app.signals.on(() => {
      throw new Error('listener bug');
    });
    try {
      const [p, u] = [await newProducer(t), await newUser(t)];
      const { message } = await sendTo(p, u.sub);
      expect((await markRead(u, [message.id])).count).toBe(1);
    } finally {
      off();
    }
  });
});
