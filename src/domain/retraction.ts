import { AppError, forbidden } from './errors.js';
import type { MessageStore } from './message-store.js';
import type { Viewer } from './messages.js';
import { emitChange } from './changes.js';
import type { Signals } from './signals.js';

/**
 * Retraction for producers (CONTRACT.md §9): a sent message leaves every recipient's inbox and archive.
 * The store does the removal (and cancels a schedule still pending); this fires the recipients' signals.
 */
export function createRetraction(o: { store: MessageStore; signals: Signals }) {
  return {
    /** `recipientCount`: the recipients who still had it (0 when retracted before, or a schedule cancelled in time). */
    async retractMessage(viewer: Viewer, ref: { stored: boolean; id: string }): Promise<{ recipientCount: number }> {
      if (!viewer.producer) throw forbidden('retractMessage needs the messages:send scope');
      const result = ref.stored ? await o.store.retract(ref.id) : null;
      if (!result) throw new AppError('NOT_FOUND', 'input.id: no sent message has this id', 'input.id');
      emitChange(o.signals, { op: 'retract', messageId: ref.id, result });
      return { recipientCount: result.recipientCount };
    },
  };
}
