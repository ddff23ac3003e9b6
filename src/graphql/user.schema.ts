import type { Viewer } from '../domain/messages.js';
import { builder } from './builder.js';
import { viewerOf } from './context.js';
import { InboxCounts } from './inbox-states.schema.js';
import { archiveArgs, archivePage, inboxArgs, inboxPage, MessageConnection } from './message.schema.js';

/**
 * CONTRACT.md §13: a user as other subgraphs know them (by id), carrying what this server knows of
 * them. Reachable only through federation's `_entities`, and only as the caller: the parent is the
 * authenticated viewer itself, so every field reads the caller's own inbox.
 */
export const User = builder.objectRef<Viewer>('User').implement({
  description: 'The caller, as other subgraphs name them: their stored messages and counts.',
  fields: (t) => ({
    id: t.exposeID('id'),
    unreadCount: t.int({ resolve: (user, _, ctx) => ctx.messages.unreadCount(user) }),
    unseenCount: t.int({ description: 'What a badge shows (issue 22).', resolve: (user, _, ctx) => ctx.messages.unseenCount(user) }),
    counts: t.field({
      type: InboxCounts,
      description: 'Exact counts, for the whole inbox or one category.',
      args: { category: t.arg.string() },
      resolve: (user, { category }, ctx) => ctx.messages.counts(user, category),
    }),
    messages: t.field({
      type: MessageConnection,
      description: 'Every stored message delivered to this user, read or not, newest first.',
      args: archiveArgs,
      resolve: (user, args, ctx) => archivePage(ctx, user, args),
    }),
    unreadMessages: t.field({
      type: MessageConnection,
      description: 'Stored messages not yet read by this user, newest first.',
      args: inboxArgs,
      resolve: (user, args, ctx) => inboxPage(ctx, user, args),
    }),
  }),
});

builder.asEntity(User, {
  key: builder.selection<{ id: string }>('id'),
  // Another user's inbox is theirs alone: the entity exists only for the caller. A copy, since
  // @apollo/subgraph tags the returned object with its __typename.
  resolveReference: (ref, ctx) => {
    const viewer = viewerOf(ctx);
    return ref.id === viewer.id ? { ...viewer } : null;
  },
});
