/**
 * `npx tsx bench/explain.ts [--quick]`: where the time of each workload's request goes on PostgreSQL.
 * Seeds a throwaway database like the bench (100,000 known users; W4's crowd: 1,000,000 rows of others,
 * --quick 100,000),
 * runs each workload's GraphQL operation once over HTTP while recording every SQL statement the store
 * sends (the store's Db.onStatement hook), then EXPLAIN (ANALYZE, BUFFERS) each statement inside a transaction
 * that is rolled back (writes are replayed on a twin user seeded identically, so plans are those of
 * the real state). Prints and writes bench/results/explain.md. Not a test; no assertions.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from '../src/storage/orm/db.js';
import { startBackend } from './lib/backends.js';
import { cleanupOnSignals, runCleanups } from './lib/cleanup.js';
import { bearer, globalId, gql, Q } from './lib/gql.js';
import { parseOptions } from './lib/options.js';
import type { SqlConnection } from './lib/sql.js';
import { fmt, summarize } from './lib/stats.js';

interface Captured {
  sql: string;
  bindings: unknown[];
}

const OUT = fileURLToPath(new URL('./results/explain.md', import.meta.url));

async function main() {
  const opts = parseOptions(process.argv.slice(2).filter((a) => a === '--quick'));
  cleanupOnSignals();
  const t = await startBackend('postgres', opts);
  const db = t.db as SqlConnection;
  const out: string[] = [`# Where the time goes (PostgreSQL, ${opts.quick ? 'quick: 100,000' : '1,000,000'} rows of others)`, ''];
  const say = (s: string) => {
    console.log(s);
    out.push(s);
  };
  try {
    const storeDb = (t.app.store as unknown as { db: Db }).db;
    let capture: Captured[] | null = null;
    storeDb.onStatement = (sql, bindings) => capture?.push({ sql, bindings: [...bindings] });

    const { w4Others: others, w4OtherUsers: otherUsers } = opts.sizes;
    console.log(`seeding ${fmt(others)} rows of others...`);
    await t.seeder.crowd({ target: 'x-reader', targetUnread: 1000, others, otherUsers, othersPrefix: 'x-other-' });
    // As in the bench (W3 runs first): a server with 100,000 known users.
    await t.seeder.knownUsers('x-known-', 0, 100_000);
    const [w5a, w5b] = await t.seeder.inboxes(['x-w5a', 'x-w5b'], 1000);
    await t.seeder.inboxes(['x-w5c', 'x-w5d'], 100_000);
    const [w6] = await t.seeder.inboxes(['x-w6'], 100);
    await t.seeder.inboxes(['x-w7'], 100_000);
    void w5a;
    void w5b;

    /** Runs `call` once (warm), then `n` timed times, then once more capturing its SQL; EXPLAINs the capture. */
    const study = async (title: string, call: () => Promise<unknown>, o: { n?: number; rebind?: Map<string, string> } = {}) => {
      await call();
      const times: number[] = [];
      for (let i = 0; i < (o.n ?? 20); i++) {
        const t0 = performance.now();
        await call();
        times.push(performance.now() - t0);
      }
      capture = [];
      await call();
      const statements = capture as Captured[];
      capture = null;
      const real = statements.filter((s) => !/^(begin|commit|rollback|savepoint|release savepoint)/i.test(s.sql.trim()));
      say(`## ${title}`);
      say('');
      if (o.n !== 0) say(`HTTP request, sequential, one client: median ${fmt(summarize(times).median)} ms (min ${fmt(summarize(times).min)}); ${statements.length} statements sent (${statements.length - real.length} of them transaction control)`);
      say('');
      let total = 0;
      for (const s of real) {
        const bindings = s.bindings.map((b) => (typeof b === 'string' && o.rebind ? [...o.rebind].reduce((v, [from, to]) => v.split(from).join(to), b) : b));
        const plan = await db.tx(async (sql) => {
          const rows = await sql<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${s.sql}`, bindings); // $n as sent, bound in order
          throw Object.assign(new Error('rollback'), { rows }); // always roll back
        }).catch((e: { rows?: { 'QUERY PLAN': string }[] } & Error) => {
          if (!e.rows) throw e;
          return e.rows.map((r) => r['QUERY PLAN']);
        });
        const exec = Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN);
        const planning = Number(/Planning Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN);
        total += exec + planning;
        say(`- \`${s.sql.replace(/\s+/g, ' ').trim().slice(0, 110)}…\` planning ${planning} ms, execution ${exec} ms`);
        say('');
        say('```');
        for (const line of plan) say(line);
        say('```');
        say('');
      }
      say(`Sum of planning + execution: ${fmt(total)} ms`);
      say('');
    };

    const reader = await bearer('x-reader');
    await study('Reference: { __typename } (no storage call)', () => gql(t.url, reader, Q.typename));
    const w7 = await bearer('x-w7');
    await study('W7 unreadCount (100,000 unread)', () => gql(t.url, w7, Q.unreadCount));
    await study('W4 first page: unreadMessages(first: 20), 1,000 unread among the crowd', () => gql(t.url, reader, Q.firstPage));
    const page1 = await gql<{ unreadMessages: { pageInfo: { endCursor: string } } }>(t.url, reader, Q.page, { after: null });
    await study('W4 a middle page: unreadMessages(first: 100, after: cursor)', () => gql(t.url, reader, Q.page, { after: page1.unreadMessages.pageInfo.endCursor }));

    const w6auth = await bearer('x-w6');
    let k = 0;
    // Each call marks the next unread message (one warm-up, 20 timed, then the captured call: w6[21]);
    // the EXPLAIN replays the captured statement on a message still unread.
    await study('W6 markRead one message', () => gql(t.url, w6auth, Q.markRead, { input: { ids: [globalId(w6[k++])] } }), {
      n: 20,
      rebind: new Map([[w6[21], w6[60]]]),
    });

    const w5auth = await bearer('x-w5a');
    await study('W5 markAllRead, 1,000 unread (EXPLAIN replays it on an identical twin user)', () => gql(t.url, w5auth, Q.markAllRead), {
      n: 0,
      rebind: new Map([['x-w5a', 'x-w5b']]),
    });
    const w5cauth = await bearer('x-w5c');
    await study('W5 markAllRead, 100,000 unread (EXPLAIN replays it on an identical twin user)', () => gql(t.url, w5cauth, Q.markAllRead), {
      n: 0,
      rebind: new Map([['x-w5c', 'x-w5d']]),
    });

    const producer = await bearer('x-producer', { producer: true });
    let m = 0;
    await study('W1 addMessageFor one user', () =>
      gql(t.url, producer, Q.addMessageFor, { input: { userIds: [`x-w1-${m++ % 100}`], level: 'STORED_INFO', text: 'Your export is ready.' } }),
    );
    const many = Array.from({ length: 10_000 }, (_, i) => `x-w2-${i}`);
    await study('W2 addMessageFor 10,000 known users', () => gql(t.url, producer, Q.addMessageFor, { input: { userIds: many, level: 'STORED_INFO', text: 'Maintenance tonight.' } }), { n: 2 });
    await study('W3 broadcastMessage', () => gql(t.url, producer, Q.broadcast, { input: { level: 'STORED_INFO', text: 'Release notes.' } }), { n: 5 });
    await writeFile(OUT, `${out.join('\n')}\n`);
    console.log(`wrote ${OUT}`);
  } finally {
    await runCleanups();
  }
}

main().catch(async (err) => {
  console.error(err);
  await runCleanups();
  process.exitCode = 1;
});
