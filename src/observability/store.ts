import type { MessageStore } from '../domain/message-store.js';

/** The storage calls measured: every MessageStore method but the readiness probe and close. */
const CALLS = [
  'ensureUser',
  'send',
  'list',
  'get',
  'unreadCount',
  'counts',
  'setRead',
  'markAllRead',
  'deleteMessages',
  'markSeen',
  'markAllSeen',
  'setArchived',
  'archiveAll',
  'snooze',
  'wakeDue',
  'broadcastViews',
  'oldestUnread',
  'remember',
  'forget',
  'preferences',
  'setPreference',
  'schedule',
  'scheduled',
  'cancelScheduled',
  'deliverDue',
  'retract',
  'retractedViews',
  'cleanupExpired',
] as const satisfies readonly (keyof MessageStore)[];

export type StoreCall = (typeof CALLS)[number];

// A method added to MessageStore fails to compile here until it is listed in CALLS (or deliberately left out).
type Unlisted = Exclude<keyof MessageStore, StoreCall | 'ping' | 'close'>;
const everyCallListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyCallListed;

/** Runs one storage call; may observe its time, its result, or run it inside a span. */
export type AroundCall = <T>(call: StoreCall, run: () => Promise<T>) => Promise<T>;

/**
 * `store` with each call run through `around`. The decorator inherits the backend's own members
 * (benchmarks reach its database through them); every MessageStore method runs on the backend itself.
 */
export function aroundStore(store: MessageStore, around: AroundCall): MessageStore {
  type Method = (...args: unknown[]) => Promise<unknown>;
  const methods = store as unknown as Record<StoreCall, Method>;
  const wrapped = Object.create(store) as Record<StoreCall | 'ping' | 'close', Method>;
  for (const call of CALLS) wrapped[call] = (...args) => around(call, () => methods[call].apply(store, args));
  wrapped.ping = () => store.ping();
  wrapped.close = () => store.close();
  return wrapped as unknown as MessageStore;
}
