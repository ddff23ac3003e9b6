import { Migration } from '@mikro-orm/migrations';

/**
 * Retraction (CONTRACT.md §9, src/storage/orm/retraction.ts). A message row says it was retracted; a
 * broadcast keeps the users known when it was sent (its retraction's recipientCount); a retracted
 * broadcast adds a marker broadcast row (`retracts` its id) that makes every user catch up once, which
 * removes it from those who have it. sm_retracted records, per user, what a retraction removed and
 * whether it was unread (live events of a retracted broadcast), until the cleanup reclaims it.
 */
export class Migration20261207200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "sm_message" add column "retracted" boolean not null default false, add column "retracts" bigint null, add column "recipient_count" int null;`);
    this.addSql(`create table "sm_retracted" ("user_id" varchar(255) not null, "message_id" bigint not null, "was_unread" boolean not null, "at" timestamptz not null default now(), constraint "sm_retracted_pkey" primary key ("user_id", "message_id"));`);
    this.addSql(`create index "sm_retracted_at_idx" on "sm_retracted" ("at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_retracted";`);
    this.addSql(`alter table "sm_message" drop column "retracted", drop column "retracts", drop column "recipient_count";`);
  }
}
