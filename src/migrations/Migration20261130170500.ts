import { Migration } from '@mikro-orm/migrations';

/**
 * The cleanup finds expired deliveries through their messages (sm_message's expires_at index), so the
 * global expires_at index on sm_delivery goes: one index entry less for every delivery written.
 */
export class Migration20261130170500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "sm_delivery_expires_idx";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index "sm_delivery_expires_idx" on "sm_delivery" ("expires_at");`);
  }
}
