import { Migration } from '@mikro-orm/migrations';

export class Migration20261130122528 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "sm_idempotency" ("scope" varchar(600) not null, "key" varchar(255) not null, "fingerprint" varchar(64) not null, "response" jsonb null, "created_at" timestamptz not null default now(), constraint "sm_idempotency_pkey" primary key ("scope", "key"));`);
    this.addSql(`create index "sm_idempotency_created_at_idx" on "sm_idempotency" ("created_at");`);

    this.addSql(`create table "sm_message" ("id" bigserial primary key, "level" smallint not null, "text" text not null, "extra_tags" varchar(255) not null default '', "url" varchar(2048) null, "data" jsonb null, "created_at" timestamptz not null, "delivered_at" timestamptz not null default now(), "expires_at" timestamptz null, "broadcast" boolean not null default false);`);
    this.addSql(`create index "sm_message_broadcast_idx" on "sm_message" ("id") where "broadcast";`);
    this.addSql(`create index "sm_message_expires_at_idx" on "sm_message" ("expires_at");`);

    this.addSql(`create table "sm_delivery" ("user_id" varchar(255) not null, "message_id" bigint not null, "level" smallint not null, "created_at" timestamptz not null, "delivered_at" timestamptz not null, "expires_at" timestamptz null, "read_at" timestamptz null, constraint "sm_delivery_pkey" primary key ("user_id", "message_id"));`);
    this.addSql(`create index "sm_delivery_unread_idx" on "sm_delivery" ("user_id", "message_id") where "read_at" is null;`);
    this.addSql(`create index "sm_delivery_user_expires_idx" on "sm_delivery" ("user_id", "expires_at");`);
    this.addSql(`create index "sm_delivery_expires_idx" on "sm_delivery" ("expires_at");`);
    this.addSql(`create index "sm_delivery_message_idx" on "sm_delivery" ("message_id");`);

    this.addSql(`create table "sm_stats" ("id" int not null, "known_users" bigint not null default 0, constraint "sm_stats_pkey" primary key ("id"));`);

    this.addSql(`create table "sm_user" ("id" varchar(255) not null, "known_at" timestamptz not null default now(), "unread_count" int not null default 0, "total_count" int not null default 0, "bcast_id" bigint not null default 0, constraint "sm_user_pkey" primary key ("id"));`);

    // The one row of global counters (known users), so a broadcast never counts users.
    this.addSql(`insert into "sm_stats" ("id", "known_users") values (1, 0);`);

    this.addSql(`alter table "sm_delivery" add constraint "sm_delivery_message_id_foreign" foreign key ("message_id") references "sm_message" ("id") on update cascade on delete cascade;`);
  }

}
