import { Migration } from '@mikro-orm/migrations';

/**
 * Categories, preferences and grouping (entities.ts describes the model). A message keeps its category,
 * group key and whether it is critical (a broadcast applies preferences when it is copied); a delivery
 * copies category and group key, as it does level, and holds its own groupCount. Existing rows get
 * nulls and groupCount 1 (constant defaults: no row is rewritten). sm_category holds a user's counters of
 * one category, kept beside sm_user's by every statement that changes a delivery's state.
 */
export class Migration20261207150000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sm_message" add column "category" varchar(64) null, add column "group_key" varchar(255) null, add column "critical" boolean not null default false;`);
    this.addSql(`alter table "sm_delivery" add column "category" varchar(64) null, add column "group_key" varchar(255) null, add column "group_count" int not null default 1;`);
    this.addSql(`create index "sm_delivery_category_idx" on "sm_delivery" ("user_id", "category", "message_id") where "category" is not null;`);
    this.addSql(`create index "sm_delivery_group_idx" on "sm_delivery" ("user_id", "group_key", "message_id") where "group_key" is not null and "read_at" is null and "snoozed_until" is null;`);
    this.addSql(`create table "sm_preference" ("user_id" varchar(255) not null, "category" varchar(64) not null, "enabled" boolean not null, constraint "sm_preference_pkey" primary key ("user_id", "category"));`);
    this.addSql(SM_SUPERSEDE);
    this.addSql(`create table "sm_category" ("user_id" varchar(255) not null, "category" varchar(64) not null, "total_count" int not null default 0, "unread_count" int not null default 0, "unseen_count" int not null default 0, "archived_count" int not null default 0, "snoozed_count" int not null default 0, constraint "sm_category_pkey" primary key ("user_id", "category"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists sm_supersede(text, bigint);`);
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
const SM_SUPERSEDE = `
create or replace function sm_supersede(p_user text, p_message bigint)
returns boolean
language sql volatile as $$
  with upd as (
    update sm_delivery set read_at = now() where user_id = p_user and message_id = p_message and read_at is null returning 1
  )
  select exists (select 1 from upd)
$$;`;
