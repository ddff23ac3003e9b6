/**
 * `npx tsx bench/cpuprofile-top.ts FILE.cpuprofile [N] [NAME]`: the functions and packages where a V8 CPU
 * profile spent its samples (self time), to read a profile without a GUI; with NAME, who calls the
 * functions whose name contains it. The best input is bench/profile.ts (the server's thread during one
 * measured load run); a `--cpu-prof` run of the whole bench also works (thread 0 is the server):
 *
 *   npx tsx bench/profile.ts W7 && npx tsx bench/cpuprofile-top.ts /tmp/W7.cpuprofile 30
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts --quick --only=W7 --backends=postgres
 *
 * `(idle)` is time without work, and most of `writev` is time the thread waited for a core after a
 * socket write woke PostgreSQL or the load generator (its share of samples far exceeds the system
 * time /proc reports): the last lines give the shares without them.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const [file, nArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]');
  process.exit(2);
}
const top = Number(nArg ?? 25);
const ROOT = `${process.cwd()}/`;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time per node from samples and time deltas (more exact than hitCount × interval).
const self = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  if (!url) return '(native/V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  const path = url.replace('file://', '');
  // Paths inside this checkout (run from its root, as npm scripts are), as "src/storage" or "bench/lib".
  return path.startsWith(ROOT) ? path.slice(ROOT.length).split('/').slice(0, 2).join('/') : url;
};

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const f = `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  const p = n.callFrame.url ? where(n.callFrame.url) : n.callFrame.functionName;
  byPackage.set(p, (byPackage.get(p) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of samples`);
print('self time by package / area', byPackage);
print('self time by function', byFunction);
const offCpu = [...byFunction].filter(([f]) => /^\((idle)\)  |^writev  /.test(f)).reduce((a, [, us]) => a + us, 0);
const onCpu = new Map([...byPackage].filter(([p]) => p !== '(idle)' && p !== 'writev').map(([p, us]) => [p, us]));
console.log(`\nwithout (idle) and writev (${pct(offCpu)} of the samples), by package:`);
const onTotal = total - offCpu;
for (const [k, us] of [...onCpu].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / onTotal).toFixed(1).padStart(5)} %  ${k}`);

// With a third argument, who calls the functions whose name contains it (inclusive of their callees' self time, by caller chain).
const focus = process.argv[4];
if (focus) {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chains = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (!n.callFrame.functionName.includes(focus)) continue;
    const chain: string[] = [];
    for (let p = parent.get(id); p !== undefined && chain.length < 8; p = parent.get(p)) {
      const f = byId.get(p)!.callFrame;
      chain.push(`${f.functionName || '(anon)'}@${where(f.url)}:${f.lineNumber + 1}`);
    }
    const key = chain.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  print(`callers of *${focus}*`, chains);
}
