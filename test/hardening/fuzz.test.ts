import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { sleep } from '../support.js';
import { startTestApp, type Backend, type TestApp } from '../harness.js';
import { expiredToken } from '../support.js';
import { fuzzCase } from './fuzz-cases.js';
import type { Pool } from './fuzz-ops.js';
import type { FuzzRequest, Tokens } from './fuzz-request.js';
import { carriesData, problems, send, type Outcome } from './fuzz-send.js';
import { caseRng } from './fuzz-values.js';

/**
 * Seeded fuzzing of the whole public surface (issue 16): every operation of the schema with broken
 * arguments, hostile documents and bodies, malformed HTTP. Whatever the case: no 5xx, no
 * INTERNAL_SERVER_ERROR, no hang, and a refused call changes nothing of the watched users' state.
 * FUZZ_SEED replays a run; FUZZ_CASES makes it longer; FUZZ_LOG=1 shows the server's error log and
 * FUZZ_TRACE=1 prints every accepted write (what a later failure may have been set up by).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_216);
const CASES = Number(process.env.FUZZ_CASES ?? 2_000);
const TIMEOUT_MS = 20_000;
const READ_BATCH = 6;
const FUZZ_BACKENDS: Backend[] = ['postgres', 'redis'];

const SNAPSHOT = '{ unreadCount pendingMessages { id } unreadMessages { totalCount } messages(first: 40) { totalCount edges { cursor node { id read } } } }';

/** Whether a request could change state if the server accepted it: any body or query string naming a mutation. */
const mayWrite = (req: FuzzRequest) => /mutation/i.test(req.path) || /mutation/i.test((req.raw ?? req.body ?? Buffer.alloc(0)).toString('latin1'));

interface Failure {
  index: number;
  label: string;
  reason: string;
  request: string;
  response: string;
}

/** The request as a reproduction: method, path, headers (tokens named, not printed) and the start of the body. */
function describeRequest(req: FuzzRequest): string {
  if (req.raw) return `raw socket: ${JSON.stringify(req.raw.toString('latin1').replace(/Bearer [\w.-]+/g, 'Bearer <token>').slice(0, 400))}`;
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, k === 'authorization' ? v.replace(/[\w-]+\.[\w-]+\.[\w-]+/, '<token>') : v]));
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(headers)} ${req.body ? JSON.stringify(req.body.toString('utf8').slice(0, 400)) : ''}`;
}

describe.each(FUZZ_BACKENDS)('fuzzing the public surface on %s', (backend) => {
  let t: TestApp;
  let user: Caller;
  let bystander: Caller;
  let producer: Caller;
  let other: Caller;
  let tokens: Tokens;
  const pool: Pool = { user: '', bystander: '', ownIds: [], otherIds: [], flashIds: [], cursors: [] };

  beforeAll(async () => {
    t = await startTestApp(backend, process.env.FUZZ_LOG ? { LOG_LEVEL: 'error' } : {});
    [user, bystander, producer] = [await newUser(t), await newUser(t), await newProducer(t)];
    other = await newUser(t);
    await bystander.q('{ unreadCount }'); // known: broadcasts reach it
    const expired = await expiredToken(user.sub);
    tokens = { user: user.token, producer: producer.token, expired };
    for (let i = 0; i < 5; i++) await sendTo(producer, user.sub, { text: `seed ${i}` });
    for (let i = 0; i < 3; i++) pool.otherIds.push((await sendTo(producer, other.sub, { text: `other ${i}` })).message.id);
    Object.assign(pool, { user: user.sub, bystander: bystander.sub });
  });
  afterAll(async () => t?.close());

  /** The watched state, and the ids and cursors it shows, for the next cases. */
  async function snapshot(who: Caller): Promise<string> {
    const r = await who.raw(SNAPSHOT);
    if (!r.data) throw new Error(`snapshot failed: ${JSON.stringify(r).slice(0, 500)}`);
    if (who === user) {
      const edges: { cursor: string; node: { id: string } }[] = r.data.messages.edges;
      pool.ownIds = edges.map((e) => e.node.id);
      pool.cursors = edges.map((e) => e.cursor);
      pool.flashIds = (r.data.pendingMessages as { id: string }[]).map((m) => m.id).filter((id) => Buffer.from(id, 'base64url').toString().startsWith('Flash:'));
    }
    return JSON.stringify(r.data);
  }

  it(`never fails, hangs or changes state on a refusal (seed ${SEED}, ${CASES} cases)`, async () => {
    const failures: Failure[] = [];
    let state = { user: await snapshot(user), bystander: await snapshot(bystander) };
    const fail = (index: number, req: FuzzRequest, o: Outcome, reason: string) =>
      failures.push({ index, label: req.label, reason, request: describeRequest(req), response: `${o.statuses.join(',')} ${o.text.slice(0, 300)}` });

    // A case that may write runs alone: its refusal must leave the state as it was, its success gives
    // the next baseline. Read-only cases run a few at a time and are checked in runs.
    let readOnly: { index: number; req: FuzzRequest }[] = [];
    let unchecked = -1;
    const runReadOnly = async () => {
      const batch = readOnly.splice(0);
      const outcomes = await Promise.all(batch.map(({ req }) => send(t.baseUrl, req, TIMEOUT_MS)));
      batch.forEach(({ index, req }, i) => problems(req, outcomes[i]).forEach((p) => fail(index, req, outcomes[i], p)));
      if (batch.length && unchecked < 0) unchecked = batch[0].index;
    };
    const checkReadOnly = async (upTo: number) => {
      await runReadOnly();
      if (unchecked < 0) return;
      const now = await snapshot(user);
      if (now !== state.user) failures.push({ index: unchecked, label: `read-only cases ${unchecked}..${upTo}`, reason: 'state changed during read-only cases', request: '', response: now.slice(0, 300) });
      state.user = now;
      unchecked = -1;
    };
    for (let index = 0; index < CASES; index++) {
      const req = fuzzCase(caseRng(SEED, index), pool, tokens);
      if (!mayWrite(req)) {
        readOnly.push({ index, req });
        if (readOnly.length === READ_BATCH) await runReadOnly();
        if (unchecked >= 0 && index - unchecked >= 30) await checkReadOnly(index);
        continue;
      }
      await checkReadOnly(index - 1);
      const outcome = await send(t.baseUrl, req, TIMEOUT_MS);
      if (process.env.FUZZ_TRACE && carriesData(outcome.text)) console.log('TRACE', index, req.label, describeRequest(req).slice(0, 1500), outcome.text.slice(0, 300));
      for (const p of problems(req, outcome)) fail(index, req, outcome, p);
      if (outcome.hang) await sleep(100); // the server may still be busy with it
      const next = { user: await snapshot(user), bystander: req.producer ? await snapshot(bystander) : state.bystander };
      if (!carriesData(outcome.text)) {
        if (next.user !== state.user) fail(index, req, outcome, `refused, yet the user's state changed: ${state.user.slice(0, 200)} -> ${next.user.slice(0, 200)}`);
        if (next.bystander !== state.bystander) fail(index, req, outcome, "refused, yet the bystander's state changed");
      }
      state = next;
    }
    await checkReadOnly(CASES - 1);

    const distinct = new Map<string, Failure & { times: number }>();
    for (const f of failures) {
      const key = `${f.reason.slice(0, 40)} | ${f.label.split(' ').slice(0, 2).join(' ')}`;
      const seen = distinct.get(key);
      if (seen) seen.times++;
      else distinct.set(key, { ...f, times: 1 });
    }
    const report = [...distinct.values()]
      .map((f) => `- ${f.reason} (x${f.times}), first at case ${f.index}: ${f.label}\n    request: ${f.request}\n    response: ${f.response}`)
      .join('\n');
    expect(failures.length, `FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} on ${backend}: ${distinct.size} distinct failures\n${report}`).toBe(0);
  }, 600_000);

  it('is healthy afterwards: /health, /ready and a normal query', async () => {
    for (const path of ['/health', '/ready']) expect((await fetch(`${t.baseUrl}${path}`)).status, path).toBe(200);
    const d = await user.q('{ unreadCount unreadMessages { totalCount } messages { totalCount } }');
    expect(d.unreadCount).toBe(d.unreadMessages.totalCount);
    expect(d.messages.totalCount).toBeGreaterThanOrEqual(d.unreadCount);
  });

  it("left the other user's messages, whose ids the fuzzer used, as they were (broadcasts may have added some)", async () => {
    // Ids and read state only: isolation is the point here, not how every field serialises.
    const theirs: { id: string; read: boolean }[] = (await other.q('{ messages(first: 100) { edges { node { id read } } } }')).messages.edges.map((e: any) => e.node);
    const mine = theirs.filter((m) => pool.otherIds.includes(m.id));
    expect(mine.map((m) => ({ id: m.id, read: m.read })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      pool.otherIds.map((id) => ({ id, read: false })).sort((a, b) => a.id.localeCompare(b.id)),
    );
  });
});
