/**
 * `npx tsx bench/cpuprofile-top.ts FILE.cpuprofile [N]`: the functions and packages where a V8 CPU
 * profile spent its samples (self time), to read a `--cpu-prof` run of the bench without a GUI:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts --quick --only=W7 --backends=postgres
 *   npx tsx bench/cpuprofile-top.ts /tmp/prof/CPU.*.0.*.cpuprofile      # thread 0: the server
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
  const src = /\/work\/main\/(.*)$/.exec(url.replace('file://', ''));
  return src ? src[1].split('/').slice(0, 2).join('/') : url;
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
