import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archive, counts, knownUser, MESSAGE, newProducer, newUser, sendTo, unknownId } from '../factories.js';
import { BACKENDS, startTestApp, type GqlResult, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §11 and security review item 4: one operation sends one message at most, and carries
 * at most 10,000 ids over all its root fields, aliases and fragments included; past either, the
 * whole operation is refused with BAD_USER_INPUT naming the field, and nothing changes.
 */

function expectBadInput(r: GqlResult, field: string) {
  expect(r.data ?? null, JSON.stringify(r).slice(0, 300)).toBeNull();
  expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(r.errors?.[0]?.extensions?.field).toBe(field);
}

const ids = (n: number) => Array.from({ length: n }, () => unknownId());

describe.each(BACKENDS)('limits on writes per operation on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('refuses two sends in one operation, by alias or through fragments, and stores nothing', async () => {
    const producer = await newProducer(t);
    const user = await knownUser(t);
    const input = `input: { userIds: ["${user.sub}"], level: STORED_INFO, text: "x" }`;
    const aliased = await producer.raw(`mutation { a: addMessageFor(${input}) { recipientCount } b: addMessageFor(${input}) { recipientCount } }`);
    expectBadInput(aliased, 'b');
    expect(aliased.errors?.[0]?.message).toMatch(/one message at most/);
    const mixed = await producer.raw(
      `mutation { ...Send ... on Mutation { broadcastMessage(input: { level: STORED_INFO, text: "y" }) { recipientCount } } } fragment Send on Mutation { addMessageFor(${input}) { recipientCount } }`,
    );
    expectBadInput(mixed, 'broadcastMessage');
    const own = await user.raw('mutation { a: addMessage(input: { level: INFO, text: "f" }) { stored } b: addMessage(input: { level: STORED_INFO, text: "s" }) { stored } }');
    expectBadInput(own, 'b');
    expect(await counts(user)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
    expect((await user.q('{ pendingMessages { id } }')).pendingMessages).toEqual([]);
    // One send beside other fields is fine.
    const one = await producer.q(`mutation { addMessageFor(${input}) { recipientCount } markAllRead { count } }`);
    expect(one.addMessageFor.recipientCount).toBe(1);
  });

  it('refuses more than 10,000 ids over the root fields of one operation, changing nothing', async () => {
    const producer = await newProducer(t);
    const user = await newUser(t);
    const mine = (await sendTo(producer, user.sub)).message.id;
    const doc = `mutation($a: [ID!]!, $b: [ID!]!) {
      r1: markRead(input: { ids: $a }) { count }
      ...Del
    } fragment Del on Mutation { deleteMessages(input: { ids: $b }) { count } }`;
    expectBadInput(await user.raw(doc, { a: [mine, ...ids(5_000)], b: [mine, ...ids(5_000)] }), 'input.ids');
    const literal = `mutation($a: [ID!]!) { markRead(input: { ids: $a }) { count } markUnread(input: { ids: [${JSON.stringify(mine)}] }) { count } }`;
    expectBadInput(await user.raw(literal, { a: [mine, ...ids(9_999)] }), 'input.ids');
    expect((await archive(user)).nodes.map((m) => [m.id, m.read])).toEqual([[mine, false]]);
    // 10,000 in all is fine.
    const ok = await user.q(doc, { a: [mine, ...ids(4_999)], b: ids(5_000) });
    expect(ok).toEqual({ r1: { count: 1 }, deleteMessages: { count: 0 } });
  });

  it('refuses, before marking anything, ids whose payload could answer past 16 MiB; fewer fields pass', async () => {
    const producer = await newProducer(t);
    const user = await newUser(t);
    const mine = (await sendTo(producer, user.sub)).message.id;
    const heavy = `mutation($a: [ID!]!) { markRead(input: { ids: $a }) { count messages { id text data url } } }`;
    const many = [mine, ...ids(999)];
    expectBadInput(await user.raw(heavy, { a: many }), 'input.ids');
    // Through a fragment at the root too.
    expectBadInput(await user.raw(`mutation($a: [ID!]!) { ...R } fragment R on Mutation { markRead(input: { ids: $a }) { messages { text data } } }`, { a: many }), 'input.ids');
    expect((await archive(user)).nodes.map((m) => m.read)).toEqual([false]);
    // The same ids with the ids alone, or few ids with every field, are fine.
    expect((await user.q(`mutation($a: [ID!]!) { markUnread(input: { ids: $a }) { count messages { id read } notFound } }`, { a: many })).markUnread.count).toBe(0);
    expect((await user.q(heavy, { a: [mine] })).markRead.count).toBe(1);
  });

  it('counts the userIds of a send with the ids of the same operation', async () => {
    const producer = await newProducer(t);
    const user = await newUser(t);
    const doc = `mutation($u: [ID!]!, $ids: [ID!]!) {
      markRead(input: { ids: $ids }) { count }
      addMessageFor(input: { userIds: $u, level: STORED_INFO, text: "many" }) { recipientCount message { ${MESSAGE} } }
    }`;
    const userIds = [user.sub, ...Array.from({ length: 9_999 }, (_, i) => `nobody-${i}`)];
    expectBadInput(await producer.raw(doc, { u: userIds, ids: [unknownId()] }), 'input.userIds');
    expect(await counts(user)).toEqual({ unread: 0, inboxTotal: 0, archiveTotal: 0 });
  });
});
