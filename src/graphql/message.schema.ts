import { LEVEL_NAMES, levelName, levelTag, LEVELS, messageTags, type LevelName } from '../domain/levels.js';
import type { MessageRecord } from '../domain/message.js';
import type { ListPage } from '../domain/message-store.js';
import type { Pagination, Viewer } from '../domain/messages.js';
import { builder } from './builder.js';
import { viewerOf, type GraphQLContext } from './context.js';
import { decodeCursor, decodeMessageId, encodeCursor, encodeMessageId } from './ids.js';

export const MessageLevel = builder.enumType('MessageLevel', {
  description: "Django's levels and django-stored-messages' STORED_* levels (Django level + 1).",
  values: Object.fromEntries(LEVEL_NAMES.map((name) => [name, { value: name, description: `levelValue ${LEVELS[name].value}, levelTag "${LEVELS[name].tag}"` }])) as unknown as Record<LevelName, { value: LevelName }>,
});

export const Node = builder.interfaceRef<MessageRecord>('Node').implement({
  fields: (t) => ({ id: t.id({ resolve: (m) => encodeMessageId(m.id, m.stored) }) }),
  resolveType: () => 'Message',
});

export const Message = builder.objectRef<MessageRecord>('Message').implement({
  description: 'One message as the caller sees it.',
  interfaces: [Node],
  isTypeOf: () => true,
  fields: (t) => ({
    text: t.exposeString('text'),
    level: t.field({ type: MessageLevel, resolve: (m) => levelName(m.level) }),
    levelValue: t.exposeInt('level'),
    levelTag: t.string({ resolve: (m) => levelTag(m.level) }),
    extraTags: t.exposeString('extraTags', { description: '"" when none.' }),
    tags: t.string({ description: 'extraTags and levelTag joined by one space, trimmed.', resolve: (m) => messageTags(m.extraTags, m.level) }),
    url: t.exposeString('url', { nullable: true }),
    data: t.field({ type: 'JSON', nullable: true, description: 'Structured payload from the producer.', resolve: (m) => m.data ?? null }),
    createdAt: t.field({ type: 'DateTime', description: 'Now, or the date the producer gave.', resolve: (m) => m.createdAt }),
    readAt: t.field({ type: 'DateTime', nullable: true, description: 'Null while unread.', resolve: (m) => m.readAt }),
    read: t.boolean({ resolve: (m) => m.readAt !== null }),
    stored: t.exposeBoolean('stored', { description: 'False for a flash (non-persisted) message.' }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (m) => m.expiresAt }),
    seen: t.boolean({ description: 'Shown to the recipient (markSeen); read implies seen.', resolve: (m) => m.seenAt !== null }),
    seenAt: t.field({ type: 'DateTime', nullable: true, description: 'Null while unseen.', resolve: (m) => m.seenAt }),
    archived: t.boolean({ resolve: (m) => m.archivedAt !== null }),
    archivedAt: t.field({ type: 'DateTime', nullable: true, resolve: (m) => m.archivedAt }),
    snoozedUntil: t.field({ type: 'DateTime', nullable: true, description: 'Null unless snoozed now.', resolve: (m) => m.snoozedUntil }),
    category: t.exposeString('category', { nullable: true, description: "The producer's category: users may disable it (setPreference)." }),
    groupKey: t.exposeString('groupKey', { nullable: true, description: 'Messages with one group key supersede each other: at most one of a group is unread.' }),
    groupCount: t.exposeInt('groupCount', { description: 'How many messages of its group this one stands for (1 for an ungrouped message).' }),
  }),
});

// CONTRACT.md §13: other subgraphs may point at a message by its id; another user's resolves to null.
builder.asEntity(Message, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: (ref, ctx) => ctx.messages.get(viewerOf(ctx), decodeMessageId('id', ref.id)),
});

type Edge = ListPage['items'][number];

const MessageEdge = builder.objectRef<Edge>('MessageEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (e) => encodeCursor(e.cursor) }),
    node: t.field({ type: Message, resolve: (e) => e.message }),
  }),
});

export const PageInfo = builder.objectRef<ListPage>('PageInfo').implement({
  // Relay's PageInfo is in most subgraphs; a gateway composes it only when every one marks it shareable.
  shareable: true,
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.string({ nullable: true, resolve: (p) => (p.items.length ? encodeCursor(p.items[0].cursor) : null) }),
    endCursor: t.string({ nullable: true, resolve: (p) => (p.items.length ? encodeCursor(p.items[p.items.length - 1].cursor) : null) }),
  }),
});

export const MessageConnection = builder.objectRef<ListPage>('MessageConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [MessageEdge], resolve: (p) => p.items }),
    pageInfo: t.field({ type: PageInfo, resolve: (p) => p }),
    totalCount: t.exposeInt('totalCount'),
  }),
});

const MessageFilter = builder.inputType('MessageFilter', {
  description: 'since/until bound createdAt, inclusive; every field given must hold (AND).',
  fields: (t) => ({
    read: t.boolean(),
    seen: t.boolean(),
    archived: t.boolean({ description: 'Absent: both.' }),
    snoozed: t.boolean({ description: 'Absent or false: not snoozed; true: only snoozed.' }),
    levels: t.field({ type: [MessageLevel] }),
    categories: t.stringList({ description: 'Any of these; a message without a category never matches.' }),
    since: t.field({ type: 'DateTime' }),
    until: t.field({ type: 'DateTime' }),
  }),
});

/** A connection's page arguments, as Query.unreadMessages and User.unreadMessages take them. */
export const inboxArgs = builder.args((t) => ({ first: t.int(), after: t.string(), last: t.int(), before: t.string() }));
/** The page arguments and the filter, as Query.messages and User.messages take them. */
export const archiveArgs = builder.args((t) => ({ ...inboxArgs, filter: t.field({ type: MessageFilter }) }));

type Filter = typeof MessageFilter.$inferInput;

const pageOf = (a: Pagination): Pagination => ({ first: a.first, last: a.last, after: decodeCursor('after', a.after), before: decodeCursor('before', a.before) });

/** `viewer`'s archive: every stored message delivered to them, read or not, newest first. */
export function archivePage(ctx: GraphQLContext, viewer: Viewer, args: Pagination & { filter?: Filter | null }) {
  const f = args.filter;
  return ctx.messages.list(viewer, {
    unreadOnly: false,
    filter: f
      ? {
          read: f.read ?? null,
          seen: f.seen ?? null,
          archived: f.archived ?? null,
          snoozed: f.snoozed ?? null,
          levels: f.levels?.map((l) => LEVELS[l].value) ?? null,
          categories: f.categories ?? null,
          since: f.since ?? null,
          until: f.until ?? null,
        }
      : null,
    page: pageOf(args),
  });
}

/** `viewer`'s inbox: stored messages not yet read, newest first. */
export const inboxPage = (ctx: GraphQLContext, viewer: Viewer, args: Pagination) => ctx.messages.list(viewer, { unreadOnly: true, page: pageOf(args) });

builder.queryType({
  fields: (t) => ({
    node: t.field({
      type: Node,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, ctx) => ctx.messages.get(viewerOf(ctx), decodeMessageId('id', id)),
    }),
    messages: t.field({
      type: MessageConnection,
      description: "The caller's archive: every stored message delivered to them, read or not, newest first.",
      args: archiveArgs,
      resolve: (_, args, ctx) => archivePage(ctx, viewerOf(ctx), args),
    }),
    unreadMessages: t.field({
      type: MessageConnection,
      description: "The caller's inbox: stored messages not yet read, newest first.",
      args: inboxArgs,
      resolve: (_, args, ctx) => inboxPage(ctx, viewerOf(ctx), args),
    }),
    message: t.field({
      type: Message,
      nullable: true,
      description: "Null when it is not the caller's (as node(id)).",
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, ctx) => ctx.messages.get(viewerOf(ctx), decodeMessageId('id', id)),
    }),
    unreadCount: t.int({ resolve: (_, __, ctx) => ctx.messages.unreadCount(viewerOf(ctx)) }),
    pendingMessages: t.field({
      type: [Message],
      description:
        'Flash messages waiting for the caller, then unread stored ones (each oldest first, at most 100 stored); changes nothing (Django\'s storage.used = False).',
      resolve: (_, __, ctx) => ctx.messages.pending(viewerOf(ctx)),
    }),
  }),
});
