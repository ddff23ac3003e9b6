/**
 * markRead and markUnread on the PostgreSQL store (sql/mark-read.ts). Marking one message read, an inbox's
 * most common write, is group-committed: the markReads that queue while a batch runs go as the next batch,
 * one statement (SET_READ_BATCH) and one commit for all, as direct sends do.
 */
import { isMessageId } from '../../domain/message.js';
import type { SetReadResult } from '../../domain/message-store.js';
import { GroupCommit, type Waiting } from '../group.js';
import type { UserAccess } from './access.js';
import { jsonList, type Db, type Sql } from './db.js';
import type { OutboxWriter } from './outbox.js';
import { NO_COUNTS, countsOf, toRecord } from './reads.js';
import { SET_READ_BATCH, SET_READ_MANY, SET_READ_ONE, type SetReadRow } from './sql/mark-read.js';
import { found, lowerBelow } from './states.js';

/** One batch at a time, as for sends: those that wait meanwhile make the next one bigger. */
const BATCH_RUNNING = 1;
const BATCH_MAX = 64;

type ReadOne = { userId: string; id: string };

export class ReadMarks {
  private readonly readOnes: GroupCommit<ReadOne, SetReadRow>;

  constructor(
    private readonly db: Db,
    private readonly access: UserAccess,
    private readonly outbox: OutboxWriter,
  ) {
    this.readOnes = new GroupCommit<ReadOne, SetReadRow>({ running: BATCH_RUNNING, max: BATCH_MAX, run: (batch) => this.readBatch(batch) });
  }

  /** MessageStore.setRead. */
  async setRead(userId: string, ids: readonly string[], read: boolean): Promise<SetReadResult> {
    const wanted = ids.filter(isMessageId);
    const inputs = { userId, ids: jsonList(wanted), read };
    const statement: typeof SET_READ_ONE = wanted.length === 1 ? SET_READ_ONE : SET_READ_MANY;
    const resultOf = (row: SetReadRow | undefined): SetReadResult => {
      if (!row) return { ...found(ids, [], [], NO_COUNTS), unreadCount: 0 };
      const counts = countsOf(row);
      return { ...found(ids, row.changed ?? [], (row.messages ?? []).map(toRecord), counts), unreadCount: counts.unread };
    };
    const write = (sql: Sql, row: SetReadRow | undefined) => this.outbox.record(sql, [{ op: 'setRead', userId, read, result: resultOf(row) }]);
    const run = async (sql: Sql) => (await sql(statement, inputs))[0];
    // Marking unread (which unarchives) may first have to lower the read and archived watermarks below the
    // requested ids, so it runs with the user locked, in a transaction.
    if (!read) {
      return resultOf(
        await this.access.locked(userId, async (sql) => {
          await lowerBelow(sql, userId, wanted, 'read', { seen: false, read: true, archived: true });
          const r = await run(sql);
          await write(sql, r);
          return r;
        }),
      );
    }
    if (wanted.length !== 1 || this.outbox.on) return resultOf(await this.access.caughtUp<SetReadRow>(userId, run, { ids: wanted.length, after: this.outbox.on ? write : undefined }));
    // `behind` (broadcasts not yet copied, or a change to the user its snapshot predates): the batch changed
    // nothing of theirs; the store catches them up and runs it again, the user locked.
    return resultOf(await this.access.caughtUpAfter(userId, run, await this.readOnes.submit({ userId, id: wanted[0] })));
  }

  /**
   * A batch of markReads of one message: one statement, committed alone. A lone markRead runs as before.
   * A batch the database refused (it answered an error: the statement rolled back, nothing changed) runs
   * again as markReads alone, so one request's failure is its own; a lost connection fails the batch.
   */
  private async readBatch(batch: Waiting<ReadOne, SetReadRow>[]): Promise<void> {
    const one = (w: Waiting<ReadOne, SetReadRow>) =>
      this.db
        .sql(SET_READ_ONE, { userId: w.item.userId, ids: jsonList([w.item.id]), read: true })
        .then((rows) => w.resolve(rows[0]))
        .catch(w.reject);
    if (batch.length === 1) return one(batch[0]);
    let rows: (SetReadRow & { n: number })[];
    try {
      rows = await this.db.sql(SET_READ_BATCH, { batch: JSON.stringify(batch.map((w) => ({ u: w.item.userId, i: [w.item.id] }))) });
    } catch (err) {
      if (!(err as { code?: string }).code) throw err;
      return void (await Promise.all(batch.map(one)));
    }
    for (const row of rows) batch[row.n - 1].resolve(row);
    // One row per request; were one missing, its caller would wait for ever (GroupCommit rejects the unanswered).
    if (rows.length !== batch.length) throw new Error(`SET_READ_BATCH answered ${rows.length} rows for ${batch.length} markReads`);
  }
}
