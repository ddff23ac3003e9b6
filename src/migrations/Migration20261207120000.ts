import { Migration } from '@mikro-orm/migrations';

/**
 * Inbox states (seen, archived, snoozed; entities.ts describes the model). The read watermark becomes
 * one of three, each with its marks in sm_mark (sm_read_mark with a kind). Existing data: every message
 * read is seen (seen_upto starts at read_upto, with copies of the read marks; an explicitly read delivery
 * is seen through its read_at), so unseen = unread; nothing is archived or snoozed. No delivery row is
 * rewritten: the new columns are null.
 */
export class Migration20261207120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sm_user" add column "seen_upto" bigint not null default 0, add column "archived_upto" bigint not null default 0, add column "unseen_count" int not null default 0, add column "archived_count" int not null default 0, add column "snoozed_count" int not null default 0;`);
    this.addSql(`update "sm_user" set "seen_upto" = "read_upto", "unseen_count" = "unread_count";`);
    this.addSql(`alter table "sm_delivery" add column "seen_at" timestamptz null, add column "archived_at" timestamptz null, add column "snoozed_until" timestamptz null;`);
    this.addSql(`alter table "sm_read_mark" rename to "sm_mark";`);
    this.addSql(`alter table "sm_mark" rename constraint "sm_read_mark_pkey" to "sm_mark_pkey";`);
    this.addSql(`alter table "sm_mark" add column "kind" varchar(8) not null default 'read';`);
    this.addSql(`alter table "sm_mark" alter column "kind" drop default;`);
    this.addSql(`alter table "sm_mark" drop constraint "sm_mark_pkey", add constraint "sm_mark_pkey" primary key ("user_id", "kind", "upto");`);
    this.addSql(`insert into "sm_mark" ("user_id", "kind", "upto", "at") select "user_id", 'seen', "upto", "at" from "sm_mark" where "kind" = 'read';`);
    this.addSql(`drop index if exists "sm_delivery_unread_idx";`);
    this.addSql(`create index "sm_delivery_unread_idx" on "sm_delivery" ("user_id", "message_id") where "read_at" is null and "snoozed_until" is null;`);
    this.addSql(`create index "sm_delivery_wake_idx" on "sm_delivery" ("snoozed_until") where "snoozed_until" is not null;`);
    this.addSql(`create index "sm_delivery_snoozed_idx" on "sm_delivery" ("user_id", "message_id") where "snoozed_until" is not null;`);
    this.addSql(SM_EXPIRED);
    this.addSql(SM_MARK_AT);
    this.addSql(SM_TIMES);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists sm_times(sm_delivery, bigint, bigint, bigint);`);
    this.addSql(`drop function if exists sm_expired(text, bigint, bigint, bigint);`);
    this.addSql(`drop function if exists sm_mark_at(text, text, bigint);`);
    this.addSql(`drop index if exists "sm_delivery_snoozed_idx";`);
    this.addSql(`drop index if exists "sm_delivery_wake_idx";`);
    this.addSql(`drop index if exists "sm_delivery_unread_idx";`);
    this.addSql(`create index "sm_delivery_unread_idx" on "sm_delivery" ("user_id", "message_id") where "read_at" is null;`);
    this.addSql(`delete from "sm_mark" where "kind" <> 'read';`);
    this.addSql(`alter table "sm_mark" drop constraint "sm_mark_pkey", add constraint "sm_read_mark_pkey" primary key ("user_id", "upto");`);
    this.addSql(`alter table "sm_mark" drop column "kind";`);
    this.addSql(`alter table "sm_mark" rename to "sm_read_mark";`);
    this.addSql(`alter table "sm_delivery" drop column "seen_at", drop column "archived_at", drop column "snoozed_until";`);
    this.addSql(`alter table "sm_user" drop column "seen_upto", drop column "archived_upto", drop column "unseen_count", drop column "archived_count", drop column "snoozed_count";`);
  }
}

/**
 * What a user's counters still hold of deliveries that expired and await the cleanup, by state, given the
 * user's watermarks: every exact count subtracts it. Through the (user_id, expires_at) index, a range that
 * is empty while the cleanup keeps up; fenced (OFFSET 0) and ordered by expires_at so the planner keeps to
 * that index whatever its statistics say. A SQL function PostgreSQL inlines into each statement using it.
 */
export const SM_EXPIRED = `
create or replace function sm_expired(p_user text, p_seen_upto bigint, p_read_upto bigint, p_archived_upto bigint)
returns table (total int, unread int, unseen int, archived int, snoozed int)
language sql stable as $$
  select (count(*) filter (where e.snoozed_until is null))::int,
         (count(*) filter (where e.snoozed_until is null and e.read_at is null and e.message_id > p_read_upto))::int,
         (count(*) filter (where e.snoozed_until is null and e.seen_at is null and e.read_at is null and e.message_id > p_seen_upto))::int,
         (count(*) filter (where e.snoozed_until is null and (e.archived_at is not null or e.message_id <= p_archived_upto)))::int,
         (count(*) filter (where e.snoozed_until is not null))::int
  from (
    select e.read_at, e.seen_at, e.archived_at, e.snoozed_until, e.message_id from sm_delivery e
    where e.user_id = p_user and e.expires_at <= now() order by e.expires_at offset 0
  ) e
$$;`;

/** The time of the "all" operation whose watermark of `p_kind` first covered a delivery: the lowest mark at or above its id. */
const SM_MARK_AT = `
create or replace function sm_mark_at(p_user text, p_kind text, p_id bigint)
returns timestamptz
language sql stable as $$
  select k.at from sm_mark k where k.user_id = p_user and k.kind = p_kind and k.upto >= p_id order by k.upto limit 1
$$;`;

/**
 * A delivery's readAt, seenAt and archivedAt, given its user's watermarks: its own times, else the time of
 * the mark that covered it (not while snoozed: a snoozed delivery ignores the watermarks). Read implies
 * seen, so seenAt is the earliest of its seen time, its read time and the seen mark covering it. One
 * SELECT without FROM, so PostgreSQL inlines it where its arguments are plain columns (not subqueries).
 */
export const SM_TIMES = `
create or replace function sm_times(d sm_delivery, p_seen_upto bigint, p_read_upto bigint, p_archived_upto bigint)
returns table (read_at timestamptz, seen_at timestamptz, archived_at timestamptz)
language sql stable as $$
  select coalesce(d.read_at, case when d.snoozed_until is null and d.message_id <= p_read_upto then (
           select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'read' and k.upto >= d.message_id order by k.upto limit 1) end),
         least(d.seen_at, d.read_at, case when d.snoozed_until is null and d.message_id <= p_seen_upto then (
           select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'seen' and k.upto >= d.message_id order by k.upto limit 1) end),
         coalesce(d.archived_at, case when d.snoozed_until is null and d.message_id <= p_archived_upto then (
           select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'archived' and k.upto >= d.message_id order by k.upto limit 1) end)
$$;`;
