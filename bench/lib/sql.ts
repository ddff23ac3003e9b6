import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { MessageStore } from '../../src/domain/message-store.js';

/** One SQL statement with `?` placeholders; returns the rows. */
export type Sql = <R = Record<string, unknown>>(text: string, params?: readonly unknown[]) => Promise<R[]>;

export interface SqlConnection {
  sql: Sql;
  tx<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const numbered = (text: string) => {
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
};

/** A small pool of plain `pg` connections to a bench database (PostgreSQL seeding and EXPLAIN). */
export function pgConnection(url: string): SqlConnection {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', (err) => console.error(`bench SQL pool: ${err.message}`)); // an idle client dropped: not fatal
  const on = (q: { query: pg.Pool['query'] }): Sql => async (text, params = []) => (await q.query(numbered(text), params as unknown[])).rows;
  return {
    sql: on(pool),
    async tx(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const out = await work(on(client as never));
        await client.query('commit');
        return out;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * The embedded PGlite is ONE database session, held by the app's own connection pool: seeding has
 * to go through that pool. This reaches the ORM behind the store (a private field of
 * OrmMessageStore); null when the store is not the ORM store.
 */
export function storeConnection(store: MessageStore): SqlConnection | null {
  const orm = (store as unknown as { orm?: MikroORM }).orm;
  if (!orm || typeof orm.em?.getKnex !== 'function') return null;
  const knex = orm.em.getKnex();
  const on = (k: typeof knex): Sql => async <R>(text: string, params: readonly unknown[] = []) =>
    ((await k.raw(text, params as never)) as unknown as { rows: R[] }).rows;
  return {
    sql: on(knex),
    tx: (work) => knex.transaction((trx) => work(on(trx as never))),
    close: async () => undefined,
  };
}
