/** What PostgreSQL did during a profiled run (bench/profile.ts --tables, --waits). */
import pg from 'pg';

/** Rows inserted, updated (HOT of them), deleted per table and commits of the app's database: what the run wrote. */
export async function tableWrites(url: string) {
  const read = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ k: string; ins: string; upd: string; hot: string; del: string }>(
        `select relname as k, n_tup_ins as ins, n_tup_upd as upd, n_tup_hot_upd as hot, n_tup_del as del from pg_stat_user_tables
         union all select 'commits', xact_commit, 0, 0, 0 from pg_stat_database where datname = current_database()
         union all select 'index ' || indexrelname, idx_scan, idx_tup_read, idx_tup_fetch, 0 from pg_stat_user_indexes`,
      );
      return new Map(rows.map((r) => [r.k, [r.ins, r.upd, r.hot, r.del].map(Number)]));
    } finally {
      await client.end();
    }
  };
  // Backends report their counts at most once a second.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));
  await settle();
  const before = await read();
  return {
    async since(requests: number) {
      await settle();
      const after = await read();
      const per = (n: number) => (n / Math.max(1, requests)).toFixed(2);
      return [...after]
        .map(([k, v]) => [k, v.map((x, i) => x - (before.get(k)?.[i] ?? 0))] as const)
        .filter(([, v]) => v.some((x) => x > 0))
        .map(([k, [ins, upd, hot, del]]) =>
          k === 'commits' ? `commits ${per(ins)}` : k.startsWith('index ') ? `${k}: scans ${per(ins)} read ${per(upd)} fetched ${per(hot)}` : `${k} +${per(ins)} ~${per(upd)} (HOT ${per(hot)}) -${per(del)}`,
        )
        .join('\n  ');
    },
  };
}

/** Samples pg_stat_activity of the bench database every 10 ms until stopped: counts of state + wait event. */
export function sampleWaits(url: string) {
  const counts: Record<string, number> = {};
  const client = new pg.Client({ connectionString: url });
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ k: string }>(
        `select state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'on CPU') as k from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      );
      for (const { k } of rows) counts[k] = (counts[k] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
    },
  };
}
