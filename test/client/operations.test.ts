import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  ArchivePageDocument,
  createRequest,
  DeleteMessagesDocument,
  GraphQLRequestError,
  InboxCountsDocument,
  InboxPageDocument,
  MarkAllReadDocument,
  PreferencesDocument,
  SetPreferenceDocument,
  MarkReadDocument,
  MarkUnreadDocument,
  UnreadCountDocument,
  type InboxMessageFragment,
} from '../../client/index.js';
import { newProducer, newUser, sendTo, type Caller } from '../factories.js';
import { startTestApp, type TestApp } from '../harness.js';

/** The generated documents of client/operations.graphql, run with createRequest against a real server. */
describe('typed operations', () => {
  let t: TestApp;
  let producer: Caller;
  beforeAll(async () => {
    t = await startTestApp('postgres');
    producer = await newProducer(t);
  });
  afterAll(async () => t?.close());

  const requestAs = (user: Caller) => createRequest({ url: `${t.baseUrl}/graphql`, getToken: () => user.token });

  it('pages the inbox and the archive, counts, marks read and unread, deletes', async () => {
    const user = await newUser(t);
    const request = requestAs(user);
    const sent = [];
    for (const text of ['a', 'b', 'c']) sent.push((await sendTo(producer, user.sub, { text, data: { n: text } })).message);

    // @ts-expect-error markRead cannot be sent without its ids
    void (() => request(MarkReadDocument));
    const page = await request(InboxPageDocument, { first: 2 });
    expectTypeOf(page.unreadMessages.edges[0].node).toEqualTypeOf<InboxMessageFragment>();
    expect(page.unreadMessages.totalCount).toBe(3);
    expect(page.unreadMessages.edges.map((e) => e.node.text)).toEqual(['c', 'b']);
    expect(page.unreadMessages.edges[0].node).toMatchObject({ level: 'STORED_INFO', data: { n: 'c' }, read: false, readAt: null });
    const rest = await request(InboxPageDocument, { first: 2, after: page.unreadMessages.pageInfo.endCursor });
    expect(rest.unreadMessages.edges.map((e) => e.node.text)).toEqual(['a']);
    expect(rest.unreadMessages.pageInfo.hasNextPage).toBe(false);

    const read = await request(MarkReadDocument, { ids: [sent[0].id] });
    expect(read.markRead).toMatchObject({ count: 1, notFound: [], unreadCount: 2, messages: [{ id: sent[0].id, read: true }] });
    expect((await request(UnreadCountDocument)).unreadCount).toBe(2);
    expect((await request(ArchivePageDocument, { filter: { read: true } })).messages.edges.map((e) => e.node.text)).toEqual(['a']);
    expect((await request(MarkUnreadDocument, { ids: [sent[0].id] })).markUnread.unreadCount).toBe(3);

    expect((await request(MarkAllReadDocument)).markAllRead).toEqual({ count: 3, unreadCount: 0 });
    const deleted = await request(DeleteMessagesDocument, { ids: [sent[1].id] });
    expect(deleted.deleteMessages).toEqual({ count: 1, notFound: [], unreadCount: 0 });
    expect((await request(ArchivePageDocument)).messages.totalCount).toBe(2);
  });

  it("a settings page's preferences and a category tab's counts and mark-all-read", async () => {
    const user = await newUser(t);
    const request = requestAs(user);
    expect((await request(SetPreferenceDocument, { category: 'social', enabled: false })).setPreference).toEqual({ category: 'social', enabled: false });
    expect((await request(PreferencesDocument)).preferences).toEqual([{ category: 'social', enabled: false }]);
    const groupKey = 'order:7';
    for (const text of ['shipped', 'delivered']) {
      await producer.q('mutation($i: AddMessageForInput!) { addMessageFor(input: $i) { recipientCount } }', { i: { userIds: [user.sub], level: 'STORED_INFO', text, category: 'orders', groupKey } });
    }
    const [latest] = (await request(InboxPageDocument, { first: 5 })).unreadMessages.edges;
    expect(latest.node).toMatchObject({ text: 'delivered', category: 'orders', groupKey, groupCount: 2 });
    expect((await request(InboxCountsDocument, { category: 'orders' })).counts).toEqual({ total: 2, unread: 1, unseen: 1, archived: 0, snoozed: 0 });
    expect((await request(MarkAllReadDocument, { category: 'orders' })).markAllRead).toEqual({ count: 1, unreadCount: 0 });
  });

  it('throws GraphQLRequestError with the error code', async () => {
    const user = await newUser(t);
    const refused = createRequest({ url: `${t.baseUrl}/graphql`, getToken: () => 'not-a-jwt' });
    const error = await refused(UnreadCountDocument).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect((error as GraphQLRequestError).code).toBe('UNAUTHENTICATED');
    const malformed = await requestAs(user)(MarkReadDocument, { ids: ['nope'] }).catch((e: unknown) => e);
    expect((malformed as GraphQLRequestError).code).toBe('BAD_USER_INPUT');
  });
});
