/** Idempotency keys on the PostgreSQL store (sm_idempotency): claimed in the caller's transaction, with the response kept. */
import { IDEMPOTENCY_TTL_SECONDS, IdempotencyMismatch, reviveRememberedFlash, type IdempotencyClaim, type RememberedFlash } from '../../domain/message-store.js';
import type { Db, Sql } from './db.js';
import * as maintenance from './sql/maintenance.js';

/** Claims an idempotency key inside the caller's transaction; returns the earlier result when there is one. */
export async function claimKey(sql: Sql, idem: IdempotencyClaim): Promise<unknown | undefined> {
  const { scope, key, fingerprint } = idem;
  await sql(maintenance.IDEMPOTENCY_EXPIRE_ONE, { scope, key, ttlSeconds: IDEMPOTENCY_TTL_SECONDS });
  if ((await sql(maintenance.IDEMPOTENCY_INSERT, { scope, key, fingerprint })).length) return undefined;
  const [row] = await sql(maintenance.IDEMPOTENCY_GET, { scope, key });
  if (row.fingerprint !== fingerprint) throw new IdempotencyMismatch('idempotency key reused with different input');
  return row.response;
}

/** MessageStore.remember: a flash message's result kept under its key, or the earlier one. */
export async function rememberFlash(db: Db, idem: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
  return db.tx(async (sql) => {
    const earlier = await claimKey(sql, idem);
    if (earlier !== undefined) return reviveRememberedFlash(earlier);
    await sql(maintenance.IDEMPOTENCY_SAVE, { response: JSON.stringify(result), scope: idem.scope, key: idem.key });
    return result;
  });
}

/** MessageStore.forget: the key released when its call failed. */
export async function forgetKey(db: Db, idem: IdempotencyClaim): Promise<void> {
  await db.sql(maintenance.IDEMPOTENCY_FORGET, { scope: idem.scope, key: idem.key, fingerprint: idem.fingerprint });
}
