/** Command-line options of `npm run bench`. Everything is bounded: durations, counts, time limits. */
export type BackendName = 'postgres' | 'embedded' | 'redis';
export const ALL_BACKENDS: BackendName[] = ['postgres', 'embedded', 'redis'];
export const ALL_WORKLOADS = ['floor', 'W1', 'W1g', 'W2', 'W3', 'W4', 'W5', 'W6', 'W6b', 'W7', 'W8', 'W9', 'W10', 'W11', 'W1p', 'W2p', 'W12', 'W13', 'W14'] as const;
export type WorkloadName = (typeof ALL_WORKLOADS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Measured runs of each measurement; the table shows their median and min-max. */
  repeats: number;
  /** Seconds of one HTTP load run (autocannon), and of the unmeasured warm-up before the first. */
  durationSeconds: number;
  warmupSeconds: number;
  /** Concurrent HTTP connections (and in-process workers) for the throughput workloads. */
  connections: number;
  /** Seconds of W1g's sends to one growing inbox (measured in windows of up to 10 s). */
  growthSeconds: number;
  backends: BackendName[];
  only: Set<WorkloadName>;
  /** `api` seeds through MessageStore.send even on SQL backends (to exercise the Redis seeding path). */
  seed: 'auto' | 'api';
  /** Internal: set in the child process run.ts starts for one backend; the file it writes its rows to. */
  child: string | null;
  /** Data sizes (the quick run scales the biggest one down; the table says so). */
  sizes: {
    w2Recipients: number;
    w3Small: number;
    w3Large: number;
    w4Unread: number;
    w4Others: number;
    w4OtherUsers: number;
    w5Small: number;
    w5Large: number;
    w6Users: number;
    w6PerUser: number;
    /** W6b: users each holding w6bUnread unread (several, so a run does not exhaust one inbox). */
    w6bUsers: number;
    w6bUnread: number;
    w7Small: number;
    w7Large: number;
    w9Small: number;
    w9Large: number;
    w10Small: number;
    w10Large: number;
    /** W11: users each with w11PerUser messages, all snoozed until the same second. */
    w11Users: number;
    w11PerUser: number;
  };
  /** Timed calls per repeat for the per-call workloads (W2, W3, W5 small). */
  callsPerRepeat: number;
}

const HELP = `usage: npm run bench -- [--quick] [--repeats=N] [--duration=S] [--only=W1,W4,floor] [--backends=postgres,embedded,redis] [--seed=api] [--growth-duration=S]
  --quick       smoke run (bench/live.ts included): 1 repeat, 1 s load runs, smaller data
                (W3 20,000 users, W4 100,000 rows of others, W5/W7/W9/W10 10,000 messages; rows say so)
  --repeats     measured runs per measurement (default 3; quick 1)
  --duration    seconds per HTTP load run (default 10; quick 1)
  --only        workloads to run (floor = the baselines; W8 = bench/live.ts)
  --backends    storage backends (default all)
  --growth-duration  seconds of W1g, sends to one growing inbox on a fresh database (default 60; quick 12)
  --seed=api    seed through the store's send API instead of SQL (slow; what the Redis backend uses)`;

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}\n${HELP}`);
    flags.set(m[1], m[2] ?? 'true');
  }
  // --child=FILE (internal): run.ts runs each backend in a child process of its own, which writes its rows to FILE.
  const known = new Set(['quick', 'repeats', 'duration', 'only', 'backends', 'seed', 'child', 'growth-duration']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}\n${HELP}`);

  const quick = flags.get('quick') === 'true';
  const int = (name: string, dflt: number, min: number, max: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const list = <T extends string>(name: string, all: readonly T[]): T[] => {
    const raw = flags.get(name);
    if (raw === undefined) return [...all];
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    for (const i of items) if (!all.includes(i as T)) throw new Error(`--${name}: unknown value ${i} (one of ${all.join(', ')})`);
    return items as T[];
  };
  const seed = flags.get('seed') ?? 'auto';
  if (seed !== 'auto' && seed !== 'api') throw new Error('--seed must be auto or api');

  return {
    quick,
    repeats: int('repeats', quick ? 1 : 3, 1, 20),
    durationSeconds: int('duration', quick ? 1 : 10, 1, 120),
    warmupSeconds: quick ? 1 : 3,
    connections: 16,
    growthSeconds: int('growth-duration', quick ? 12 : 60, 2, 600),
    backends: list('backends', ALL_BACKENDS),
    only: new Set(list('only', ALL_WORKLOADS)),
    seed,
    child: flags.get('child') ?? null,
    sizes: {
      w2Recipients: 10_000,
      w3Small: 1_000,
      w3Large: quick ? 20_000 : 100_000,
      w4Unread: 1_000,
      w4Others: quick ? 100_000 : 1_000_000,
      w4OtherUsers: quick ? 1_000 : 10_000,
      w5Small: 1_000,
      w5Large: quick ? 10_000 : 100_000,
      w6Users: quick ? 200 : 1_000,
      w6PerUser: 100,
      w6bUsers: quick ? 4 : 16,
      w6bUnread: 10_000,
      w7Small: 10,
      w7Large: quick ? 10_000 : 100_000,
      w9Small: 1_000,
      w9Large: quick ? 10_000 : 100_000,
      w10Small: 10,
      w10Large: quick ? 10_000 : 100_000,
      w11Users: 1_000,
      w11PerUser: 10,
    },
    callsPerRepeat: quick ? 2 : 5,
  };
}
