import { defineEntity, p } from '@mikro-orm/core';
import { WebhookEntity, WebhookStreamEntity } from './webhook-entity.js';

/**
 * The relational schema. Entities exist for migrations and the schema check; the hot paths run
 * hand-written SQL (see store.ts) because each operation is one or two set-based statements.
 *
 * - sm_message: one row per message, whatever the number of recipients. Its id is the delivery order.
 * - sm_delivery: one row per (recipient, message): the read state. Copies the immutable columns that
 *   filters and expiry need, so every list/count is an index scan on this table alone.
 * - sm_user: the known-users registry with exact counters kept in the same transaction as each change,
 *   and `bcast_id`, the newest broadcast already delivered to (or predating) the user: broadcasts are one
 *   sm_message row, copied into a user's deliveries on that user's next access.
 * - States: for each kind k of seen, read, archived, a delivery is k when its `k_at` is set, or when it is
 *   not snoozed and its id is at or below the user's `k_upto` watermark, which the "all" operation raises
 *   in O(1) instead of writing every row (markAllSeen: seen; markAllRead: read, seen; archiveAll: all
 *   three; so seen_upto >= read_upto >= archived_upto). Each raise leaves an sm_mark (kind, upto, at): a
 *   watermark-covered delivery's time is the `at` of the lowest mark of its kind at or above its id
 *   (sm_times, sm_mark_at), so earlier times are kept. Read implies seen: seenAt is the earliest of seen_at, read_at and the mark.
 *   Archived implies read. A snoozed delivery (`snoozed_until` set) ignores the watermarks: its states
 *   are written out when it is snoozed. Clearing one delivery's state under a watermark lowers the
 *   watermark below it first, writing the covered deliveries' times out (LOWER_UPTO).
 *   Counters: total, unread, unseen, archived count the deliveries not snoozed; snoozed the others
 *   (expired-but-unreclaimed ones included, corrected at read time by sm_expired).
 * - Categories: a delivery copies its message's category; sm_category holds the user's five counters of
 *   each category they received one in (the same rules as sm_user's, moved by the same statements), so
 *   counts(category) is O(1), and the category's three watermarks (marks in sm_category_mark): a delivery
 *   of category c is in state k when its own time is set or, not snoozed, its id is at or below the
 *   greater of the user's and c's k watermark. The "all" operations limited to c raise c's; the
 *   whole-inbox ones set each category's counters from the scan they make; LOWER_UPTO lowers both.
 * - Preferences: sm_preference rows (a category without one is enabled); a send leaves out who disabled
 *   the category, a broadcast skips them when copied (sm_message.critical overrides both).
 * - Grouping: a delivery copies the group key and holds its groupCount; sm_delivery_group_idx finds the
 *   user's unread, unsnoozed delivery of a group, which a grouped send marks read (sm_supersede_groups)
 *   under the recipients' locks.
 * - Ids and `delivered_at` are taken together while the recipients' sm_user rows are locked, so for each
 *   user they grow together: "delivered at or before T" is an id prefix, and a delivery never commits
 *   below a watermark set before it (a broadcast copied later can: the watermark is lowered first).
 */
export const UserEntity = defineEntity({
  name: 'SmUser',
  tableName: 'sm_user',
  properties: {
    id: p.string().length(255).primary(),
    knownAt: p.datetime().defaultRaw('now()'),
    unreadCount: p.integer().default(0),
    totalCount: p.integer().default(0),
    bcastId: p.bigint('string').default(0),
    readUpto: p.bigint('string').default(0),
    seenUpto: p.bigint('string').default(0),
    archivedUpto: p.bigint('string').default(0),
    unseenCount: p.integer().default(0),
    archivedCount: p.integer().default(0),
    snoozedCount: p.integer().default(0),
  },
});

export const MarkEntity = defineEntity({
  name: 'SmMark',
  tableName: 'sm_mark',
  properties: {
    userId: p.string().length(255).primary(),
    /** 'seen', 'read' or 'archived': the watermark this mark raised. */
    kind: p.string().length(8).primary(),
    upto: p.bigint('string').primary(),
    at: p.datetime(),
  },
  primaryKeys: ['userId', 'kind', 'upto'],
});

export const MessageEntity = defineEntity({
  name: 'SmMessage',
  tableName: 'sm_message',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    level: p.smallint(),
    text: p.text(),
    extraTags: p.string().length(255).default(''),
    url: p.string().length(2048).nullable(),
    data: p.json<unknown>().nullable(),
    createdAt: p.datetime(),
    deliveredAt: p.datetime().defaultRaw('clock_timestamp()'),
    expiresAt: p.datetime().nullable(),
    broadcast: p.boolean().default(false),
    category: p.string().length(64).nullable(),
    groupKey: p.string().length(255).nullable(),
    /** Copied to users who disabled the category too (broadcasts apply preferences when copied). */
    critical: p.boolean().default(false),
    /** Retracted (retraction.ts): a broadcast is copied to nobody any more. */
    retracted: p.boolean().default(false),
    /** On the marker broadcast row a broadcast's retraction adds: the retracted broadcast's id. */
    retracts: p.bigint('string').nullable(),
    /** A broadcast's known users when it was sent. */
    recipientCount: p.integer().nullable(),
  },
  indexes: [
    { name: 'sm_message_broadcast_idx', expression: 'create index "sm_message_broadcast_idx" on "sm_message" ("id") where "broadcast"' },
    { name: 'sm_message_expires_at_idx', properties: ['expiresAt'] },
  ],
});

export const DeliveryEntity = defineEntity({
  name: 'SmDelivery',
  tableName: 'sm_delivery',
  properties: {
    userId: p.string().length(255).primary(),
    message: p.manyToOne(MessageEntity).primary().deleteRule('cascade').fieldName('message_id'),
    level: p.smallint(),
    createdAt: p.datetime(),
    deliveredAt: p.datetime(),
    expiresAt: p.datetime().nullable(),
    readAt: p.datetime().nullable(),
    seenAt: p.datetime().nullable(),
    archivedAt: p.datetime().nullable(),
    snoozedUntil: p.datetime().nullable(),
    category: p.string().length(64).nullable(),
    groupKey: p.string().length(255).nullable(),
    groupCount: p.integer().default(1),
  },
  primaryKeys: ['userId', 'message'],
  indexes: [
    {
      name: 'sm_delivery_unread_idx',
      expression: 'create index "sm_delivery_unread_idx" on "sm_delivery" ("user_id", "message_id") where "read_at" is null and "snoozed_until" is null',
    },
    // Lists of a user's snoozed deliveries. Like the wake index, it holds only snoozed ones: nothing for a send to write.
    {
      name: 'sm_delivery_snoozed_idx',
      expression: 'create index "sm_delivery_snoozed_idx" on "sm_delivery" ("user_id", "message_id") where "snoozed_until" is not null',
    },
    // wakeDue: the snoozed deliveries by wake time, across users; empty of due ones is one probe.
    {
      name: 'sm_delivery_wake_idx',
      expression: 'create index "sm_delivery_wake_idx" on "sm_delivery" ("snoozed_until") where "snoozed_until" is not null',
    },
    { name: 'sm_delivery_user_expires_idx', properties: ['userId', 'expiresAt'] },
    // Lists, counts and the "all" operations of one category.
    {
      name: 'sm_delivery_category_idx',
      expression: 'create index "sm_delivery_category_idx" on "sm_delivery" ("user_id", "category", "message_id") where "category" is not null',
    },
    // A grouped send's lookup of the recipient's unread message of the group: only unread, unsnoozed grouped ones are in it.
    {
      name: 'sm_delivery_group_idx',
      expression:
        'create index "sm_delivery_group_idx" on "sm_delivery" ("user_id", "group_key", "message_id") where "group_key" is not null and "read_at" is null and "snoozed_until" is null',
    },
    // Cascaded deletes of expired messages, and the cleanup (expired messages -> their deliveries; "none left").
    // The user as second column makes it a one-row probe for a (user, message) lookup too, which the planner
    // may serve from here without walking every recipient of a message sent to many.
    { name: 'sm_delivery_message_idx', properties: ['message', 'userId'] },
  ],
});

/** The categories a user set (enabled or not); a category without a row is enabled. */
export const PreferenceEntity = defineEntity({
  name: 'SmPreference',
  tableName: 'sm_preference',
  properties: {
    userId: p.string().length(255).primary(),
    category: p.string().length(64).primary(),
    enabled: p.boolean(),
  },
  primaryKeys: ['userId', 'category'],
});

/** A user's counters of one category, as sm_user's of the whole inbox; created by the first delivery in it. */
export const CategoryEntity = defineEntity({
  name: 'SmCategory',
  tableName: 'sm_category',
  properties: {
    userId: p.string().length(255).primary(),
    category: p.string().length(64).primary(),
    totalCount: p.integer().default(0),
    unreadCount: p.integer().default(0),
    unseenCount: p.integer().default(0),
    archivedCount: p.integer().default(0),
    snoozedCount: p.integer().default(0),
    seenUpto: p.bigint('string').default(0),
    readUpto: p.bigint('string').default(0),
    archivedUpto: p.bigint('string').default(0),
  },
  primaryKeys: ['userId', 'category'],
});

/** The marks of a category's watermarks, as sm_mark's of the user's. */
export const CategoryMarkEntity = defineEntity({
  name: 'SmCategoryMark',
  tableName: 'sm_category_mark',
  properties: {
    userId: p.string().length(255).primary(),
    category: p.string().length(64).primary(),
    kind: p.string().length(8).primary(),
    upto: p.bigint('string').primary(),
    at: p.datetime(),
  },
  primaryKeys: ['userId', 'category', 'kind', 'upto'],
});

export const StatsEntity = defineEntity({
  name: 'SmStats',
  tableName: 'sm_stats',
  properties: {
    id: p.integer().primary().autoincrement(false),
    knownUsers: p.bigint('string').default(0),
  },
});

export const IdempotencyEntity = defineEntity({
  name: 'SmIdempotency',
  tableName: 'sm_idempotency',
  properties: {
    scope: p.string().length(600).primary(),
    key: p.string().length(255).primary(),
    fingerprint: p.string().length(64),
    response: p.json<unknown>().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  primaryKeys: ['scope', 'key'],
  indexes: [{ name: 'sm_idempotency_created_at_idx', properties: ['createdAt'] }],
});

/** Who runs each periodic job now (storage/orm/leases.ts): one row per job, taken over once `expires_at` passes. */
export const LeaseEntity = defineEntity({
  name: 'SmLease',
  tableName: 'sm_lease',
  properties: {
    job: p.text().primary(),
    holder: p.text(),
    expiresAt: p.datetime(),
  },
});

/**
 * A message waiting for its delivery time (schedules.ts): the NewMessage as JSON, the listed users (null
 * for a broadcast), and its state: 'pending', then 'delivered' (with the delivered message's id) or
 * 'cancelled'. Finished rows stay until the cleanup reclaims them, so a late cancel answers false.
 */
export const ScheduleEntity = defineEntity({
  name: 'SmSchedule',
  tableName: 'sm_schedule',
  properties: {
    id: p.bigint('string').primary().autoincrement(false),
    message: p.json<unknown>(),
    userIds: p.json<string[]>().nullable(),
    deliverAt: p.datetime(),
    recipientCount: p.integer(),
    state: p.string().length(9).default('pending'),
    deliveredId: p.bigint('string').nullable(),
    doneAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'sm_schedule_due_idx', expression: `create index "sm_schedule_due_idx" on "sm_schedule" ("deliver_at", "id") where "state" = 'pending'` },
    { name: 'sm_schedule_done_idx', expression: `create index "sm_schedule_done_idx" on "sm_schedule" ("done_at") where "state" <> 'pending'` },
  ],
});

/** What a retraction removed from a user's inbox, and whether it was unread then (live events of a retracted broadcast). */
export const RetractedEntity = defineEntity({
  name: 'SmRetracted',
  tableName: 'sm_retracted',
  properties: {
    userId: p.string().length(255).primary(),
    messageId: p.bigint('string').primary(),
    wasUnread: p.boolean(),
    at: p.datetime().defaultRaw('now()'),
  },
  primaryKeys: ['userId', 'messageId'],
  indexes: [{ name: 'sm_retracted_at_idx', properties: ['at'] }],
});

export const entities = [UserEntity, MarkEntity, MessageEntity, DeliveryEntity, PreferenceEntity, CategoryEntity, CategoryMarkEntity, StatsEntity, IdempotencyEntity, LeaseEntity, ScheduleEntity, RetractedEntity, WebhookEntity, WebhookStreamEntity];
