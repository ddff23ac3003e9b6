import { badInput } from './errors.js';
import { PREFERENCES_MAX, PreferenceLimit, type CategoryPreference, type MessageStore } from './message-store.js';
import type { Viewer } from './messages.js';
import * as v from './validate.js';

export interface PreferencesOptions {
  store: MessageStore;
  /** Makes the caller a known user (as every other use case does). */
  touch(viewer: Viewer): Promise<void>;
}

/**
 * Category preferences (CONTRACT.md §9): every category is enabled until the user disables it; a
 * disabled one gets the user nothing new unless the send is critical. The stores apply them at delivery.
 */
export function createPreferences(o: PreferencesOptions) {
  return {
    /** The categories the caller has set, enabled or not, by name in code-point order. */
    async preferences(viewer: Viewer): Promise<CategoryPreference[]> {
      await o.touch(viewer);
      return o.store.preferences(viewer.id);
    },

    /** Enables or disables a category for what is sent from now on; at most PREFERENCES_MAX categories a user. */
    async setPreference(viewer: Viewer, input: { category: string; enabled: boolean }): Promise<CategoryPreference> {
      const category = v.category('input.category', input.category);
      if (typeof input.enabled !== 'boolean') throw badInput('input.enabled', 'must be true or false');
      await o.touch(viewer);
      try {
        return await o.store.setPreference(viewer.id, category, input.enabled);
      } catch (err) {
        if (err instanceof PreferenceLimit) throw badInput('input.category', `is one category more than the ${PREFERENCES_MAX} a user may set`);
        throw err;
      }
    },
  };
}
