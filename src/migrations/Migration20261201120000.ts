import { Migration } from '@mikro-orm/migrations';

/**
 * sm_delivery_message_idx gains the user as second column. markRead, markUnread and delete look up a
 * user's delivery of a message, and PostgreSQL's generic plan may take this index for it: on message_id
 * alone, a message sent to many users meant a walk of all its deliveries.
 */
export class Migration20261201120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "sm_delivery_message_idx";`);
    this.addSql(`create index "sm_delivery_message_idx" on "sm_delivery" ("message_id", "user_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "sm_delivery_message_idx";`);
    this.addSql(`create index "sm_delivery_message_idx" on "sm_delivery" ("message_id");`);
  }
}
