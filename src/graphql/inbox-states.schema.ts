import type { StatesPayload } from '../domain/inbox-states.js';
import type { InboxCounts as Counts } from '../domain/message-store.js';
import type { Viewer } from '../domain/messages.js';
import { builder } from './builder.js';
import { viewerOf, type GraphQLContext } from './context.js';
import { withGlobalIds } from './ids.js';
import { Message } from './message.schema.js';

/** CONTRACT.md §8: seen, archived, snoozed; their counts, filters (in MessageFilter), mutations and payloads. */

export const InboxCounts = builder.objectRef<Counts>('InboxCounts').implement({
  description: "The caller's exact counts; as cheap as unreadCount at any inbox size.",
  fields: (t) => ({
    total: t.exposeInt('total', { description: 'Every stored message the caller has, not snoozed (archived included).' }),
    unread: t.exposeInt('unread', { description: '= unreadCount.' }),
    unseen: t.exposeInt('unseen', { description: '= unseenCount: what the badge shows.' }),
    archived: t.exposeInt('archived'),
    snoozed: t.exposeInt('snoozed'),
  }),
});

// Inputs -----------------------------------------------------------------------------------------

const MarkSeenInput = builder.inputType('MarkSeenInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
const ArchiveInput = builder.inputType('ArchiveInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });
const UnsnoozeInput = builder.inputType('UnsnoozeInput', { fields: (t) => ({ ids: t.idList({ required: true }) }) });

const MarkAllSeenInput = builder.inputType('MarkAllSeenInput', {
  fields: (t) => ({
    until: t.field({ type: 'DateTime', description: 'Only messages delivered at or before this instant; default: the time of the request.' }),
    category: t.string({ description: 'Only messages of this category.' }),
  }),
});

const ArchiveAllInput = builder.inputType('ArchiveAllInput', {
  fields: (t) => ({
    until: t.field({ type: 'DateTime', description: 'Only messages delivered at or before this instant; default: the time of the request.' }),
    category: t.string({ description: 'Only messages of this category.' }),
    onlyRead: t.boolean({ description: 'Only what is read now.' }),
  }),
});

const SnoozeInput = builder.inputType('SnoozeInput', {
  fields: (t) => ({
    ids: t.idList({ required: true }),
    until: t.field({ type: 'DateTime', required: true, description: 'In the future, at most 365 days ahead.' }),
  }),
});

// Payloads ---------------------------------------------------------------------------------------

const MarkSeenPayload = builder.simpleObject('MarkSeenPayload', {
  fields: (t) => ({ count: t.int({ nullable: false }), notFound: t.idList({ nullable: false }), unseenCount: t.int({ nullable: false }) }),
});

const MarkAllSeenPayload = builder.simpleObject('MarkAllSeenPayload', {
  fields: (t) => ({ count: t.int({ nullable: false }), unseenCount: t.int({ nullable: false }) }),
});

/** ArchivePayload and SnoozePayload: the found messages in their state after the call; notFound echoes the ids as sent. */
const statesPayload = (name: 'ArchivePayload' | 'SnoozePayload') =>
  builder.objectRef<StatesPayload>(name).implement({
    fields: (t) => ({
      count: t.exposeInt('count', { description: 'How many changed state.' }),
      messages: t.field({ type: [Message], resolve: (p) => p.messages }),
      notFound: t.exposeIDList('notFound'),
      counts: t.field({ type: InboxCounts, description: "The whole inbox's counts after the change.", resolve: (p) => p.counts }),
    }),
  });
const ArchivePayload = statesPayload('ArchivePayload');
const SnoozePayload = statesPayload('SnoozePayload');

const ArchiveAllPayload = builder.simpleObject('ArchiveAllPayload', {
  fields: (t) => ({ count: t.int({ nullable: false }), counts: t.field({ type: InboxCounts, nullable: false }) }),
});

// Fields -----------------------------------------------------------------------------------------

/** Global ids in, storage ids to the use case, notFound echoed as sent. */
const byIds =
  <R extends { notFound: string[] }>(run: (messages: GraphQLContext['messages'], viewer: Viewer, storageIds: string[]) => Promise<R>) =>
  (_: unknown, { input }: { input: { ids: (string | number)[] } }, ctx: GraphQLContext) => {
    const viewer = viewerOf(ctx);
    return withGlobalIds(input.ids.map(String), (storageIds) => run(ctx.messages, viewer, storageIds));
  };

builder.queryFields((t) => ({
  counts: t.field({
    type: InboxCounts,
    description: 'Exact counts, for the whole inbox or one category; as cheap as unreadCount at any inbox size.',
    args: { category: t.arg.string() },
    resolve: (_, { category }, ctx) => ctx.messages.counts(viewerOf(ctx), category),
  }),
  unseenCount: t.int({ description: 'Messages not seen yet (the badge); snoozed ones do not count.', resolve: (_, __, ctx) => ctx.messages.unseenCount(viewerOf(ctx)) }),
}));

builder.mutationFields((t) => ({
  markSeen: t.field({
    type: MarkSeenPayload,
    args: { input: t.arg({ type: MarkSeenInput, required: true }) },
    resolve: byIds((m, viewer, i) => m.markSeen(viewer, i)),
  }),
  markAllSeen: t.field({
    type: MarkAllSeenPayload,
    description: 'Marks seen what was delivered at or before `until` (default: now); snoozed messages are left alone.',
    args: { input: t.arg({ type: MarkAllSeenInput }) },
    resolve: (_, { input }, ctx) => ctx.messages.markAllSeen(viewerOf(ctx), { until: input?.until ?? null, category: input?.category ?? null }),
  }),
  archive: t.field({
    type: ArchivePayload,
    description: 'Archives for the caller alone, and so marks read and seen.',
    args: { input: t.arg({ type: ArchiveInput, required: true }) },
    resolve: byIds((m, viewer, i) => m.archive(viewer, i)),
  }),
  unarchive: t.field({
    type: ArchivePayload,
    description: 'Takes out of the archive; the message stays read.',
    args: { input: t.arg({ type: ArchiveInput, required: true }) },
    resolve: byIds((m, viewer, i) => m.unarchive(viewer, i)),
  }),
  archiveAll: t.field({
    type: ArchiveAllPayload,
    description: 'Archives what was delivered at or before `until` (default: now), in `category` if given; `onlyRead`: only what is read now.',
    args: { input: t.arg({ type: ArchiveAllInput }) },
    resolve: (_, { input }, ctx) => ctx.messages.archiveAll(viewerOf(ctx), { until: input?.until ?? null, category: input?.category ?? null, onlyRead: input?.onlyRead ?? false }),
  }),
  snooze: t.field({
    type: SnoozePayload,
    description: 'Hides the messages until `until`: then they come back unread and unseen (INBOX_STORED).',
    args: { input: t.arg({ type: SnoozeInput, required: true }) },
    resolve: (root, args, ctx) => byIds((m, viewer, i) => m.snooze(viewer, i, args.input.until))(root, args, ctx),
  }),
  unsnooze: t.field({
    type: SnoozePayload,
    description: 'Wakes the messages now: unread, unseen, not archived, in their place.',
    args: { input: t.arg({ type: UnsnoozeInput, required: true }) },
    resolve: byIds((m, viewer, i) => m.unsnooze(viewer, i)),
  }),
}));
