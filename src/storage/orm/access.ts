/**
 * How the PostgreSQL store reaches one user's inbox: with the broadcasts waiting for them copied first
 * (CATCH_UP, lowering watermarks a late broadcast lies under), and, for work that counts across many rows,
 * holding their row lock.
 */
import { PREPARED_MAX_IDS, jsonList, type Db, type Sql } from './db.js';
import { CATCH_UP, LOWER_UPTO } from './sql/broadcasts.js';
import { DELETE_MANY } from './sql/delete.js';
import { RECORD_RETRACTED, RETRACTED_HELD } from './sql/retract.js';
import { LOCK_USER } from './sql/users.js';

export class UserAccess {
  constructor(private readonly db: Db) {}

  /**
   * Copies pending broadcasts into the users' deliveries (CATCH_UP), and removes the retracted ones they
   * have (retraction.ts), in the caller's transaction. A
   * broadcast that lies below a user's read watermark (it took its id before their last mark-all-read,
   * and committed after) first lowers that watermark, so it arrives unread; the users stay locked in between.
   */
  async catchUp(sql: Sql, userIds: readonly string[]): Promise<void> {
    // Retracted broadcasts the users still have, found from the watermark the catch-up moves past their markers.
    const held = await sql(RETRACTED_HELD, { userIds: jsonList(userIds) });
    for (let attempt = 1; ; attempt++) {
      const blocked = await sql(CATCH_UP, { userIds: jsonList(userIds) });
      if (blocked.length === 0) break;
      if (attempt >= 3) throw new Error(`could not deliver broadcasts below the read watermark of ${blocked.length} users`);
      for (const b of blocked) await sql(LOWER_UPTO, { userId: b.user_id, below: b.first, seen: true, read: true, archived: true });
    }
    for (const h of held) {
      const [row] = await sql(DELETE_MANY, { userId: h.user_id, ids: jsonList(h.ids), waitsForBroadcasts: false });
      if (row.deleted) await sql(RECORD_RETRACTED, { userId: h.user_id, ids: jsonList(row.deleted), unread: jsonList(row.unread_ids ?? []) });
    }
  }

  /**
   * Runs `run`, a read or a one-statement write that answers `behind` when the user has broadcasts not
   * yet copied (a read may then lack them; a write changed nothing), or when a write's lock waited for a
   * change to the user that its snapshot predates. Then, in one transaction, it locks the user (so no
   * change can commit between a snapshot and the lock again), copies their broadcasts and runs it again;
   * a broadcast arriving in between can repeat this, so it is bounded.
   * `ids`: the number of ids the statement carries (past PREPARED_MAX_IDS it runs unprepared).
   * `after`: work that must commit with the write (its webhook events): then all of it is one transaction.
   */
  async caughtUp<R extends { behind: boolean }>(userId: string, run: (sql: Sql) => Promise<R>, o: { ids?: number; after?: (sql: Sql, r: R) => Promise<void> } = {}): Promise<R> {
    const after = o.after;
    if (after) {
      return this.db.tx(async (sql) => {
        const r = await this.untilCaughtUp(sql, userId, run, await run(sql));
        await after(sql, r);
        return r;
      });
    }
    return this.caughtUpAfter(userId, run, await run((o.ids ?? 0) > PREPARED_MAX_IDS ? this.db.unprepared : this.db.sql));
  }

  /** As caughtUp, given `first`, the result `run` gave outside a transaction (in a batch, say): run again only if it is behind. */
  async caughtUpAfter<R extends { behind: boolean }>(userId: string, run: (sql: Sql) => Promise<R>, first: R): Promise<R> {
    if (!first.behind) return first;
    return this.db.tx((sql) => this.untilCaughtUp(sql, userId, run, first));
  }

  private async untilCaughtUp<R extends { behind: boolean }>(sql: Sql, userId: string, run: (sql: Sql) => Promise<R>, first: R): Promise<R> {
    let r = first;
    if (r.behind) await sql(LOCK_USER, { userId });
    for (let attempt = 1; r.behind; attempt++) {
      if (attempt > 5) throw new Error(`could not catch up with broadcasts for a user after ${attempt - 1} attempts`);
      await this.catchUp(sql, [userId]);
      r = await run(sql);
    }
    return r;
  }

  /**
   * Runs `work` in a transaction holding the user's row lock, with their broadcasts copied: each of its
   * statements then sees every change committed before, which counting across many rows needs.
   * Resolves undefined for a user the store does not know (nothing of theirs to change).
   */
  async locked<R>(userId: string, work: (sql: Sql) => Promise<R>): Promise<R | undefined> {
    return this.db.tx(async (sql) => {
      const [user] = await sql(LOCK_USER, { userId });
      if (!user) return undefined;
      if (user.behind) await this.catchUp(sql, [userId]);
      return work(sql);
    });
  }
}
