import { builder } from './builder.js';
import { viewerOf } from './context.js';
import { decodeMessageId } from './ids.js';

/** CONTRACT.md §9 "Retraction": producers remove a sent message from every recipient's inbox and archive. */

const RetractMessageInput = builder.inputType('RetractMessageInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const RetractMessagePayload = builder.simpleObject('RetractMessagePayload', {
  fields: (t) => ({
    recipientCount: t.int({ nullable: false, description: 'How many recipients still had it (0 when retracted before).' }),
  }),
});

builder.mutationFields((t) => ({
  retractMessage: t.field({
    type: RetractMessagePayload,
    description: "Producers: remove a sent message from every recipient's inbox and archive (a mistaken or outdated notice).",
    args: { input: t.arg({ type: RetractMessageInput, required: true }) },
    resolve: (_, { input }, ctx) => ctx.messages.retractMessage(viewerOf(ctx), decodeMessageId('input.id', String(input.id))),
  }),
}));
