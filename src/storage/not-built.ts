import type { MessageStore } from '../domain/message-store.js';

type Pending = 'preferences' | 'setPreference' | 'schedule' | 'scheduled' | 'cancelScheduled' | 'deliverDue' | 'retract' | 'retractedViews';

/** Issue 20's store operations while a backend is still without them: each call fails loudly. Removed once both backends have them. */
export const notBuilt: Pick<MessageStore, Pending> = {
  preferences: () => fail('preferences'),
  setPreference: () => fail('setPreference'),
  schedule: () => fail('schedule'),
  scheduled: () => fail('scheduled'),
  cancelScheduled: () => fail('cancelScheduled'),
  deliverDue: () => fail('deliverDue'),
  retract: () => fail('retract'),
  retractedViews: () => fail('retractedViews'),
};

function fail(op: Pending): never {
  throw new Error(`${op} is not built on this backend yet`);
}
