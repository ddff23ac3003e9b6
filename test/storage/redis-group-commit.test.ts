import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATOMIC_SEND_MAX, GROUPED_MAX_USERS } from '../../src/storage/redis/send.js';
import type { MessageStore } from '../../src/domain/message-store.js';
import { REDIS_URL } from '../env.js';
import { deleteRedisKeys } from '../harness.js';
import { countsInIdOrder, msg } from './contract.js';
import { contextOn, newPrefix, openOn, sleep, uid } from './redis-helpers.js';

describe('Redis store on a single server: concurrent direct sends grouped into one script', () => {
  const prefix = newPrefix();
  let store: MessageStore;
  /** Redis MONITOR of this prefix: each send-batch.lua call, as the sends (users per send) it carried; and single sends. */
  let monitor: Redis;
  const batches: number[][] = [];
  let singles = 0;
  let BATCH_SHA = '';
  let LOCAL_SHA = '';

  beforeAll(async () => {
    store = await openOn(prefix);
    const ctx = await contextOn(prefix);
    const sha = (text: string) => createHash('sha1').update(text).digest('hex');
    BATCH_SHA = sha(ctx.scripts.source('sendBatch'));
    LOCAL_SHA = sha(ctx.scripts.source('sendDirect'));
    ctx.client.disconnect();
    monitor = await new Redis(REDIS_URL).monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      // ioredis sends a script's first call on a connection as EVAL (its text), later ones as EVALSHA.
      const command = args[0]?.toLowerCase();
      if ((command !== 'evalsha' && command !== 'eval') || !args[3]?.startsWith(prefix)) return;
      const is = (sha: string, text: string) => (command === 'evalsha' ? args[1] === sha : args[1].includes(text));
      if (is(LOCAL_SHA, 'local users = #ARGV - FIRST_USER + 1')) singles++;
      if (!is(BATCH_SHA, 'local a = FIRST_SEND')) return;
      // ARGV: prefix, body prefix, webhooks, then per send: body, level, createdAt, expiresAt, tail, n, n users.
      const argv = args.slice(3 + Number(args[2]));
      const sends: number[] = [];
      for (let a = 3; a < argv.length; a += 6 + Number(argv[a + 5])) sends.push(Number(argv[a + 5]));
      batches.push(sends);
    });
    // MONITOR starts showing commands a moment after it answers: wait until it shows one of ours.
    let ready = false;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === prefix) ready = true;
    });
    const probe = new Redis(REDIS_URL);
    for (let i = 0; i < 100 && !ready; i++) {
      await probe.echo(prefix);
      await sleep(20);
    }
    probe.disconnect();
    expect(ready).toBe(true);
  });
  afterAll(async () => {
    monitor?.disconnect();
    await store?.close();
    await deleteRedisKeys(prefix);
  });

  /** MONITOR lines arrive after the replies: wait until it has seen `n` sends. */
  const seen = async (n: number) => {
    for (let i = 0; i < 100 && batches.flat().length + singles < n; i++) await sleep(20);
    return batches.flat().length + singles;
  };

  it('answers each send with its own id and counts, in id order, in fewer script calls than sends', async () => {
    batches.length = 0;
    singles = 0;
    const [a, b] = [uid('ga'), uid('gb')];
    const results = await Promise.all(Array.from({ length: 50 }, (_, k) => store.send(msg({ text: `g${k}` }), { userIds: k % 2 ? [a, b, a] : [a] })));
    expect(await seen(50)).toBe(50);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length + singles).toBeLessThan(50);
    expect(new Set(results.map((r) => r.message.id)).size).toBe(50);
    expect(results.map((r) => r.message.text)).toEqual(results.map((_, k) => `g${k}`));
    expect(results.map((r) => r.recipientCount)).toEqual(results.map((_, k) => (k % 2 ? 2 : 1)));
    for (const user of [a, b]) {
      const counts = countsInIdOrder(results, user);
      expect(counts).toEqual(counts.map((_, i) => i + 1));
    }
    expect(await store.unreadCount(a)).toBe(50);
    expect(await store.unreadCount(b)).toBe(25);
    const listed = await store.list(b, { unreadOnly: true, filter: {}, direction: 'forward', limit: 100, cursor: null });
    expect(listed.items.map((i) => i.message.text).sort()).toEqual(Array.from({ length: 25 }, (_, k) => `g${2 * k + 1}`).sort());
  });

  it(`keeps a batch to ${ATOMIC_SEND_MAX} deliveries at most, and sends to more than ${GROUPED_MAX_USERS} users alone`, async () => {
    batches.length = 0;
    singles = 0;
    const users = Array.from({ length: GROUPED_MAX_USERS }, () => uid('gw'));
    const wide = Array.from({ length: GROUPED_MAX_USERS + 1 }, () => uid('gx'));
    const sent = await Promise.all([
      ...Array.from({ length: 40 }, () => store.send(msg({ text: 'wide batch' }), { userIds: users })),
      store.send(msg({ text: 'alone' }), { userIds: wide }),
    ]);
    expect(await seen(41)).toBe(41);
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(ATOMIC_SEND_MAX);
    expect(batches.flat()).not.toContain(GROUPED_MAX_USERS + 1);
    expect(sent[40].recipientCount).toBe(GROUPED_MAX_USERS + 1);
    for (const u of [users[0], users[users.length - 1]]) expect(await store.unreadCount(u)).toBe(40);
    expect(await store.unreadCount(wide[0])).toBe(1);
  });

  it('fails only the send Redis refuses; the others of its batch are stored', async () => {
    batches.length = 0;
    singles = 0;
    const broken = uid('gbroken');
    const fine = uid('gfine');
    // A user whose state key holds the wrong type: Redis refuses the delivery to them (WRONGTYPE).
    const ctx = await contextOn(prefix);
    await ctx.client.set(ctx.keys.userKey(broken, 'state'), 'not a hash');
    await ctx.client.quit();
    const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, k) => store.send(msg({ text: `f${k}` }), { userIds: k === 10 ? [broken] : [fine] })));
    expect(await seen(20)).toBe(20);
    expect(batches.length).toBeGreaterThan(0);
    expect(settled.map((s) => s.status)).toEqual(settled.map((_, k) => (k === 10 ? 'rejected' : 'fulfilled')));
    expect(String((settled[10] as PromiseRejectedResult).reason)).toContain('WRONGTYPE');
    expect(await store.unreadCount(fine)).toBe(19);
    const texts = (await store.list(fine, { unreadOnly: true, filter: {}, direction: 'forward', limit: 100, cursor: null })).items.map((i) => i.message.text);
    expect(texts.sort()).toEqual(Array.from({ length: 20 }, (_, k) => `f${k}`).filter((t) => t !== 'f10').sort());
  });
});
