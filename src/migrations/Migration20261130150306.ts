import { Migration } from '@mikro-orm/migrations';

/**
 * The per-user read watermark (see entities.ts): mark-all-read raises `sm_user.read_upto` and records
 * one `sm_read_mark` instead of writing every unread delivery. Delivery times are taken with the id
 * (clock_timestamp, not the transaction's start), so each user's deliveries grow in id and time together.
 */
export class Migration20261130150306 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "sm_read_mark" ("user_id" varchar(255) not null, "upto" bigint not null, "at" timestamptz not null, constraint "sm_read_mark_pkey" primary key ("user_id", "upto"));`);
    this.addSql(`alter table "sm_message" alter column "delivered_at" set default clock_timestamp();`);
    this.addSql(`alter table "sm_user" add column "read_upto" bigint not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_read_mark" cascade;`);
    this.addSql(`alter table "sm_message" alter column "delivered_at" set default now();`);
    this.addSql(`alter table "sm_user" drop column "read_upto";`);
  }
}
