import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time in ms (user + system) of every process named `postgres` or `redis-server` on the machine,
 * from /proc: the storage side's share of a run (other databases' work counts too: run it on a quiet machine).
 */
export function storageCpu(): number {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres' && name !== 'redis-server') continue;
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // the process ended meanwhile
    }
  }
  return ms;
}

/** This thread's CPU time from /proc (clock ticks of 10 ms): [user, system] in ms. */
export function threadCpu(): [number, number] {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return [Number(fields[11]) * 10, Number(fields[12]) * 10];
}
