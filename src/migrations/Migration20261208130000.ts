import { Migration } from '@mikro-orm/migrations';
import { SM_CAT_UPTO } from './Migration20261207150000.js';

/**
 * sm_cat_upto answers 0 without a lookup for a delivery without a category, and PostgreSQL inlines it.
 * Statements filter each delivery by its category's watermark; as a function with a subquery it could
 * not be inlined, so every row of a page ran the lookup as a query of its own, category or not.
 * Now its body is one expression (no subquery, used in each calling statement as written here): the
 * lookup, sm_cat_upto_of, runs only for deliveries that have a category.
 */
export class Migration20261208130000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(SM_CAT_UPTO_OF);
    this.addSql(SM_CAT_UPTO_INLINED);
  }

  override async down(): Promise<void> {
    this.addSql(SM_CAT_UPTO);
    this.addSql(`drop function if exists sm_cat_upto_of(text, text, text);`);
  }
}

/** A user's `p_kind` watermark of one category (0 before its first "all" operation). */
const SM_CAT_UPTO_OF = `
create or replace function sm_cat_upto_of(p_user text, p_category text, p_kind text)
returns bigint
language sql stable as $$
  select coalesce((
    select case p_kind when 'seen' then c.seen_upto when 'read' then c.read_upto else c.archived_upto end
    from sm_category c where c.user_id = p_user and c.category = p_category
  ), 0)
$$;`;

/** The same, 0 without a category. Not STRICT, and without a subquery, so that PostgreSQL can inline it. */
const SM_CAT_UPTO_INLINED = `
create or replace function sm_cat_upto(p_user text, p_category text, p_kind text)
returns bigint
language sql stable as $$
  select case when p_category is null then 0::bigint else sm_cat_upto_of(p_user, p_category, p_kind) end
$$;`;
