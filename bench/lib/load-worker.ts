/**
 * Runs one autocannon load in a worker thread, so the load generator has its own event loop and
 * does not steal the server's (they still share the machine's cores).
 */
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadPlan, LoadResult } from './load-plan.js';

/** One load run; the worker stays up between runs so the generator's own code is warm (JIT). */
async function run(plan: LoadPlan): Promise<LoadResult> {
  let k = plan.first ?? 0;
  let sampleMismatch: string | null = null;
  const headers = (auth: string) => ({
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    authorization: auth,
  });
  const verifyBody = (body: string) => {
    const ok = !body.includes('"errors"') && (!plan.pages || body.includes('"endCursor"'));
    if (!ok && sampleMismatch === null) sampleMismatch = body.slice(0, 300);
    return ok;
  };
  const requests = plan.pages
    ? Array.from({ length: plan.pages.count }, (_, i) => ({
        method: 'POST' as const,
        setupRequest: (req: Record<string, unknown>, ctx: Ctx) => ({
          ...req,
          headers: headers(plan.auths[0]),
          body: i === 0 ? plan.pages!.first : plan.pages!.next.replace('__CURSOR__', ctx.cursor ?? ''),
        }),
        onResponse: (_status: number, body: string, ctx: Ctx) => {
          ctx.cursor = CURSOR.exec(body)?.[1];
        },
      }))
    : [
        {
          method: 'POST' as const,
          setupRequest: (req: Record<string, unknown>) => {
            const i = k++;
            return { ...req, headers: headers(plan.auths[i % plan.auths.length]), body: plan.bodies[i % plan.bodies.length] };
          },
        },
      ];
  const opts = { url: plan.url, connections: plan.connections, duration: plan.durationSeconds, timeout: 30, verifyBody, requests };
  const raw = (await autocannon(opts as never)) as unknown;
  const r = aggregate([raw], opts) as {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    mismatches: number;
    '2xx': number;
    latency: { p50: number; p90: number; p99: number; max: number; average: number };
  };
  const ok = Math.max(0, r['2xx'] - r.mismatches);
  return {
    next: k,
    ok,
    durationSeconds: r.duration,
    rps: ok / r.duration,
    latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches,
    sampleMismatch,
  };
}

type Ctx = { cursor?: string };
const CURSOR = /"endCursor":"([^"]*)"/;
// aggregateResult: autocannon skips it inside worker threads (for its own workers); @types/autocannon 7 lacks it.
const aggregate = (autocannon as unknown as { aggregateResult(results: unknown[], opts: unknown): unknown }).aggregateResult;

parentPort!.on('message', (m: { id: number; plan: LoadPlan }) => {
  run(m.plan).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (err: Error) => parentPort!.postMessage({ id: m.id, error: err.message }),
  );
});
