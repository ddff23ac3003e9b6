import { setTimeout as sleep } from 'node:timers/promises';
import { isMessageId } from '../../domain/message.js';
import type { InboxCounts, MessageStore, RetractedRecipient, RetractedView, RetractResult } from '../../domain/message-store.js';
import type { UserAccess } from './access.js';
import { jsonList, type Db, type Sql } from './db.js';
import type { OutboxWriter } from './outbox.js';
import { countsOf } from './reads.js';
import { BROADCAST_LOCK } from './sends.js';
import { LOCK_BROADCASTS } from './sql/broadcasts.js';
import { DELETE_ONE, type DeleteRow } from './sql/delete.js';
import { CLEANUP_RETRACTED, HOLDERS, INSERT_RETRACTION_MARKER, MARK_RETRACTED, MESSAGE_TO_RETRACT, RETRACTED_VIEW, SCHEDULE_TO_RETRACT } from './sql/retract.js';
import { KNOWN_USERS } from './sql/users.js';

/** While a schedule is being delivered by another transaction, how often and how long to wait for it. */
const CLAIMED_WAIT_MS = 100;
const CLAIMED_TRIES = 50;
/** How long sm_retracted keeps a removal for the live events that follow it within seconds. */
const RETRACTED_KEEP_SECONDS = 3600;

type Decision = { kind: 'unknown' | 'again' | 'direct' } | { kind: 'broadcast'; recipientCount: number };

/**
 * Retraction on PostgreSQL. A broadcast: marked retracted (no catch-up copies it any more) and a marker
 * broadcast row added, in one transaction whatever the number of users; the marker puts every user behind
 * once, and their catch-up (UserAccess.catchUp) removes it from those who have it before anything of
 * theirs is read, recording in sm_retracted whether it was unread. Its recipientCount is the users known
 * when it was sent (those who deleted it since are not subtracted). A direct message: marked, then
 * deleted from each user who has it (sm_delivery_message_idx), one statement each, as deleteMessages.
 */
export class OrmRetraction {
  constructor(
    private readonly db: Db,
    private readonly o: { access: UserAccess; outbox: OutboxWriter; cancelScheduled: MessageStore['cancelScheduled']; counts: (userId: string) => Promise<InboxCounts> },
  ) {}

  async retract(id: string): Promise<RetractResult | null> {
    if (!isMessageId(id)) return null;
    for (let tries = 0; tries < CLAIMED_TRIES; tries++) {
      const d = await this.db.tx(async (sql) => {
        const decision = await decide(sql, id);
        if (decision.kind === 'broadcast') await this.o.outbox.record(sql, [{ op: 'retract', messageId: id, result: retractedBroadcast(decision) }]);
        return decision;
      });
      if (d.kind === 'again') return { recipientCount: 0, broadcast: false, recipients: [] };
      if (d.kind === 'broadcast') return retractedBroadcast(d);
      if (d.kind === 'direct') return this.retractDirect(id);
      const [s] = await this.db.sql(SCHEDULE_TO_RETRACT, { id });
      if (!s) return null;
      if (s.state === 'cancelled') return { recipientCount: 0, broadcast: false, recipients: [] };
      if (s.state === 'delivered') return s.delivered_id ? this.retract(s.delivered_id) : { recipientCount: 0, broadcast: false, recipients: [] };
      const cancel = await this.o.cancelScheduled(id);
      // Cancelled in time: nobody ever had it, so no signal (recipients [] even for a broadcast).
      if (cancel?.cancelled) return { recipientCount: 0, broadcast: cancel.scheduled.broadcast, recipients: [] };
      // Being delivered by another transaction: it becomes delivered (then retracted) when that commits.
      await sleep(CLAIMED_WAIT_MS);
    }
    throw new Error('retract: the scheduled message is still being delivered; try again');
  }

  /** Whether each user had the retracted broadcast: their counts first (which catch them up, removing it); users at once, as the pool allows. */
  async retractedViews(id: string, userIds: readonly string[]): Promise<Map<string, RetractedView>> {
    const view = async (userId: string): Promise<[string, RetractedView]> => {
      const c = await this.o.counts(userId);
      const [r] = isMessageId(id) ? await this.db.sql(RETRACTED_VIEW, { userId, id }) : [];
      return [userId, { had: r !== undefined, wasUnread: r?.was_unread ?? false, unreadCount: c.unread, unseenCount: c.unseen }];
    };
    return new Map(await Promise.all([...new Set(userIds)].map(view)));
  }

  /** sm_retracted rows past use, in the cleanup's transaction; how many went. */
  async cleanup(sql: Sql, limit: number): Promise<number> {
    return (await sql(CLEANUP_RETRACTED, { ttlSeconds: RETRACTED_KEEP_SECONDS, limit })).length;
  }

  /** Each holder's removal commits on its own, with that holder's webhook events (the change's, for them). */
  private async retractDirect(id: string): Promise<RetractResult> {
    const recipients: RetractedRecipient[] = [];
    const removed = (userId: string, row: DeleteRow): RetractedRecipient[] =>
      row.deleted?.length ? [{ userId, wasUnread: (row.unread_ids ?? []).length > 0, counts: countsOf(row) }] : [];
    for (const { user_id: userId } of await this.db.sql(HOLDERS, { id })) {
      const after = this.o.outbox.on
        ? (sql: Sql, row: DeleteRow) => this.o.outbox.record(sql, [{ op: 'retract', messageId: id, result: { recipientCount: 1, broadcast: false, recipients: removed(userId, row) } }])
        : undefined;
      const row = await this.o.access.caughtUp(userId, async (sql) => (await sql(DELETE_ONE, { userId, ids: jsonList([id]), waitsForBroadcasts: true }))[0], { after });
      recipients.push(...removed(userId, row));
    }
    return { recipientCount: recipients.length, broadcast: false, recipients };
  }
}

const retractedBroadcast = (d: { recipientCount: number }): RetractResult => ({ recipientCount: d.recipientCount, broadcast: true, recipients: null });

/** What the id is, and for a broadcast or a direct message its mark (a broadcast's marker too), in one transaction. */
async function decide(sql: Sql, id: string): Promise<Decision> {
  const [m] = await sql(MESSAGE_TO_RETRACT, { id });
  if (!m) return { kind: 'unknown' };
  if (m.retracted) return { kind: 'again' };
  if (!m.broadcast) {
    await sql(MARK_RETRACTED, { id });
    return { kind: 'direct' };
  }
  await sql(LOCK_BROADCASTS, { key: BROADCAST_LOCK });
  await sql(MARK_RETRACTED, { id });
  await sql(INSERT_RETRACTION_MARKER, { id, expiresAt: m.expires_at });
  return { kind: 'broadcast', recipientCount: m.recipient_count ?? (await sql(KNOWN_USERS))[0].known_users };
}
