import type { MessageRecord } from '../domain/message.js';
import type { MessageInput } from '../domain/messages.js';
import { builder } from './builder.js';
import { viewerOf } from './context.js';
import { withGlobalIds } from './ids.js';
import { Message, MessageLevel } from './message.schema.js';

// Inputs -----------------------------------------------------------------------------------------

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

/** CONTRACT.md §9's fields of every send input. */
const sendFields = (t: InputFields, groupKey = '1 to 255 characters: an unread message of the same group is marked read and counted into this one (groupCount).') => ({
  category: t.string({ description: '1 to 64 characters of a-z 0-9 . _ -: users who disabled it get nothing unless `critical`.' }),
  critical: t.boolean({ description: 'Delivered even to users who disabled the category.' }),
  groupKey: t.string({ description: groupKey }),
});

const AddMessageInput = builder.inputType('AddMessageInput', {
  fields: (t) => ({
    ...sendFields(t),
    level: t.field({ type: MessageLevel, required: true }),
    text: t.string({ required: true }),
    extraTags: t.string(),
    url: t.string(),
    data: t.field({ type: 'JSON' }),
    expiresAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
  }),
});

const AddMessageForInput = builder.inputType('AddMessageForInput', {
  fields: (t) => ({
    ...sendFields(t),
    userIds: t.idList({ required: true }),
    level: t.field({ type: MessageLevel, required: true }),
    text: t.string({ required: true }),
    extraTags: t.string(),
    url: t.string(),
    data: t.field({ type: 'JSON' }),
    date: t.field({ type: 'DateTime' }),
    expiresAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    deliverAt: t.field({ type: 'DateTime', description: 'Deliver then instead of now: in the future, at most 365 days ahead.' }),
  }),
});

const BroadcastMessageInput = builder.inputType('BroadcastMessageInput', {
  fields: (t) => ({
    ...sendFields(t, 'Not on a broadcast (BAD_USER_INPUT): grouping is per recipient.'),
    level: t.field({ type: MessageLevel, required: true }),
    text: t.string({ required: true }),
    extraTags: t.string(),
    url: t.string(),
    data: t.field({ type: 'JSON' }),
    date: t.field({ type: 'DateTime' }),
    expiresAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    deliverAt: t.field({ type: 'DateTime', description: 'Deliver then instead of now: in the future, at most 365 days ahead.' }),
  }),
});

const MarkReadInput = builder.inputType('MarkReadInput', {
  fields: (t) => ({ ids: t.idList({ required: true }) }),
});

const MarkAllReadInput = builder.inputType('MarkAllReadInput', {
  fields: (t) => ({
    until: t.field({ type: 'DateTime', description: 'Only messages delivered at or before this instant; default: the time of the request.' }),
    category: t.string({ description: 'Only messages of this category.' }),
  }),
});

const DeleteMessagesInput = builder.inputType('DeleteMessagesInput', {
  fields: (t) => ({ ids: t.idList({ required: true }) }),
});

// Payloads ---------------------------------------------------------------------------------------

const AddMessagePayload = builder.simpleObject('AddMessagePayload', {
  fields: (t) => ({ message: t.field({ type: Message, nullable: false }), stored: t.boolean({ nullable: false }) }),
});

const AddMessageForPayload = builder.simpleObject('AddMessageForPayload', {
  fields: (t) => ({ message: t.field({ type: Message, nullable: false }), recipientCount: t.int({ nullable: false }) }),
});

const BroadcastMessagePayload = builder.simpleObject('BroadcastMessagePayload', {
  fields: (t) => ({ message: t.field({ type: Message, nullable: false }), recipientCount: t.int({ nullable: false }) }),
});

interface MarkReadShape {
  count: number;
  messages: MessageRecord[];
  notFound: string[];
  unreadCount: number;
}

/** notFound echoes the ids the caller sent, exactly as sent. */
const MarkReadPayload = builder.objectRef<MarkReadShape>('MarkReadPayload').implement({
  fields: (t) => ({
    count: t.exposeInt('count', { description: 'How many changed state.' }),
    messages: t.field({ type: [Message], resolve: (p) => p.messages }),
    notFound: t.exposeIDList('notFound'),
    unreadCount: t.exposeInt('unreadCount'),
  }),
});

const MarkAllReadPayload = builder.simpleObject('MarkAllReadPayload', {
  fields: (t) => ({ count: t.int({ nullable: false }), unreadCount: t.int({ nullable: false }) }),
});

const DeleteMessagesPayload = builder.simpleObject('DeleteMessagesPayload', {
  fields: (t) => ({ count: t.int({ nullable: false }), notFound: t.idList({ nullable: false }), unreadCount: t.int({ nullable: false }) }),
});

const ConsumeMessagesPayload = builder.simpleObject('ConsumeMessagesPayload', {
  fields: (t) => ({ messages: t.field({ type: [Message], nullable: false }), unreadCount: t.int({ nullable: false }) }),
});

// Helpers ----------------------------------------------------------------------------------------

type RawInput = { [K in keyof MessageInput]?: MessageInput[K] | null } & Pick<MessageInput, 'level' | 'text'>;

/** Absent fields as null: the one shape the use cases (and idempotency fingerprints) get, from GraphQL or the library. */
export const toInput = (i: RawInput): MessageInput => ({
  level: i.level,
  text: i.text,
  extraTags: i.extraTags ?? null,
  url: i.url ?? null,
  data: i.data ?? null,
  date: i.date ?? null,
  expiresAt: i.expiresAt ?? null,
  idempotencyKey: i.idempotencyKey ?? null,
  // Left out when absent, so a request without them keeps the idempotency fingerprint it had before they existed.
  category: i.category ?? undefined,
  critical: i.critical || undefined,
  groupKey: i.groupKey ?? undefined,
  deliverAt: i.deliverAt ?? undefined,
});

// Mutations --------------------------------------------------------------------------------------

builder.mutationType({
  fields: (t) => ({
    addMessage: t.field({
      type: AddMessagePayload,
      description: "Django's messages.add_message for the caller: stored when the level is in STORE_LEVELS, else a flash message.",
      args: { input: t.arg({ type: AddMessageInput, required: true }) },
      resolve: (_, { input }, ctx) => ctx.messages.addMessage(viewerOf(ctx), toInput(input)),
    }),
    addMessageFor: t.field({
      type: AddMessageForPayload,
      description: 'add_message_for: store one message for each listed user (scope messages:send).',
      args: { input: t.arg({ type: AddMessageForInput, required: true }) },
      resolve: (_, { input }, ctx) => ctx.messages.addMessageFor(viewerOf(ctx), { ...toInput(input), userIds: input.userIds.map(String) }),
    }),
    broadcastMessage: t.field({
      type: BroadcastMessagePayload,
      description: 'broadcast_message: store one message for every known user (scope messages:send).',
      args: { input: t.arg({ type: BroadcastMessageInput, required: true }) },
      resolve: (_, { input }, ctx) => ctx.messages.broadcastMessage(viewerOf(ctx), toInput(input)),
    }),
    markRead: t.field({
      type: MarkReadPayload,
      args: { input: t.arg({ type: MarkReadInput, required: true }) },
      resolve: (_, { input }, ctx) => {
        const viewer = viewerOf(ctx);
        return withGlobalIds(input.ids.map(String), (ids) => ctx.messages.markRead(viewer, ids));
      },
    }),
    markUnread: t.field({
      type: MarkReadPayload,
      args: { input: t.arg({ type: MarkReadInput, required: true }) },
      resolve: (_, { input }, ctx) => {
        const viewer = viewerOf(ctx);
        return withGlobalIds(input.ids.map(String), (ids) => ctx.messages.markUnread(viewer, ids));
      },
    }),
    markAllRead: t.field({
      type: MarkAllReadPayload,
      args: { input: t.arg({ type: MarkAllReadInput }) },
      resolve: (_, { input }, ctx) => ctx.messages.markAllRead(viewerOf(ctx), { until: input?.until ?? null, category: input?.category ?? null }),
    }),
    deleteMessages: t.field({
      type: DeleteMessagesPayload,
      args: { input: t.arg({ type: DeleteMessagesInput, required: true }) },
      resolve: (_, { input }, ctx) => {
        const viewer = viewerOf(ctx);
        return withGlobalIds(input.ids.map(String), (ids) => ctx.messages.deleteMessages(viewer, ids));
      },
    }),
    consumeMessages: t.field({
      type: ConsumeMessagesPayload,
      description: "Iterating Django's storage: returns what pendingMessages would, drops those flash messages, marks exactly those stored messages read.",
      resolve: (_, __, ctx) => ctx.messages.consume(viewerOf(ctx)),
    }),
  }),
});
