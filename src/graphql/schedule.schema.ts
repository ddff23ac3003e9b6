import type { ScheduledPage, ScheduledRecord } from '../domain/message-store.js';
import { builder } from './builder.js';
import { viewerOf } from './context.js';
import { decodeCursor, decodeMessageId, encodeCursor } from './ids.js';
import { Message, PageInfo } from './message.schema.js';

/** CONTRACT.md §9 "Scheduled delivery": the producers' list of scheduled messages and their cancellation. */

const ScheduledMessage = builder.objectRef<ScheduledRecord>('ScheduledMessage').implement({
  description: 'A message waiting for its deliverAt; its id is the one cancelScheduledMessage takes.',
  fields: (t) => ({
    message: t.field({ type: Message, description: 'As it will be delivered, with the scheduled id.', resolve: (s) => s.message }),
    deliverAt: t.field({ type: 'DateTime', resolve: (s) => s.deliverAt }),
    recipientCount: t.exposeInt('recipientCount', { description: 'The addressed users; for a broadcast, the users known when it was scheduled (a forecast).' }),
    broadcast: t.exposeBoolean('broadcast'),
  }),
});

type Edge = ScheduledPage['items'][number];

const ScheduledMessageEdge = builder.objectRef<Edge>('ScheduledMessageEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (e) => encodeCursor(e.cursor) }),
    node: t.field({ type: ScheduledMessage, resolve: (e) => e.scheduled }),
  }),
});

const ScheduledMessageConnection = builder.objectRef<ScheduledPage>('ScheduledMessageConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [ScheduledMessageEdge], resolve: (p) => p.items }),
    // Forward paging only: hasPreviousPage is false, as Relay allows for first/after.
    pageInfo: t.field({ type: PageInfo, resolve: (p) => ({ ...p, items: p.items.map((i) => ({ cursor: i.cursor, message: i.scheduled.message })), hasPreviousPage: false }) }),
    totalCount: t.exposeInt('totalCount', { description: 'Every scheduled message waiting.' }),
  }),
});

const CancelScheduledMessageInput = builder.inputType('CancelScheduledMessageInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const CancelScheduledMessagePayload = builder.simpleObject('CancelScheduledMessagePayload', {
  fields: (t) => ({
    cancelled: t.boolean({ nullable: false, description: 'False when it was already delivered (or cancelled).' }),
    message: t.field({ type: Message, nullable: false }),
  }),
});

builder.queryFields((t) => ({
  scheduledMessages: t.field({
    type: ScheduledMessageConnection,
    description: 'Producers: messages waiting for their deliverAt, soonest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (_, args, ctx) => ctx.messages.scheduledMessages(viewerOf(ctx), { first: args.first, after: decodeCursor('after', args.after) }),
  }),
}));

builder.mutationFields((t) => ({
  cancelScheduledMessage: t.field({
    type: CancelScheduledMessagePayload,
    description: 'Producers: cancel a scheduled message; cancelled is false when it was already delivered.',
    args: { input: t.arg({ type: CancelScheduledMessageInput, required: true }) },
    resolve: async (_, { input }, ctx) => {
      const viewer = viewerOf(ctx);
      const r = await ctx.messages.cancelScheduledMessage(viewer, decodeMessageId('input.id', String(input.id)));
      return { cancelled: r.cancelled, message: r.scheduled.message };
    },
  }),
}));
