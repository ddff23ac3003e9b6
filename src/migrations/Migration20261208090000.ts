import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks (CONTRACT.md §10, src/storage/orm/outbox.ts): the outbox each change writes its events to in
 * its own transaction. sm_webhook holds the events: `seq` orders a stream (sm_webhook_stream_idx) and,
 * with a random nonce, makes an event's id. sm_webhook_stream holds one row per stream with events: when
 * it may be claimed (sm_webhook_stream_due_idx finds the due ones) and what its current lease handed out.
 */
export class Migration20261208090000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sm_webhook" ("seq" bigserial primary key, "nonce" varchar(16) not null, "stream" varchar(255) not null, "body" json not null, "occurred_at" timestamptz not null, "attempts" int not null default 0, "delivered" text[] not null default '{}');`,
    );
    this.addSql(`create index "sm_webhook_stream_idx" on "sm_webhook" ("stream", "seq");`);
    this.addSql(
      `create table "sm_webhook_stream" ("stream" varchar(255) not null, "due_at" timestamptz not null default now(), "claimed_upto" bigint not null default 0, constraint "sm_webhook_stream_pkey" primary key ("stream"));`,
    );
    this.addSql(`create index "sm_webhook_stream_due_idx" on "sm_webhook_stream" ("due_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_webhook_stream";`);
    this.addSql(`drop table if exists "sm_webhook";`);
  }
}
