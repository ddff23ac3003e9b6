import { unauthenticated } from '../domain/errors.js';
import type { LiveInboxEvent, LiveItem } from '../domain/live.js';
import { SIGNAL_NAMES } from '../domain/signals.js';
import { builder } from './builder.js';
import { viewerOf, type GraphQLContext } from './context.js';
import { encodeMessageId } from './ids.js';
import { Message } from './message.schema.js';

export const InboxSignal = builder.enumType('InboxSignal', {
  description:
    "The original's signals, plus ARCHIVE_DELETED, the inbox states' (INBOX_SEEN, INBOX_ARCHIVED, INBOX_UNARCHIVED, INBOX_SNOOZED), and RESYNC: the events after your cursor are no longer kept, so reload what you show.",
  values: [...SIGNAL_NAMES, 'RESYNC'] as const,
});

const InboxEvent = builder.objectRef<LiveInboxEvent>('InboxEvent').implement({
  description: 'One signal about the caller\'s messages, after it was committed.',
  fields: (t) => ({
    signal: t.field({ type: InboxSignal, resolve: (e) => e.signal }),
    message: t.field({ type: Message, nullable: true, description: 'The message for *_STORED; null otherwise.', resolve: (e) => e.message }),
    messageIds: t.idList({
      description: 'The messages the signal is about ([] for RESYNC and for the "all" operations: markAllRead, markAllSeen, archiveAll).',
      resolve: (e) => e.messageIds.map((id) => encodeMessageId(id, true)),
    }),
    unreadCount: t.exposeInt('unreadCount', { description: "The caller's unread count after this event." }),
    unseenCount: t.exposeInt('unseenCount', { description: "The caller's unseen count after this event (the badge)." }),
    until: t.field({ type: 'DateTime', nullable: true, description: 'For markAllRead, markAllSeen and archiveAll: the cut-off used.', resolve: (e) => e.until }),
    category: t.exposeString('category', { nullable: true, description: 'For those three when limited to a category.' }),
    cursor: t.exposeString('cursor', { description: 'Pass to inboxEvents(after:) to resume after this event.' }),
  }),
});

/** Over SSE the request's signal tells when the client went away (Yoga may never consume a stream whose client left while it started). */
const signalOf = (ctx: GraphQLContext) => (ctx as GraphQLContext & { request?: Request }).request?.signal;

/** The feed ends with `expired` when the token does: the client gets UNAUTHENTICATED and reconnects with a fresh one. */
function unwrap<K extends 'event' | 'message'>(item: LiveItem, kind: K): Extract<LiveItem, { kind: K }> {
  if (item.kind === 'expired') throw unauthenticated('token expired');
  if (item.kind !== kind) throw new Error(`unexpected ${item.kind} in a ${kind} feed`);
  return item as Extract<LiveItem, { kind: K }>;
}

builder.subscriptionType({
  fields: (t) => ({
    messageAdded: t.field({
      type: Message,
      description: 'Every new message for the caller, stored or flash, as it arrives.',
      subscribe: async (_root, _args, ctx) => ctx.live.open({ viewer: viewerOf(ctx), mode: 'messages', expiresAt: ctx.auth?.expiresAt ?? null, signal: signalOf(ctx) }),
      resolve: (item: LiveItem) => unwrap(item, 'message').message,
    }),
    inboxEvents: t.field({
      type: InboxEvent,
      description: 'Every signal about the caller\'s messages, in order; with `after`, first replays what was missed.',
      args: { after: t.arg.string() },
      subscribe: async (_root, args, ctx) =>
        ctx.live.open({ viewer: viewerOf(ctx), mode: 'events', after: args.after, expiresAt: ctx.auth?.expiresAt ?? null, signal: signalOf(ctx) }),
      resolve: (item: LiveItem) => unwrap(item, 'event').event,
    }),
  }),
});

builder.queryFields((t) => ({
  inboxCursor: t.string({
    description:
      "Where the caller's events stand now: ask for it, then load what you show, then subscribe with inboxEvents(after:) set to it, and no event committed in between is missed.",
    resolve: (_root, _args, ctx) => ctx.live.cursor(viewerOf(ctx)),
  }),
}));
