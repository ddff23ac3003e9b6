import { html, nothing, type TemplateResult } from 'lit';
import { archiveIcon, deleteIcon, readIcon, snoozeIcon, unarchiveIcon, unreadIcon } from './icons.js';
import type { Item } from './model.js';

/** What an item's buttons do; each takes the message's id. */
export interface ItemActions {
  read(id: string, read: boolean): void;
  archive(id: string, archived: boolean): void;
  snooze(id: string): void;
  remove(id: string): void;
  /** A message with a `url` was followed: it counts as read. */
  open(id: string): void;
}

/** The style name of a level tag: `stored error` and `error` are both `error`. */
export const levelOf = (levelTag: string) => levelTag.split(' ').pop() || 'info';

/**
 * One message as a list item: its text (a link when it has a `url`), when it came, and its buttons,
 * whose accessible names start with the action and go on with the message's text.
 */
export function renderItem(m: Item, act: ItemActions): TemplateResult {
  const unread = !m.read;
  const action = (label: string, icon: TemplateResult, run: () => void, part: string) =>
    html`<button type="button" part="action ${part}" aria-label="${label}: ${m.text}" title=${label} @click=${run}>${icon}</button>`;
  const text = m.url
    ? html`<a class="text" part="link" href=${m.url} @click=${() => act.open(m.id)}>${m.text}</a>`
    : html`<span class="text">${m.text}</span>`;
  return html`<li class="level-${levelOf(m.levelTag)} ${unread ? 'unread' : ''}" part="item${unread ? ' item-unread' : ''}">
    <div class="body">
      ${text}${unread ? html`<span class="visually-hidden">, unread</span>` : nothing}
      <span class="meta">${since(m.createdAt)}${m.category ? html` · ${m.category}` : nothing}${m.groupCount > 1 ? html` · ${m.groupCount} updates` : nothing}</span>
    </div>
    <div class="actions">
      ${unread ? action('Mark as read', readIcon, () => act.read(m.id, true), 'mark-read') : action('Mark as unread', unreadIcon, () => act.read(m.id, false), 'mark-unread')}
      ${m.archived ? action('Unarchive', unarchiveIcon, () => act.archive(m.id, false), 'unarchive') : action('Archive', archiveIcon, () => act.archive(m.id, true), 'archive')}
      ${action('Snooze', snoozeIcon, () => act.snooze(m.id), 'snooze')} ${action('Delete', deleteIcon, () => act.remove(m.id), 'delete')}
    </div>
  </li>`;
}

/** "just now", "5 min ago", "3 h ago", else the date. */
function since(iso: string): string {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
