import { Migration } from '@mikro-orm/migrations';
import { SM_EXPIRED as SM_EXPIRED_BEFORE, SM_TIMES as SM_TIMES_BEFORE } from './Migration20261207120000.js';

/**
 * Categories, preferences and grouping (entities.ts describes the model). A message keeps its category,
 * group key and whether it is critical (a broadcast applies preferences when it is copied); a delivery
 * copies category and group key, as it does level, and holds its own groupCount. Existing rows get
 * nulls and groupCount 1 (constant defaults: no row is rewritten). sm_category holds a user's counters and
 * watermarks of one category (sm_category_mark its marks), kept beside sm_user's: sm_times and sm_expired
 * now read a delivery's state under both.
 */
export class Migration20261207150000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sm_message" add column "category" varchar(64) null, add column "group_key" varchar(255) null, add column "critical" boolean not null default false;`);
    this.addSql(`alter table "sm_delivery" add column "category" varchar(64) null, add column "group_key" varchar(255) null, add column "group_count" int not null default 1;`);
    this.addSql(`create index "sm_delivery_category_idx" on "sm_delivery" ("user_id", "category", "message_id") where "category" is not null;`);
    this.addSql(`create index "sm_delivery_group_idx" on "sm_delivery" ("user_id", "group_key", "message_id") where "group_key" is not null and "read_at" is null and "snoozed_until" is null;`);
    this.addSql(`create table "sm_preference" ("user_id" varchar(255) not null, "category" varchar(64) not null, "enabled" boolean not null, constraint "sm_preference_pkey" primary key ("user_id", "category"));`);
    this.addSql(SM_SUPERSEDE);
    this.addSql(`create table "sm_category" ("user_id" varchar(255) not null, "category" varchar(64) not null, "total_count" int not null default 0, "unread_count" int not null default 0, "unseen_count" int not null default 0, "archived_count" int not null default 0, "snoozed_count" int not null default 0, "seen_upto" bigint not null default 0, "read_upto" bigint not null default 0, "archived_upto" bigint not null default 0, constraint "sm_category_pkey" primary key ("user_id", "category"));`);
    this.addSql(`create table "sm_category_mark" ("user_id" varchar(255) not null, "category" varchar(64) not null, "kind" varchar(8) not null, "upto" bigint not null, "at" timestamptz not null, constraint "sm_category_mark_pkey" primary key ("user_id", "category", "kind", "upto"));`);
    this.addSql(SM_CAT_UPTO);
    this.addSql(SM_CATEGORY_MARK_AT);
    this.addSql(SM_TIMES);
    this.addSql(SM_EXPIRED);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists sm_supersede(text, bigint);`);
    this.addSql(SM_TIMES_BEFORE);
    this.addSql(SM_EXPIRED_BEFORE);
    this.addSql(`drop function if exists sm_cat_upto(text, text, text);`);
    this.addSql(`drop function if exists sm_category_mark_at(text, text, text, bigint);`);
    this.addSql(`drop table if exists "sm_category_mark";`);
    this.addSql(`drop table if exists "sm_category";`);
    this.addSql(`drop table if exists "sm_preference";`);
    this.addSql(`drop index if exists "sm_delivery_group_idx";`);
    this.addSql(`drop index if exists "sm_delivery_category_idx";`);
    this.addSql(`alter table "sm_delivery" drop column "category", drop column "group_key", drop column "group_count";`);
    this.addSql(`alter table "sm_message" drop column "category", drop column "group_key", drop column "critical";`);
  }
}

/**
 * Marks one delivery read, by both columns of its primary key: a grouped send calls it for each
 * recipient's superseded delivery, so each is one probe of the primary key whatever plan the calling
 * statement has (a join of sm_delivery with the looked-up rows could be planned as a scan of the table).
 * Answers whether it changed the row.
 */
export const SM_SUPERSEDE = `
create or replace function sm_supersede(p_user text, p_message bigint)
returns boolean
language sql volatile as $$
  with upd as (
    update sm_delivery set read_at = now() where user_id = p_user and message_id = p_message and read_at is null returning 1
  )
  select exists (select 1 from upd)
$$;`;

/** A user's `p_kind` watermark of one category (0 without a category, or before its first "all" operation). */
export const SM_CAT_UPTO = `
create or replace function sm_cat_upto(p_user text, p_category text, p_kind text)
returns bigint
language sql stable as $$
  select coalesce((
    select case p_kind when 'seen' then c.seen_upto when 'read' then c.read_upto else c.archived_upto end
    from sm_category c where c.user_id = p_user and c.category = p_category
  ), 0)
$$;`;

/**
 * sm_times (Migration20261207120000) under the category watermarks too: a delivery's state time is its
 * own, else the earliest of the user's mark and its category's mark covering it.
 */
const SM_TIMES = `
create or replace function sm_times(d sm_delivery, p_seen_upto bigint, p_read_upto bigint, p_archived_upto bigint)
returns table (read_at timestamptz, seen_at timestamptz, archived_at timestamptz)
language sql stable as $$
  select coalesce(d.read_at, case when d.snoozed_until is null then least(
           case when d.message_id <= p_read_upto then (
             select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'read' and k.upto >= d.message_id order by k.upto limit 1) end,
           case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'read') then (
             select k.at from sm_category_mark k where k.user_id = d.user_id and k.category = d.category and k.kind = 'read' and k.upto >= d.message_id order by k.upto limit 1) end) end),
         least(d.seen_at, d.read_at, case when d.snoozed_until is null then least(
           case when d.message_id <= p_seen_upto then (
             select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'seen' and k.upto >= d.message_id order by k.upto limit 1) end,
           case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'seen') then (
             select k.at from sm_category_mark k where k.user_id = d.user_id and k.category = d.category and k.kind = 'seen' and k.upto >= d.message_id order by k.upto limit 1) end) end),
         coalesce(d.archived_at, case when d.snoozed_until is null then least(
           case when d.message_id <= p_archived_upto then (
             select k.at from sm_mark k where k.user_id = d.user_id and k.kind = 'archived' and k.upto >= d.message_id order by k.upto limit 1) end,
           case when d.category is not null and d.message_id <= sm_cat_upto(d.user_id, d.category, 'archived') then (
             select k.at from sm_category_mark k where k.user_id = d.user_id and k.category = d.category and k.kind = 'archived' and k.upto >= d.message_id order by k.upto limit 1) end) end)
$$;`;

/** sm_expired (Migration20261207120000) judging each expired delivery under its category's watermarks too. */
const SM_EXPIRED = `
create or replace function sm_expired(p_user text, p_seen_upto bigint, p_read_upto bigint, p_archived_upto bigint)
returns table (total int, unread int, unseen int, archived int, snoozed int)
language sql stable as $$
  select (count(*) filter (where e.snoozed_until is null))::int,
         (count(*) filter (where e.snoozed_until is null and e.read_at is null and e.message_id > greatest(p_read_upto, sm_cat_upto(p_user, e.category, 'read'))))::int,
         (count(*) filter (where e.snoozed_until is null and e.seen_at is null and e.read_at is null and e.message_id > greatest(p_seen_upto, sm_cat_upto(p_user, e.category, 'seen'))))::int,
         (count(*) filter (where e.snoozed_until is null and (e.archived_at is not null or e.message_id <= greatest(p_archived_upto, sm_cat_upto(p_user, e.category, 'archived')))))::int,
         (count(*) filter (where e.snoozed_until is not null))::int
  from (
    select e.read_at, e.seen_at, e.archived_at, e.snoozed_until, e.message_id, e.category from sm_delivery e
    where e.user_id = p_user and e.expires_at <= now() order by e.expires_at offset 0
  ) e
$$;`;

/** As sm_mark_at, of a category's marks: the time of the category's "all" operation whose watermark first covered a delivery. */
const SM_CATEGORY_MARK_AT = `
create or replace function sm_category_mark_at(p_user text, p_category text, p_kind text, p_id bigint)
returns timestamptz
language sql stable as $$
  select k.at from sm_category_mark k
  where k.user_id = p_user and k.category = p_category and k.kind = p_kind and k.upto >= p_id order by k.upto limit 1
$$;`;
