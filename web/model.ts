import type { InboxEvent, InboxMessageFragment } from '../client/index.js';

/** A message as the inbox shows it. */
export type Item = InboxMessageFragment;

/** A tab: the three fixed ones, or `category:<name>`. */
export type Tab = 'unread' | 'all' | 'archived' | `category:${string}`;

/**
 * What the inbox knows: every message loaded so far by id, and the badge counts. Each tab is a view
 * of the same messages (filtered, newest first), so a change made in one tab shows in every tab.
 * Events and mutation answers only ever set states, so applying one twice changes nothing.
 */
export class InboxModel {
  readonly items = new Map<string, Item>();
  unread = 0;
  unseen = 0;
  /** Events applied so far: an answer to a request sent before the latest one may be older than it. */
  private heard = 0;
  /** Ids events removed (deleted, snoozed): an older page must not bring them back. */
  private readonly gone = new Set<string>();

  /** Forgets everything (another user, or another server). */
  clear(): void {
    this.items.clear();
    this.gone.clear();
    this.unread = 0;
    this.unseen = 0;
  }

  /** Taken before a request: its answer is older than any event applied after. */
  mark(): number {
    return this.heard;
  }

  /** The counts an answer to a request sent at `asked` gave, unless an event came since: its counts are newer. */
  count(asked: number, counts: { unread?: number; unseen?: number }): void {
    if (asked !== this.heard) return;
    if (counts.unread !== undefined) this.unread = counts.unread;
    if (counts.unseen !== undefined) this.unseen = counts.unseen;
  }

  /** The messages of `tab`, newest first. */
  view(tab: Tab): Item[] {
    const keep = predicate(tab);
    return [...this.items.values()].filter(keep).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** Categories of the loaded messages, by name: each gets a tab. */
  categories(): string[] {
    const names = new Set<string>();
    for (const m of this.items.values()) if (m.category) names.add(m.category);
    return [...names].sort();
  }

  /**
   * Adds or replaces loaded messages; a snoozed one is hidden, as the server hides it. A page asked
   * for before the latest event (`asked`) only adds: what events changed or removed since stays.
   */
  put(messages: Iterable<Item>, asked = this.heard): void {
    const stale = asked !== this.heard;
    for (const m of messages) {
      if (stale && (this.items.has(m.id) || this.gone.has(m.id))) continue;
      if (m.snoozedUntil) this.items.delete(m.id);
      else this.items.set(m.id, m);
    }
  }

  /** Sets fields of the messages with these ids, those loaded. */
  patch(ids: Iterable<string>, change: Partial<Item>): void {
    for (const id of ids) {
      const m = this.items.get(id);
      if (m) this.items.set(id, { ...m, ...change });
    }
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) this.items.delete(id);
  }

  /** Marks read what a mark-all-read covered (delivered at or before `until`, in `category` if given). */
  readUntil(until: string, category: string | null): void {
    this.patch(this.cutOff(until, category), { read: true, seen: true });
  }

  /** One inboxEvents event (not RESYNC, which reloads): the loaded messages and the counts it changed. */
  apply(event: InboxEvent): void {
    this.heard++;
    this.unread = event.unreadCount;
    this.unseen = event.unseenCount;
    const ids = event.messageIds.length ? event.messageIds : this.cutOff(event.until, event.category);
    switch (event.signal) {
      case 'ARCHIVE_STORED':
      case 'INBOX_STORED':
        if (event.message) {
          this.gone.delete(event.message.id);
          this.put([event.message]);
        }
        else this.patch(ids, { read: false, readAt: null, archived: false });
        break;
      case 'INBOX_DELETED':
      case 'INBOX_PURGED':
        this.patch(ids, { read: true, seen: true });
        break;
      case 'INBOX_SEEN':
        this.patch(ids, { seen: true });
        break;
      case 'INBOX_ARCHIVED':
        this.patch(ids, { archived: true, read: true, seen: true });
        break;
      case 'INBOX_UNARCHIVED':
        this.patch(ids, { archived: false });
        break;
      case 'INBOX_SNOOZED':
      case 'ARCHIVE_DELETED':
        this.remove(ids);
        for (const id of ids) this.gone.add(id);
        break;
    }
  }

  /** The loaded messages an "all" operation covered: delivered at or before `until`, in `category` if given. */
  private cutOff(until: string | null, category: string | null): string[] {
    if (!until) return [];
    return [...this.items.values()].filter((m) => m.createdAt <= until && (!category || m.category === category)).map((m) => m.id);
  }
}

function predicate(tab: Tab): (m: Item) => boolean {
  if (tab === 'unread') return (m) => !m.read && !m.archived;
  if (tab === 'archived') return (m) => m.archived;
  if (tab === 'all') return () => true;
  const category = tab.slice('category:'.length);
  return (m) => m.category === category;
}
