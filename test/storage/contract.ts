import { describe, expect } from 'vitest';
import { broadcastContract } from './contract/broadcast.js';
import { categoriesContract } from './contract/categories.js';
import { concurrencyContract } from './contract/concurrency.js';
import { deleteContract } from './contract/delete.js';
import { expiryContract } from './contract/expiry.js';
import { openContract, type OpenedStore } from './contract/fixture.js';
import { groupingContract } from './contract/grouping.js';
import { idempotencyContract } from './contract/idempotency.js';
import { isolationContract } from './contract/isolation.js';
import { listContract } from './contract/list.js';
import { outboxContract } from './contract/outbox.js';
import { preferencesContract } from './contract/preferences.js';
import { readStateContract } from './contract/read-state.js';
import { retractContract } from './contract/retract.js';
import { scheduleContract } from './contract/schedule.js';
import { sendContract } from './contract/send.js';
import { snoozeContract } from './contract/snooze.js';
import { statesContract } from './contract/states.js';
import { webhooksContract } from './contract/webhooks.js';

export { countsInIdOrder, expiresSoon, idsOf, msg, type OpenedStore } from './contract/fixture.js';

/**
 * The storage contract (src/domain/message-store.ts), run against the MessageStore interface directly.
 * Every backend must pass it: `runStoreContract('my backend', open)` in a *.test.ts file. One file
 * per feature under ./contract/; ./contract/fixture.ts holds what they share.
 *
 * `open` is called once per suite; tests share the store and keep apart by using fresh user ids,
 * so the suite never depends on what else the store holds.
 */
export function runStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`MessageStore contract: ${name}`, () => {
    const contract = openContract(open);

    contract.it('answers ping', async ({ store }) => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    sendContract(contract);
    isolationContract(contract);
    broadcastContract(contract);
    listContract(contract);
    readStateContract(contract);
    statesContract(contract);
    snoozeContract(contract);
    deleteContract(contract);
    idempotencyContract(contract);
    expiryContract(contract);
    concurrencyContract(contract);
    categoriesContract(contract);
    preferencesContract(contract);
    groupingContract(contract);
    scheduleContract(contract);
    retractContract(contract);
    webhooksContract(contract);
    outboxContract(contract);
  });
}
