import { IdempotencyMismatch, reviveRememberedFlash, type IdempotencyClaim, type RememberedFlash } from '../../domain/message-store.js';
import type { RedisContext } from './context.js';

/** Claims the key for a result that is not a stored message (remember.lua): `result` when the key was free, else the first call's. */
export async function remember(ctx: RedisContext, claim: IdempotencyClaim, result: RememberedFlash): Promise<RememberedFlash> {
  const r = await ctx.scripts.remember({ claim, result: JSON.stringify(result) });
  if (r[0] === 'mismatch') throw new IdempotencyMismatch('idempotency key reused with different input');
  if (r[0] === 'new') return result;
  const [, id, , message, saved] = r;
  return reviveRememberedFlash(saved ? JSON.parse(saved) : { message: { ...(JSON.parse(message) as object), id, readAt: null, stored: true } });
}

/** Drops what remember() kept for this claim (its fingerprint only). */
export async function forget(ctx: RedisContext, claim: IdempotencyClaim): Promise<void> {
  await ctx.scripts.forgetResult({ claim });
}
