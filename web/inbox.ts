import { StoredMessagesInbox } from './inbox-element.js';

/**
 * stored-messages/inbox (and GET /inbox.js): importing it defines `<stored-messages-inbox>`, once
 * even when a page loads the module from two places.
 */
export { StoredMessagesInbox };
export type { Item as InboxItem } from './model.js';

if (!customElements.get('stored-messages-inbox')) customElements.define('stored-messages-inbox', StoredMessagesInbox);

declare global {
  interface HTMLElementTagNameMap {
    'stored-messages-inbox': StoredMessagesInbox;
  }
}
