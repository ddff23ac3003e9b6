import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, errorCode, startTestApp, type TestApp } from '../harness.js';
import {
  archive, archiveRaw, inbox, inboxRaw, markRead, newProducer, newUser, sendMany, sendTo, type Caller, type Page, type PageArgs,
} from '../factories.js';

const cursorOf = (inner: string) => Buffer.from(`c:${inner}`, 'utf8').toString('base64url');

describe.each(BACKENDS)('pagination on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  /** A user with `n` messages; `ids` newest first (the order of the connections). */
  async function userWith(n: number): Promise<{ u: Caller; p: Caller; ids: string[] }> {
    const [p, u] = [await newProducer(t), await newUser(t)];
    const sent = await sendMany(p, u.sub, n);
    return { u, p, ids: sent.map((m) => m.id).reverse() };
  }

  it('pages forward with first/after; pageInfo and cursors agree with the edges', async () => {
    const { u, ids } = await userWith(25);
    const one = await archive(u);
    expect(one.ids).toEqual(ids.slice(0, 20)); // default page size 20
    expect(one.totalCount).toBe(25);
    expect(one.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: one.cursors[0], endCursor: one.cursors[19] });
    const two = await archive(u, { first: 20, after: one.pageInfo.endCursor! });
    expect(two.ids).toEqual(ids.slice(20));
    expect(two.totalCount).toBe(25);
    expect(two.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: two.cursors[0], endCursor: two.cursors[4] });
    const past = await archive(u, { after: two.pageInfo.endCursor! });
    expect(past.ids).toEqual([]);
    expect(past.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('pages backward with last/before', async () => {
    const { u, ids } = await userWith(12);
    const oldest = await archive(u, { last: 5 });
    expect(oldest.ids).toEqual(ids.slice(7)); // still newest first within the page
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const middle = await archive(u, { last: 5, before: oldest.pageInfo.startCursor! });
    expect(middle.ids).toEqual(ids.slice(2, 7));
    expect(middle.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true, startCursor: middle.cursors[0], endCursor: middle.cursors[4] });
    const newest = await archive(u, { last: 5, before: middle.pageInfo.startCursor! });
    expect(newest.ids).toEqual(ids.slice(0, 2));
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('a cursor from either direction works in the other', async () => {
    const { u, ids } = await userWith(10);
    const page = await archive(u, { first: 4 });
    expect((await archive(u, { last: 3, before: page.cursors[3] })).ids).toEqual(ids.slice(0, 3));
    const back = await archive(u, { last: 4 });
    expect((await archive(u, { first: 2, after: back.cursors[0] })).ids).toEqual(ids.slice(7, 9));
  });

  it('walks the inbox in both directions', async () => {
    const { u, ids } = await userWith(9);
    await markRead(u, [ids[1], ids[4], ids[7]]);
    const unread = ids.filter((_, i) => ![1, 4, 7].includes(i));
    expect(await walk((a) => inbox(u, a), 'forward', 4)).toEqual(unread);
    expect(await walk((a) => inbox(u, a), 'backward', 4)).toEqual(unread);
    expect((await inbox(u, { first: 2 })).totalCount).toBe(6);
  });

  it('walks a filtered archive', async () => {
    const { u, ids } = await userWith(8);
    await markRead(u, [ids[0], ids[3], ids[5]]);
    const read = [ids[0], ids[3], ids[5]];
    expect(await walk((a) => archive(u, { ...a, filter: { read: true } }), 'forward', 2)).toEqual(read);
    expect(await walk((a) => archive(u, { ...a, filter: { read: true } }), 'backward', 2)).toEqual(read);
  });

  it('allows up to 100 per page; 101 or a negative size is BAD_USER_INPUT', async () => {
    const { u, ids } = await userWith(101);
    expect((await archive(u, { first: 100 })).ids).toEqual(ids.slice(0, 100));
    expect((await archive(u, { last: 100 })).ids).toEqual(ids.slice(1));
    for (const args of [{ first: 101 }, { last: 101 }, { first: -1 }, { last: -1 }]) {
      expect(errorCode(await archiveRaw(u, args))).toBe('BAD_USER_INPUT');
      expect(errorCode(await inboxRaw(u, args))).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses a malformed cursor with BAD_USER_INPUT', async () => {
    const { u } = await userWith(1);
    const bad = ['garbage!', '', 'AAAA', cursorOf('abc'), cursorOf('-1'), Buffer.from('x:1').toString('base64url'), cursorOf('1'.repeat(40))];
    for (const c of bad) {
      expect(errorCode(await archiveRaw(u, { after: c }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await archiveRaw(u, { before: c, last: 2 }))).toBe('BAD_USER_INPUT');
      expect(errorCode(await inboxRaw(u, { after: c }))).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses mixing directions (first with before, last with after) instead of ignoring a cursor', async () => {
    const { u } = await userWith(3);
    const page = await archive(u, { first: 1 });
    const c = page.pageInfo.endCursor!;
    const mixed = await archiveRaw(u, { first: 1, before: c });
    expect(errorCode(mixed)).toBe('BAD_USER_INPUT');
    expect(mixed.errors![0].extensions!.field).toBe('before');
    const other = await inboxRaw(u, { last: 1, after: c });
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
    expect(other.errors![0].extensions!.field).toBe('after');
  });

  it('cursors stay valid while messages are added and read: no duplicates, nothing missed', async () => {
    const { u, p, ids } = await userWith(30);
    const seen: string[] = [];
    let after: string | undefined;
    for (let round = 0; ; round++) {
      const page = await archive(u, { first: 7, after });
      seen.push(...page.ids);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
      // Between pages: new messages arrive, and some already seen and some not yet seen are read.
      await sendTo(p, u.sub, { text: `new ${round}` });
      const unseen = ids.filter((id) => !seen.includes(id));
      await markRead(u, [page.ids[0], ...unseen.slice(-2)]);
    }
    expect(seen).toEqual(ids);
  });

  it('the inbox cursor survives reads: no duplicates, and every message unread throughout is seen', async () => {
    const { u, p, ids } = await userWith(20);
    const seen: string[] = [];
    const readMeanwhile = new Set<string>();
    let after: string | undefined;
    for (let round = 0; ; round++) {
      const page = await inbox(u, { first: 5, after });
      seen.push(...page.ids);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
      await sendTo(p, u.sub, { text: `new ${round}` });
      // Read the page's last message (the cursor's own message) and one not yet seen.
      const toRead = [page.ids[page.ids.length - 1], ids.filter((id) => !seen.includes(id) && !readMeanwhile.has(id))[1]].filter(Boolean);
      toRead.forEach((id) => readMeanwhile.add(id));
      await markRead(u, toRead);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.every((id) => ids.includes(id))).toBe(true);
    for (const id of ids.filter((id) => !readMeanwhile.has(id))) expect(seen).toContain(id);
  });
});

/** All ids of a connection, newest first, collected in pages of `size` in the given direction. */
async function walk(fetch: (args: PageArgs) => Promise<Page>, direction: 'forward' | 'backward', size: number): Promise<string[]> {
  const chunks: string[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = direction === 'forward' ? await fetch({ first: size, after: cursor }) : await fetch({ last: size, before: cursor });
    chunks.push(page.ids);
    const more = direction === 'forward' ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage;
    if (!more) break;
    cursor = (direction === 'forward' ? page.pageInfo.endCursor : page.pageInfo.startCursor) ?? undefined;
  }
  const ids = direction === 'forward' ? chunks.flat() : chunks.reverse().flat();
  expect(new Set(ids).size).toBe(ids.length);
  return ids;
}
