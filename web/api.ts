import {
  ArchiveDocument,
  ArchivePageDocument,
  createRequest,
  DeleteMessagesDocument,
  InboxCountsDocument,
  InboxCursorDocument,
  InboxPageDocument,
  MarkAllReadDocument,
  MarkReadDocument,
  MarkSeenDocument,
  MarkUnreadDocument,
  SnoozeDocument,
  UnarchiveDocument,
  type MessageFilter,
} from '../client/index.js';
import type { InboxModel, Item, Tab } from './model.js';

/** One page of a tab: its messages and where the next page starts (null: none). */
export interface Page {
  items: Item[];
  next: string | null;
}

/**
 * The element's GraphQL calls, each answering what the model needs. Every call asks `getToken`
 * for the token (the generated client's createRequest does), so an expired one is never reused.
 */
export function inboxApi(url: string, getToken: () => Promise<string>) {
  const request = createRequest({ url, getToken });
  return {
    /** Where the user's events stand now (taken before the first load, resumed after by the live connection). */
    cursor: async (): Promise<string> => (await request(InboxCursorDocument, {})).inboxCursor,

    async counts(model: InboxModel): Promise<void> {
      const asked = model.mark();
      const { counts } = await request(InboxCountsDocument, {});
      model.count(asked, counts);
    },

    async page(tab: Tab, after: string | null, first = 20): Promise<Page> {
      if (tab === 'unread') {
        const { unreadMessages: c } = await request(InboxPageDocument, { first, after });
        return { items: c.edges.map((e) => e.node), next: c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null };
      }
      const { messages: c } = await request(ArchivePageDocument, { first, after, filter: filterOf(tab) });
      return { items: c.edges.map((e) => e.node), next: c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null };
    },

    async markSeen(model: InboxModel, ids: string[]): Promise<void> {
      if (!ids.length) return;
      const asked = model.mark();
      const { markSeen } = await request(MarkSeenDocument, { ids });
      model.patch(ids, { seen: true });
      model.count(asked, { unseen: markSeen.unseenCount });
    },

    async markRead(model: InboxModel, ids: string[], read: boolean): Promise<void> {
      const asked = model.mark();
      const answer = read ? (await request(MarkReadDocument, { ids })).markRead : (await request(MarkUnreadDocument, { ids })).markUnread;
      for (const m of answer.messages) model.patch([m.id], read ? { ...m, seen: true } : { ...m, archived: false });
      model.count(asked, { unread: answer.unreadCount });
    },

    async markAllRead(model: InboxModel, category: string | null): Promise<void> {
      const until = new Date().toISOString();
      const asked = model.mark();
      const { markAllRead } = await request(MarkAllReadDocument, { until, category });
      model.readUntil(until, category);
      model.count(asked, { unread: markAllRead.unreadCount });
    },

    async archive(model: InboxModel, ids: string[], archived: boolean): Promise<void> {
      const asked = model.mark();
      const answer = archived ? (await request(ArchiveDocument, { ids })).archive : (await request(UnarchiveDocument, { ids })).unarchive;
      for (const m of answer.messages) model.patch([m.id], m);
      model.count(asked, answer.counts);
    },

    async snooze(model: InboxModel, ids: string[], minutes: number): Promise<void> {
      const until = new Date(Date.now() + minutes * 60_000).toISOString();
      const asked = model.mark();
      const { snooze } = await request(SnoozeDocument, { ids, until });
      model.remove(ids);
      model.count(asked, snooze.counts);
    },

    async remove(model: InboxModel, ids: string[]): Promise<void> {
      const asked = model.mark();
      const { deleteMessages } = await request(DeleteMessagesDocument, { ids });
      model.remove(ids);
      model.count(asked, { unread: deleteMessages.unreadCount });
    },
  };
}

export type InboxApi = ReturnType<typeof inboxApi>;

function filterOf(tab: Tab): MessageFilter | null {
  if (tab === 'all') return null;
  if (tab === 'archived') return { archived: true };
  return { categories: [tab.slice('category:'.length)] };
}
