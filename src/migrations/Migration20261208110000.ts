import { Migration } from '@mikro-orm/migrations';
import { SM_SUPERSEDE } from './Migration20261207150000.js';

/**
 * Grouped sends in one statement (SEND, src/storage/orm/sql/send.ts): sm_supersede_groups marks read, for
 * each (user, group key) of a send, the user's unread message of that group, after SEND has locked its
 * recipients. sm_supersede (one delivery by its key, called per recipient) is no longer used.
 */
export class Migration20261208110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SM_SUPERSEDE_GROUPS);
    this.addSql(`drop function if exists sm_supersede(text, bigint);`);
  }

  override async down(): Promise<void> {
    this.addSql(SM_SUPERSEDE);
    this.addSql(`drop function if exists sm_supersede_groups(jsonb);`);
  }
}

/**
 * p_groups: a JSON array of { u: user id, g: group key }, each pair once, every user locked by the caller.
 * For each pair, the user's newest unread, unsnoozed, live delivery with that key (under the user's and its
 * category's read watermarks too: sm_category joined, as sm_cat_upto would be one call per row) is marked
 * read and taken off the user's unread (and, if unseen, unseen) counter; the category's counters are the
 * caller's. Answers one row per delivery it marked read (the UPDATEs run to completion before it returns).
 *
 * A function, VOLATILE, so that its statement reads with a snapshot of its own, taken when it runs: in
 * SEND that is after the recipients' locks, so it sees every send to them committed before (the calling
 * statement's own snapshot predates the lock wait). PL/pgSQL keeps the plan between calls. STRICT: a send
 * without a group key passes null and the function does not run at all. Under stale statistics the
 * UPDATEs' joins could read a whole table, or a user's whole range of an index, for each row: so they join
 * by nested loops only, without sequential scans, and the superseded delivery by its row address (the
 * caller holds its user's lock, and every change to a delivery takes it, so the address stays).
 */
const SM_SUPERSEDE_GROUPS = `
create or replace function sm_supersede_groups(p_groups jsonb)
returns table (user_id text, group_key text, message_id bigint, group_count int, unseen boolean, category text)
language plpgsql volatile strict
set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off
as $$
#variable_conflict use_column
begin
  return query
  with prev as materialized (
    select g.u, g.g, o.ctid, o.message_id, o.group_count, o.unseen, o.category
    from jsonb_to_recordset(p_groups) as g(u text, g text)
    cross join lateral (
      select d.ctid, d.message_id, d.group_count, d.category,
        d.seen_at is null and d.message_id > greatest(su.seen_upto, coalesce(c.seen_upto, 0)) as unseen
      from sm_delivery d join sm_user su on su.id = d.user_id
      left join sm_category c on c.user_id = d.user_id and c.category = d.category
      where d.user_id = g.u and d.group_key = g.g and d.read_at is null and d.snoozed_until is null
        and d.message_id > greatest(su.read_upto, coalesce(c.read_upto, 0))
        and (d.expires_at is null or d.expires_at > now())
      order by d.message_id desc limit 1
    ) o
  ), marked as (
    update sm_delivery d set read_at = now()
    from prev where d.ctid = prev.ctid
    returning 1
  ), counted as (
    update sm_user su set unread_count = su.unread_count - c.n, unseen_count = su.unseen_count - c.unseen
    from (select prev.u, count(*)::int as n, (count(*) filter (where prev.unseen))::int as unseen from prev group by prev.u) c
    where su.id = c.u
    returning 1
  )
  select prev.u, prev.g, prev.message_id, prev.group_count, prev.unseen, prev.category::text from prev;
end
$$;`;
