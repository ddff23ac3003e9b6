import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendTo } from '../factories.js';
import { BACKENDS } from '../harness.js';
import { sleep, waitFor } from '../support.js';
import { verified, type Answer, type Receiver, type WebhookJson } from './receiver.js';
import { FAST, startWebhookWorld, userIn, type WebhookWorld } from './support.js';

/**
 * Retries, order and isolation (CONTRACT.md §10) with two endpoints and shortened timings: a failed
 * attempt comes again with the same id and body, only to the endpoint that did not acknowledge it; a
 * user's later events wait for the earlier one; a hanging endpoint slows no mutation; an event still
 * failing at the give-up time is logged, counted and dropped, and its user's next event goes on.
 */

/** Answers for one user's webhooks at one endpoint, in order; past the list, 200. */
function script(r: Receiver, userId: string, answers: Answer[]): void {
  const previous = r.answer;
  let k = 0;
  r.answer = (body: WebhookJson) => (body.userId === userId ? (answers[k++] ?? 200) : previous(body));
}

/** The types a receiver acknowledged for `userId`, in order. */
const acknowledged = (r: Receiver, userId: string) => r.of(userId).filter((x) => x.status >= 200 && x.status < 300).map((x) => x.body.type);

describe.each(BACKENDS)('webhook retries on %s', (backend) => {
  let w: WebhookWorld;
  beforeAll(async () => {
    w = await startWebhookWorld(backend, { endpoints: 2, timings: { ...FAST, giveUpAfterMs: 6_000 } });
  }, 60_000);
  afterAll(() => w?.close());

  it('retries after a 5xx and after a timeout (no answer, or a body that never ends) with the same id and body, only where it was not acknowledged', async () => {
    const user = await userIn(w);
    const [a, b] = w.receivers;
    script(a, user.sub, ['trickle', 503]);
    script(b, user.sub, ['hang']);
    await sendTo(w.producer, user.sub, { text: 'retried' });
    await a.waitFor(user.sub, 4);
    await b.waitFor(user.sub, 3);
    // a: a body that never ends, 503 (b acknowledged this time), 200; b: no answer, 200. Then INBOX_STORED once each.
    expect(a.of(user.sub).map((x) => [x.body.type, x.status])).toEqual([['ARCHIVE_STORED', 0], ['ARCHIVE_STORED', 503], ['ARCHIVE_STORED', 200], ['INBOX_STORED', 200]]);
    expect(b.of(user.sub).map((x) => [x.body.type, x.status])).toEqual([['ARCHIVE_STORED', 0], ['ARCHIVE_STORED', 200], ['INBOX_STORED', 200]]);
    const attempts = [...a.of(user.sub), ...b.of(user.sub)].filter((x) => x.body.type === 'ARCHIVE_STORED');
    expect(new Set(attempts.map((x) => x.raw)).size).toBe(1);
    expect(new Set(attempts.map((x) => x.headers['webhook-id'])).size).toBe(1);
    for (const x of attempts) expect(verified(w.secret, x).id).toBe(x.body.id);
    // The first retry waits about 300 ms after the timed-out attempt (1 s).
    expect(a.of(user.sub)[1].at - a.of(user.sub)[0].at).toBeGreaterThanOrEqual(1_000 + 250);
    expect(w.logs.filter((l) => l.webhookId === attempts[0].body.id && l.level === 40)).toHaveLength(2);
  });

  it("keeps one user's events in order while an earlier one is retried, and other users' flowing", async () => {
    const [slow, other] = [await userIn(w), await userIn(w)];
    script(w.receivers[0], slow.sub, [500, 500, 500]);
    for (const text of ['one', 'two', 'three']) await sendTo(w.producer, slow.sub, { text });
    await sendTo(w.producer, other.sub, { text: 'meanwhile' });
    await w.receivers[0].waitFor(other.sub, 2);
    expect(acknowledged(w.receivers[0], slow.sub)).toEqual([]);
    await w.receivers[0].waitFor(slow.sub, 9);
    const texts = w.receivers[0].of(slow.sub).map((x) => x.body.messageIds[0]);
    // Each message's two events come after the previous message's, and nothing of it arrived before its first was acknowledged.
    expect(acknowledged(w.receivers[0], slow.sub)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED', 'ARCHIVE_STORED', 'INBOX_STORED', 'ARCHIVE_STORED', 'INBOX_STORED']);
    expect(texts.slice(0, 4).every((id) => id === texts[0])).toBe(true);
    expect(new Set(texts).size).toBe(3);
    expect(w.receivers[1].of(slow.sub).map((x) => x.body.id)).toEqual([...new Set(w.receivers[0].of(slow.sub).map((x) => x.body.id))]);
  });

  it('a mutation stays fast while an endpoint hangs, and what waited is delivered once it answers', async () => {
    const user = await userIn(w);
    const previous = w.receivers[0].answer;
    w.receivers[0].answer = () => 'hang';
    const took: number[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const started = performance.now();
        await sendTo(w.producer, user.sub, { text: `while hanging ${i}` });
        took.push(performance.now() - started);
      }
      await w.receivers[0].waitFor(user.sub, 1);
      await waitFor(async () => (await w.metric('stored_messages_webhook_pending')) >= 16, { what: 'the pending gauge' });
    } finally {
      w.receivers[0].answer = previous;
    }
    // Each attempt waits for the 1 s timeout: a mutation that waited on one would take that long.
    expect(Math.max(...took)).toBeLessThan(800);
    await waitFor(() => acknowledged(w.receivers[0], user.sub).length === 16, { what: 'the 16 webhooks' });
    await waitFor(async () => (await w.metric('stored_messages_webhook_pending')) === 0, { what: 'nothing pending' });
  });

  it('gives up on an event still failing at the give-up time: logged, counted, and the stream goes on', async () => {
    const user = await userIn(w);
    const givenUpBefore = await w.metric('stored_messages_webhook_given_up_total');
    script(w.receivers[0], user.sub, Array(40).fill(500));
    await sendTo(w.producer, user.sub, { text: 'never acknowledged' });
    await waitFor(() => w.logs.some((l) => l.level === 50 && l.userId === user.sub && l.type === 'INBOX_STORED'), { timeoutMs: 20_000, what: 'both given up' });
    const gaveUp = w.logs.filter((l) => l.level === 50 && l.userId === user.sub);
    expect(gaveUp.map((l) => l.type)).toEqual(['ARCHIVE_STORED', 'INBOX_STORED']);
    expect(gaveUp[0].msg).toMatch(/^webhook msg_\S+ given up after \d+ attempts$/);
    expect(await w.metric('stored_messages_webhook_given_up_total')).toBe(givenUpBefore + 2);
    expect(await w.metric('stored_messages_webhook_failed_attempts_total')).toBeGreaterThan(0);
    expect(await w.metric('stored_messages_webhook_delivered_total')).toBeGreaterThan(0);
    // Dropped for good: no attempt after the give-up.
    const count = w.receivers[0].of(user.sub).length;
    await sleep(1_000);
    expect(w.receivers[0].of(user.sub)).toHaveLength(count);
  }, 30_000);
});
