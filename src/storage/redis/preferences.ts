import { PREFERENCES_MAX, PreferenceLimit, type CategoryPreference } from '../../domain/message-store.js';
import type { RedisContext } from './context.js';

/**
 * A user's category preferences: the hash `prefs` (category -> '1' | '0') in the user's slot, read by
 * every delivery to them (lua/lib/deliver.lua deliver_to), so a send or a broadcast's catch-up applies
 * the preference in the same atomic step as the delivery.
 */
export async function preferences(ctx: RedisContext, userId: string): Promise<CategoryPreference[]> {
  const set = await ctx.client.hgetall(ctx.keys.userKey(userId, 'prefs'));
  // Categories are ASCII, so UTF-16 order is code-point order.
  return Object.keys(set)
    .sort()
    .map((category) => ({ category, enabled: set[category] === '1' }));
}

/** Sets one preference (set-preference.lua); a new category past PREFERENCES_MAX throws PreferenceLimit. */
export async function setPreference(ctx: RedisContext, userId: string, category: string, enabled: boolean): Promise<CategoryPreference> {
  const [answer] = await ctx.userOp(userId, 'setPreference', { category, enabled, max: PREFERENCES_MAX });
  if (answer === 'limit') throw new PreferenceLimit(`a user may set at most ${PREFERENCES_MAX} category preferences`);
  return { category, enabled };
}
