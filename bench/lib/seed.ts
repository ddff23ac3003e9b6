import type { NewMessage } from '../../src/domain/message.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import type { SqlConnection, Sql } from './sql.js';

/**
 * Puts the data a workload needs in place, fast. The SQL seeder writes the PostgreSQL/PGlite tables
 * directly and keeps sm_user's counters and sm_stats.known_users exact (as the store would);
 * the API seeder goes through MessageStore (any backend, e.g. Redis; slower).
 * Every seeded message is level STORED_INFO, delivered an hour ago, expiring in 120 days.
 */
export interface Seeder {
  readonly kind: 'sql' | 'api';
  /** Known users `${prefix}${i}` for i in [from, from + count). */
  knownUsers(prefix: string, from: number, count: number): Promise<void>;
  /**
   * `perUser` unread messages for each user (in `category` when given), deliveries interleaved across
   * users. Returns each user's message ids, oldest first.
   */
  inboxes(userIds: readonly string[], perUser: number, category?: string): Promise<string[][]>;
  /**
   * W4: `targetUnread` unread messages for `target`, spread evenly among `others` deliveries to
   * `otherUsers` other users (`${othersPrefix}${i}`; the SQL seeder marks about half of theirs read).
   */
  crowd(o: { target: string; targetUnread: number; others: number; otherUsers: number; othersPrefix: string }): Promise<void>;
}

const DAY = 86_400_000;
const LATEST_BROADCAST = '(select coalesce(max(id), 0) from sm_message where broadcast)';
const TEXT = `'Your export #' || g || ' is ready: download it from the Reports page before it expires.'`;
const TIMES = `now() - interval '1 hour', now() - interval '1 hour', now() + interval '120 days'`;

export class SqlSeeder implements Seeder {
  readonly kind = 'sql';
  constructor(private readonly db: SqlConnection) {}

  async knownUsers(prefix: string, from: number, count: number): Promise<void> {
    await this.db.sql(
      `with ins as (
         insert into sm_user (id, bcast_id)
         select ? || g, ${LATEST_BROADCAST} from generate_series(?::int, ?::int) g
         on conflict do nothing returning 1)
       update sm_stats set known_users = known_users + (select count(*) from ins) where id = 1`,
      [prefix, from, from + count - 1],
    );
    await this.analyze(['sm_user']);
  }

  async inboxes(userIds: readonly string[], perUser: number, category?: string): Promise<string[][]> {
    const users = userIds.length;
    const total = users * perUser;
    const base = await this.db.tx(async (sql) => {
      const base = await insertMessages(sql, total, category ?? null);
      await sql(
        `insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, category)
         select ?::jsonb ->> ((g - 1) % ?::int)::int, ?::bigint + g, 21, ${TIMES}, ?::text
         from generate_series(1, ?::int) g`,
        [JSON.stringify(userIds), users, base, category ?? null, total],
      );
      await recount(sql, base);
      return base;
    });
    await this.analyze();
    const b = BigInt(base);
    return userIds.map((_, i) => Array.from({ length: perUser }, (_, j) => String(b + BigInt(i + 1 + j * users))));
  }

  async crowd(o: { target: string; targetUnread: number; others: number; otherUsers: number; othersPrefix: string }): Promise<void> {
    if (o.others % o.targetUnread !== 0) throw new Error('others must be a multiple of targetUnread');
    // Message g goes to the target when g % stride = 0: exactly targetUnread of them among `others`.
    const stride = o.others / o.targetUnread + 1;
    const total = o.others + o.targetUnread;
    await this.db.tx(async (sql) => {
      const base = await insertMessages(sql, total);
      await sql(
        `insert into sm_delivery (user_id, message_id, level, created_at, delivered_at, expires_at, read_at)
         select case when g % ?::int = 0 then ? else ? || (g % ?::int) end, ?::bigint + g, 21, ${TIMES},
                case when g % ?::int <> 0 and g % 2 = 0 then now() - interval '30 minutes' end
         from generate_series(1, ?::int) g`,
        [stride, o.target, o.othersPrefix, o.otherUsers, base, stride, total],
      );
      await recount(sql, base);
    });
    await this.analyze();
  }

  /**
   * Fresh planner statistics and visibility map, as autovacuum would leave a steady-state table; only
   * for the tables the step wrote, as autovacuum would. Analysing a table while it is EMPTY (W3 seeds
   * users before any message exists) records reltuples = 0, which turns off PostgreSQL's "never
   * analysed: assume at least 10 pages" estimate: the next workload's prepared statements then cache
   * generic plans with sequential scans of sm_message and sm_delivery, planned while those held a page
   * or two, and keep them while the tables grow (that halved W1 after W3: 513 buffers per send at
   * 15,000 deliveries instead of 41). A state autovacuum never produces, since it skips unchanged tables.
   */
  private async analyze(tables: readonly string[] = ['sm_message', 'sm_delivery', 'sm_user']): Promise<void> {
    for (const table of tables) await this.db.sql(`vacuum analyze ${table}`);
  }
}

/** Inserts `total` messages with ids base+1..base+total (moving the sequence past them); returns base. */
async function insertMessages(sql: Sql, total: number, category: string | null = null): Promise<string> {
  const [{ base }] = await sql<{ base: string }>('select coalesce(max(id), 0)::text as base from sm_message');
  await sql(
    `insert into sm_message (id, level, text, created_at, delivered_at, expires_at, category)
     select ?::bigint + g, 21, ${TEXT}, ${TIMES}, ?::text from generate_series(1, ?::int) g`,
    [base, category, total],
  );
  await sql(`select setval(pg_get_serial_sequence('sm_message', 'id'), ?::bigint + ?::int)`, [base, total]);
  // Fresh statistics before the deliveries' foreign-key checks run: a cached plan built while
  // sm_message was tiny (a sequential scan) would otherwise check each of 1,000,000 rows by
  // scanning the whole table (seen on PGlite, which has no autovacuum to refresh it).
  await sql('analyze sm_message');
  return base;
}

/**
 * Adds the new deliveries (message id > base) to their users' counters, and their categories' (sm_category),
 * registering new users; a seeded read one is seen, the rest unseen.
 */
async function recount(sql: Sql, base: string): Promise<void> {
  await sql(
    `insert into sm_category as c (user_id, category, total_count, unread_count, unseen_count)
     select user_id, category, count(*), count(*) filter (where read_at is null), count(*) filter (where read_at is null)
     from sm_delivery where message_id > ?::bigint and category is not null group by user_id, category
     on conflict (user_id, category) do update set total_count = c.total_count + excluded.total_count,
       unread_count = c.unread_count + excluded.unread_count, unseen_count = c.unseen_count + excluded.unseen_count`,
    [base],
  );
  await sql(
    `with agg as (
       select user_id, (count(*) filter (where read_at is null))::int as unread, count(*)::int as total
       from sm_delivery where message_id > ?::bigint group by user_id
     ), ins as (
       insert into sm_user (id, unread_count, unseen_count, total_count, bcast_id)
       select user_id, unread, unread, total, ${LATEST_BROADCAST} from agg
       on conflict (id) do update set unread_count = sm_user.unread_count + excluded.unread_count,
                                      unseen_count = sm_user.unseen_count + excluded.unseen_count,
                                      total_count = sm_user.total_count + excluded.total_count
       returning (xmax = 0) as inserted
     )
     update sm_stats set known_users = known_users + (select count(*) from ins where inserted) where id = 1`,
    [base],
  );
}

/** Seeds through MessageStore: works on every backend; bounded by `deadline` (ms since the epoch). */
export class ApiSeeder implements Seeder {
  readonly kind = 'api';
  constructor(
    private readonly store: MessageStore,
    private readonly limits: { concurrency: number; maxSeconds: number } = { concurrency: 32, maxSeconds: 600 },
  ) {}

  async knownUsers(prefix: string, from: number, count: number): Promise<void> {
    await this.pool(count, (i) => this.store.ensureUser(`${prefix}${from + i}`));
  }

  async inboxes(userIds: readonly string[], perUser: number, category?: string): Promise<string[][]> {
    const ids: string[] = new Array(perUser);
    // One message to all the users per call; the calls run concurrently, so order ids afterwards.
    await this.pool(perUser, async (j) => {
      ids[j] = (await this.store.send({ ...message(j), category: category ?? null }, { userIds })).message.id;
    });
    const sorted = ids.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    return userIds.map(() => [...sorted]);
  }

  async crowd(o: { target: string; targetUnread: number; others: number; otherUsers: number; othersPrefix: string }): Promise<void> {
    const batch = Math.min(o.otherUsers, 10_000);
    const batches = Math.ceil(o.others / batch);
    const every = Math.max(1, Math.floor(o.targetUnread / batches));
    // Sequential, so the target's messages are spread through the others' in delivery order.
    const deadline = Date.now() + this.limits.maxSeconds * 1000;
    let sentBatches = 0;
    for (let i = 0; i < o.targetUnread; i++) {
      if (Date.now() > deadline) throw new Error(`API seeding took more than ${this.limits.maxSeconds} s`);
      await this.store.send(message(i), { userIds: [o.target] });
      if (i % every === every - 1 && sentBatches < batches) {
        const first = (sentBatches * batch) % o.otherUsers;
        const users = Array.from({ length: batch }, (_, k) => `${o.othersPrefix}${(first + k) % o.otherUsers}`);
        await this.store.send(message(i), { userIds: users });
        sentBatches++;
      }
    }
    for (; sentBatches < batches; sentBatches++) {
      const users = Array.from({ length: batch }, (_, k) => `${o.othersPrefix}${(sentBatches * batch + k) % o.otherUsers}`);
      await this.store.send(message(sentBatches), { userIds: users });
    }
  }

  /** Runs `count` tasks, `concurrency` at a time, within the time limit. */
  private async pool(count: number, task: (i: number) => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.limits.maxSeconds * 1000;
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < count && !failed) {
        try {
          if (Date.now() > deadline) throw new Error(`API seeding took more than ${this.limits.maxSeconds} s`);
          await task(next++);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.limits.concurrency, count) }, worker));
  }
}

function message(g: number): NewMessage {
  const now = Date.now();
  return {
    level: 21,
    text: `Your export #${g} is ready: download it from the Reports page before it expires.`,
    extraTags: '',
    url: null,
    data: null,
    createdAt: new Date(now - 3_600_000),
    expiresAt: new Date(now + 120 * DAY),
    category: null,
    critical: false,
    groupKey: null,
  };
}
