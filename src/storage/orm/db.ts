import type { MikroORM } from '@mikro-orm/postgresql';

/** Runs one SQL statement with bound parameters ($n, not client-side interpolation) and returns its rows. */
export type Sql = <R = Record<string, unknown>>(text: string, bindings?: readonly unknown[]) => Promise<R[]>;

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure

/**
 * The thin layer between the store and MikroORM: one EntityManager fork per operation, its
 * transaction context for every statement, and a bounded retry when PostgreSQL aborts a transaction
 * to break a deadlock (concurrent multi-recipient sends can lock users in different orders).
 */
export class Db {
  constructor(private readonly orm: MikroORM) {}

  /** A statement outside any transaction (single-statement reads). */
  readonly sql: Sql = (text, bindings = []) => this.run(undefined, text, bindings);

  /**
   * One self-contained write statement (atomic by itself, no BEGIN/COMMIT round trips), retried like
   * a transaction when PostgreSQL aborts it to break a deadlock.
   */
  readonly atomic: Sql = async (text, bindings = []) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.run(undefined, text, bindings);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  };

  async tx<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.orm.em.fork().transactional(async (em) => {
          const trx = em.getTransactionContext();
          return work((text, bindings = []) => this.run(trx, text, bindings));
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  private async run<R>(trx: unknown, text: string, bindings: readonly unknown[]): Promise<R[]> {
    const query = this.orm.em.getKnex().raw(text, bindings as never);
    if (trx) query.transacting(trx as never);
    const result = (await query) as { rows: R[] };
    return result.rows;
  }
}

/** A list as one JSON parameter: knex would expand an array binding into `?, ?, ?`. */
export const jsonList = (values: readonly unknown[]) => JSON.stringify(values);
