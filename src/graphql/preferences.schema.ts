import type { CategoryPreference as Preference } from '../domain/message-store.js';
import { builder } from './builder.js';
import { viewerOf } from './context.js';

/** CONTRACT.md §9: which categories the caller receives (every one until disabled). */

const CategoryPreference = builder.objectRef<Preference>('CategoryPreference').implement({
  description: "The caller's setting for one category.",
  fields: (t) => ({
    category: t.exposeString('category'),
    enabled: t.exposeBoolean('enabled', { description: 'False: nothing new in this category reaches the caller unless it is critical.' }),
  }),
});

const SetPreferenceInput = builder.inputType('SetPreferenceInput', {
  fields: (t) => ({
    category: t.string({ required: true, description: '1 to 64 characters of a-z 0-9 . _ -.' }),
    enabled: t.boolean({ required: true }),
  }),
});

builder.queryFields((t) => ({
  preferences: t.field({
    type: [CategoryPreference],
    description: 'The categories the caller has set, by name.',
    resolve: (_, __, ctx) => ctx.messages.preferences(viewerOf(ctx)),
  }),
}));

builder.mutationFields((t) => ({
  setPreference: t.field({
    type: CategoryPreference,
    description: 'Enables or disables a category for the caller, for what is sent from now on (at most 1,000 categories).',
    args: { input: t.arg({ type: SetPreferenceInput, required: true }) },
    resolve: (_, { input }, ctx) => ctx.messages.setPreference(viewerOf(ctx), input),
  }),
}));
