import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks (CONTRACT.md §10, src/storage/orm/outbox.ts): the outbox each change writes its events to in
 * its own transaction. `seq` orders a stream (sm_webhook_stream_idx finds its first event); due_at is what
 * claims and retries move (sm_webhook_due_idx finds the due ones); events are looked up by their id.
 */
export class Migration20261208090000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "sm_webhook" ("seq" bigserial primary key, "id" text not null, "stream" varchar(255) not null, "body" jsonb not null, "occurred_at" timestamptz not null, "due_at" timestamptz not null default now(), "attempts" int not null default 0, "delivered" text[] not null default '{}');`,
    );
    this.addSql(`alter table "sm_webhook" add constraint "sm_webhook_id_unique" unique ("id");`);
    this.addSql(`create index "sm_webhook_stream_idx" on "sm_webhook" ("stream", "seq");`);
    this.addSql(`create index "sm_webhook_due_idx" on "sm_webhook" ("due_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_webhook";`);
  }
}
