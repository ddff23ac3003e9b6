import { Worker } from 'node:worker_threads';
import { onCleanup } from './cleanup.js';
import type { LoadPlan, LoadResult } from './load-plan.js';

export type { LoadPlan, LoadResult } from './load-plan.js';

const WORKER = new URL('./load-worker.ts', import.meta.url).href;
// The worker is TypeScript: register tsx's loader inside it before importing the file.
const BOOT = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(WORKER)});`;

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();

function loadWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(BOOT)}`));
  const failAll = (err: Error) => {
    if (worker === w) worker = null;
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
  };
  w.on('message', (m: { id: number; result?: LoadResult; error?: string }) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.result) p?.resolve(m.result);
    else p?.reject(new Error(m.error ?? 'load generator failed'));
  });
  w.on('error', failAll);
  w.on('exit', (code) => failAll(new Error(`load generator exited with code ${code}`)));
  w.unref();
  worker = w;
  onCleanup('load generator', stopLoadGenerator);
  return w;
}

/** Stops the load generator's worker thread (it starts again on the next run). */
export async function stopLoadGenerator(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await w.terminate();
}

/**
 * Runs one autocannon load in the load generator's worker thread (its own event loop, kept warm
 * across runs) and returns its figures. Bounded by the plan's duration plus a grace period.
 */
export function httpLoad(plan: LoadPlan): Promise<LoadResult> {
  const w = loadWorker();
  const id = nextId++;
  return new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('load generator did not finish in time'));
      void stopLoadGenerator();
    }, (plan.durationSeconds + 60) * 1000);
    waiting.set(id, {
      resolve: (r) => (clearTimeout(timer), resolve(r)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    });
    w.postMessage({ id, plan });
  });
}

/** A short human summary of what went wrong in a load run, or null when every response was good. */
export function loadProblems(r: LoadResult): string | null {
  const bad = r.errors + r.non2xx + r.mismatches;
  if (bad === 0) return null;
  return `${bad} bad responses (errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}, GraphQL errors ${r.mismatches})${r.sampleMismatch ? `: ${r.sampleMismatch}` : ''}`;
}
