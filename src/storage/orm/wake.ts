/**
 * Timed wake-ups on PostgreSQL (MessageStore.wakeDue). A batch of due users wakes in one transaction
 * holding all of their row locks, each statement covering the whole batch: on the embedded database every
 * statement runs on the server's one thread, so statements per user would be what a wake-up costs.
 */
import type { MessageRecord } from '../../domain/message.js';
import type { WokenUser } from '../../domain/message-store.js';
import type { UserAccess } from './access.js';
import { jsonList, type Db } from './db.js';
import type { OutboxWriter } from './outbox.js';
import { NO_COUNTS, countsOf, toRecord } from './reads.js';
import { GET_MESSAGES_OF } from './sql/messages.js';
import { DUE, WAKE } from './sql/states.js';
import { LOCK_USERS, USER_STATES } from './sql/users.js';
import { ALL_KINDS, lowerBelowEach } from './states.js';

/**
 * Wakes up to `limit` deliveries due at `now`, whole users at a time (DUE): one WokenUser per user with
 * something woken, in user order, with its webhook events in the same transaction. A delivery another
 * instance woke meanwhile is not due any more (WAKE re-checks it under the locks), so each wakes once.
 */
export async function wakeDue(o: { db: Db; access: UserAccess; outbox: OutboxWriter }, now: Date, limit: number): Promise<WokenUser[]> {
  const due = await o.db.sql(DUE, { now, limit });
  if (due.length === 0) return [];
  return o.db.tx(async (sql) => {
    const locked = await sql(LOCK_USERS, { userIds: jsonList(due.map((d) => d.user_id)) });
    const behind = locked.filter((u) => u.behind).map((u) => u.id);
    if (behind.length) await o.access.catchUp(sql, behind);
    await lowerBelowEach(sql, due, 'seen', ALL_KINDS, true);
    const woken = await sql(WAKE, { users: jsonList(due), due: now });
    if (woken.length === 0) return [];
    const messages = new Map<string, MessageRecord[]>(woken.map((w) => [w.user_id, []]));
    for (const m of await sql(GET_MESSAGES_OF, { users: jsonList(woken.map((w) => ({ user_id: w.user_id, ids: w.changed }))) })) messages.get(m.user_id)?.push(toRecord(m));
    const counts = new Map((await sql(USER_STATES, { userIds: jsonList([...messages.keys()]) })).map((s) => [s.user_id, countsOf(s)]));
    const users = woken.map((w): WokenUser => ({ userId: w.user_id, messages: messages.get(w.user_id) ?? [], counts: counts.get(w.user_id) ?? NO_COUNTS }));
    await o.outbox.record(sql, users.map((user) => ({ op: 'wake', user })));
    return users;
  });
}
