import { Migration } from '@mikro-orm/migrations';

/**
 * Scheduled messages (CONTRACT.md §9, entities.ts's sm_schedule). Their ids come from sm_message's
 * sequence, so a scheduled id is never a delivered message's. Two partial indexes: the due ones by time
 * (deliverDue, the producers' list) and the finished ones by when they finished (the cleanup).
 */
export class Migration20261207180000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "sm_schedule" ("id" bigint not null, "message" jsonb not null, "user_ids" jsonb null, "deliver_at" timestamptz not null, "recipient_count" int not null, "state" varchar(9) not null default 'pending', "delivered_id" bigint null, "done_at" timestamptz null, constraint "sm_schedule_pkey" primary key ("id"));`);
    this.addSql(`create index "sm_schedule_due_idx" on "sm_schedule" ("deliver_at", "id") where "state" = 'pending';`);
    this.addSql(`create index "sm_schedule_done_idx" on "sm_schedule" ("done_at") where "state" <> 'pending';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_schedule" cascade;`);
  }
}
