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

/** The lookup: sm_cat_upto as Migration20261207150000 created it, under its new name. */
const SM_CAT_UPTO_OF = SM_CAT_UPTO.replace('function sm_cat_upto(', 'function sm_cat_upto_of(');

/** sm_cat_upto now: 0 without a category, else the lookup. Not STRICT, and without a subquery, so that PostgreSQL can inline it. */
const SM_CAT_UPTO_INLINED = `
create or replace function sm_cat_upto(p_user text, p_category text, p_kind text)
returns bigint
language sql stable as $$
  select case when p_category is null then 0::bigint else sm_cat_upto_of(p_user, p_category, p_kind) end
$$;`;
