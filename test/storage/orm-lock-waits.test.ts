import { describe, expect, it } from 'vitest';
import { jsonList } from '../../src/storage/orm/db.js';
import { CATCH_UP } from '../../src/storage/orm/sql/broadcasts.js';
import { CLEANUP_DELIVERIES } from '../../src/storage/orm/sql/maintenance.js';
import { bind, type Statement } from '../../src/storage/orm/statement.js';
import { sleep, uid, waitUntilPast } from '../support.js';
import { expiresSoon, msg } from './contract.js';
import { pgStoreWithConnection } from './pg-fixture.js';

/**
 * A PostgreSQL statement that waits for a user's row lock reads everything else with the snapshot it
 * took before waiting. Here a second connection holds the lock while it commits a change to the user (a
 * broadcast's copy, the cleanup of an expired message), so the store's write waits for exactly that
 * change, and its answer must include it.
 */
describe('PostgreSQL writes that wait for a user\'s lock', () => {
  const f = pgStoreWithConnection();
  const run = <P>(s: Statement<P, unknown>, params: P) => f.other.query(s.text, bind(s, params));

  /** Starts `write` while `other` holds the user's lock in a transaction that `change` fills, and commits once the write waits. */
  async function behindTheLock<R>(userId: string, change: () => Promise<unknown>, write: () => Promise<R>): Promise<R> {
    const { other } = f;
    await other.query('begin');
    await other.query('select id from sm_user where id = $1 for update', [userId]);
    await change();
    const written = write();
    written.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    try {
      for (let i = 0; ; i++) {
        const { rows } = await other.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
        if (rows[0].n > 0) break;
        if (i > 500) throw new Error('the write never waited for the lock');
        await sleep(10);
      }
    } finally {
      await other.query('commit');
    }
    return written;
  }

  it.each([
    ['markRead', (u: string, id: string) => f.store.setRead(u, [id], true).then((r) => r.changed)],
    ['delete', (u: string, id: string) => f.store.deleteMessages(u, [id]).then((r) => r.deleted)],
  ])('%s finds a broadcast that a catch-up copied to the user while it waited', async (_, write) => {
    const { store } = f;
    const u = uid();
    await store.ensureUser(u);
    const b = (await store.send(msg({ text: 'copied meanwhile' }), { everyone: true })).message.id;
    expect(await behindTheLock(u, () => run(CATCH_UP, { userIds: jsonList([u]) }), () => write(u, b))).toEqual([b]);
    expect(await store.unreadCount(u)).toBe(0);
  });

  it('markRead answers a message another markRead read while it waited as read', async () => {
    const { store, other } = f;
    const u = uid();
    const id = (await store.send(msg(), { userIds: [u] })).message.id;
    // What a markRead commits: the delivery read, the user's counters down.
    const readIt = async () => {
      await other.query('update sm_delivery set read_at = now(), seen_at = now() where user_id = $1 and message_id = $2', [u, id]);
      await other.query('update sm_user set unread_count = unread_count - 1, unseen_count = unseen_count - 1 where id = $1', [u]);
    };
    const r = await behindTheLock(u, readIt, () => store.setRead(u, [id], true));
    expect(r.changed).toEqual([]);
    expect(r.messages.map((m) => m.readAt === null)).toEqual([false]);
    expect(r.unreadCount).toBe(0);
  });

  it('a send counts the unread that the cleanup reclaimed while it waited once, not twice', async () => {
    const { store } = f;
    const u = uid();
    const expiresAt = expiresSoon();
    await store.send(msg({ text: 'expires', expiresAt }), { userIds: [u] });
    await store.send(msg({ text: 'stays' }), { userIds: [u] });
    await waitUntilPast(expiresAt);
    const r = await behindTheLock(u, () => run(CLEANUP_DELIVERIES, { limit: 100, userIds: jsonList([u]) }), () => store.send(msg({ text: 'new' }), { userIds: [u] }));
    expect(await store.unreadCount(u)).toBe(2);
    expect(r.recipients?.[0].unreadCount).toBe(2);
  });
});
