import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archive, knownUser, newProducer, type Caller } from '../factories.js';
import { BACKENDS, startTestApp, type GqlResult, type TestApp } from '../harness.js';
import { mulberry32, type Rng } from './fuzz-values.js';

/**
 * Many clients at once over real HTTP on the same few users (issue 16): producers sending and
 * broadcasting, users adding, reading, marking read and unread, deleting and marking all read,
 * all on overlapping messages. Afterwards every acknowledged message (minus acknowledged deletes)
 * is in its recipient's archive exactly once, and every count agrees with the lists. And sends
 * racing with one idempotency key store one message.
 */

const USERS = 3;
const PRODUCERS = 3;
const USER_CLIENTS = 9;
const STEPS = 20;

/** What the server acknowledged for one user: ids sent to them, and ids an acknowledged delete removed. */
interface Ledger {
  user: Caller;
  sent: string[];
  deleted: Set<string>;
}

const ADD_FOR = 'mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { recipientCount message { id } } }';
const BROADCAST = 'mutation($i: BroadcastMessageInput!) { broadcastMessage(input: $i) { recipientCount message { id } } }';
const ADD = 'mutation($i: AddMessageInput!) { addMessage(input: $i) { stored message { id } } }';
const MARK = (name: string) => `mutation($ids: [ID!]!) { ${name}(input: { ids: $ids }) { count notFound unreadCount } }`;
const DELETE = 'mutation($ids: [ID!]!) { deleteMessages(input: { ids: $ids }) { count notFound unreadCount } }';
const READ = '{ unreadCount unreadMessages(first: 50) { totalCount edges { node { id } } } messages(first: 50) { totalCount edges { node { id read } } } }';

describe.each(BACKENDS)('concurrent clients on %s', (backend) => {
  let t: TestApp;
  let ledgers: Ledger[];
  let producers: Caller[];
  const errors: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(backend);
    ledgers = [];
    for (let i = 0; i < USERS; i++) ledgers.push({ user: await knownUser(t), sent: [], deleted: new Set() });
    producers = [];
    for (let i = 0; i < PRODUCERS; i++) producers.push(await newProducer(t));
  });
  afterAll(async () => t?.close());

  /** Runs one operation; an error of any kind is recorded (every call here is valid) and answers null. */
  async function call(who: Caller, label: string, query: string, variables?: Record<string, unknown>): Promise<any> {
    const r: GqlResult = await who.raw(query, variables);
    if (r.errors?.length || !r.data) {
      errors.push(`${label} as ${who.sub}: ${JSON.stringify(r).slice(0, 300)}`);
      return null;
    }
    return r.data;
  }

  const someIds = (r: Rng, l: Ledger) => Array.from({ length: 1 + r.int(4) }, () => l.sent[r.int(l.sent.length)]).filter(Boolean);

  async function producerLoop(r: Rng, p: Caller) {
    for (let step = 0; step < STEPS; step++) {
      if (r.chance(0.15)) {
        const d = await call(p, 'broadcastMessage', BROADCAST, { i: { level: 'STORED_INFO', text: `broadcast ${step}` } });
        if (d) for (const l of ledgers) l.sent.push(d.broadcastMessage.message.id);
        continue;
      }
      const to = ledgers.filter(() => r.chance(0.5));
      const recipients = to.length ? to : [r.pick(ledgers)];
      const d = await call(p, 'addMessageFor', ADD_FOR, { i: { userIds: recipients.map((l) => l.user.sub), level: 'STORED_WARNING', text: `for ${step}` } });
      if (d) for (const l of recipients) l.sent.push(d.addMessageFor.message.id);
    }
  }

  async function userLoop(r: Rng, l: Ledger) {
    for (let step = 0; step < STEPS; step++) {
      const u = l.user;
      switch (r.int(7)) {
        case 0: {
          const d = await call(u, 'addMessage', ADD, { i: { level: 'STORED_SUCCESS', text: `own ${step}` } });
          if (d) l.sent.push(d.addMessage.message.id);
          break;
        }
        case 1: await call(u, 'read', READ); break;
        case 2: await call(u, 'markRead', MARK('markRead'), { ids: someIds(r, l) }); break;
        case 3: await call(u, 'markUnread', MARK('markUnread'), { ids: someIds(r, l) }); break;
        case 4: await call(u, 'markAllRead', 'mutation { markAllRead { count unreadCount } }'); break;
        case 5: {
          const ids = someIds(r, l);
          const d = ids.length ? await call(u, 'deleteMessages', DELETE, { ids }) : null;
          if (d) for (const id of ids) if (!d.deleteMessages.notFound.includes(id)) l.deleted.add(id);
          break;
        }
        default: await call(u, 'unreadCount', '{ unreadCount }');
      }
    }
  }

  /** The whole archive, page by page (nothing writes any more). */
  async function wholeArchive(u: Caller): Promise<{ id: string; read: boolean }[]> {
    const out: { id: string; read: boolean }[] = [];
    for (let after: string | undefined; ; ) {
      const page = await archive(u, { first: 100, after });
      out.push(...page.nodes.map((n) => ({ id: n.id, read: n.read })));
      if (!page.pageInfo.hasNextPage) return out;
      after = page.pageInfo.endCursor!;
    }
  }

  it('keeps every acknowledged message exactly once, and counts that agree with the lists', async () => {
    const rng = mulberry32(16);
    await Promise.all([
      ...producers.map((p, i) => producerLoop(mulberry32(rng.int(2 ** 31) + i), p)),
      ...Array.from({ length: USER_CLIENTS }, (_, i) => userLoop(mulberry32(rng.int(2 ** 31) + i), ledgers[i % USERS])),
    ]);
    expect(errors, 'every call was valid').toEqual([]);

    for (const l of ledgers) {
      const who = l.user.sub;
      const got = await wholeArchive(l.user);
      const ids = got.map((m) => m.id);
      expect(new Set(ids).size, `${who}: no message twice`).toBe(ids.length);
      const expected = new Set(l.sent.filter((id) => !l.deleted.has(id)));
      expect(new Set(l.sent).size, `${who}: one id per acknowledged send`).toBe(l.sent.length);
      expect([...ids].sort(), `${who}: the archive is the acknowledged sends minus the acknowledged deletes`).toEqual([...expected].sort());

      const d = await l.user.q('{ unreadCount unreadMessages { totalCount } messages { totalCount } }');
      const unread = got.filter((m) => !m.read).map((m) => m.id);
      expect(d.messages.totalCount, `${who}: messages totalCount`).toBe(got.length);
      expect(d.unreadCount, `${who}: unreadCount`).toBe(unread.length);
      expect(d.unreadMessages.totalCount, `${who}: unreadMessages totalCount`).toBe(unread.length);
    }
  }, 120_000);

  it.each([
    ['a stored addMessage', 'STORED_INFO'],
    ['a flash addMessage', 'INFO'],
  ])('answers %s sent at once with one idempotency key with one message', async (_name, level) => {
    const u = await knownUser(t);
    const input = { level, text: 'once', idempotencyKey: `same-${level}` };
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(u, 'addMessage', ADD, { i: input })));
    expect(errors, 'every call was valid').toEqual([]);
    const ids = new Set(answers.map((d) => d.addMessage.message.id));
    expect(ids.size, 'every answer is the first call\'s message').toBe(1);
    const kept = await u.q('{ pendingMessages { id } messages { totalCount } }');
    expect(kept.pendingMessages.map((m: { id: string }) => m.id)).toEqual([...ids]);
    expect(kept.messages.totalCount).toBe(level === 'INFO' ? 0 : 1);
  });

  it('answers addMessageFor sent at once with one idempotency key with one message', async () => {
    const u = await knownUser(t);
    const input = { userIds: [u.sub], level: 'STORED_INFO', text: 'once', idempotencyKey: 'same-for' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(producers[0], 'addMessageFor', ADD_FOR, { i: input })));
    expect(errors, 'every call was valid').toEqual([]);
    expect(new Set(answers.map((d) => d.addMessageFor.message.id)).size).toBe(1);
    expect((await u.q('{ messages { totalCount } }')).messages.totalCount).toBe(1);
  });
});
