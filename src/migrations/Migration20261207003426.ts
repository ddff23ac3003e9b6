import { Migration } from '@mikro-orm/migrations';

/** sm_lease: which instance runs each periodic job (storage/orm/leases.ts), so several instances run it once. */
export class Migration20261207003426 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "sm_lease" ("job" text not null, "holder" text not null, "expires_at" timestamptz not null, constraint "sm_lease_pkey" primary key ("job"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "sm_lease" cascade;`);
  }
}
