import { createRequest, InboxPageDocument, MarkReadDocument, watchInbox, type InboxMessageFragment } from '../../client/index.js';

/** The newest unread messages and the unread count, kept current; `render` draws them. */
export function createInbox(url: string, getToken: () => Promise<string>, render: (messages: InboxMessageFragment[], unread: number) => void) {
  const request = createRequest({ url, getToken });
  let messages: InboxMessageFragment[] = [];
  let unread = 0;
  const reload = async () => {
    const page = await request(InboxPageDocument, { first: 20 });
    messages = page.unreadMessages.edges.map((edge) => edge.node);
    unread = page.unreadMessages.totalCount;
    render(messages, unread);
  };
  const stop = watchInbox({
    url,
    getToken,
    after: localStorage.getItem('inbox-cursor'),
    onEvent: (event) => {
      const { signal, message, messageIds } = event;
      if (signal === 'INBOX_STORED' && message && !messages.some((m) => m.id === message.id)) messages = [message, ...messages];
      if (signal === 'INBOX_DELETED' || signal === 'ARCHIVE_DELETED') messages = messages.filter((m) => !messageIds.includes(m.id));
      if (signal === 'INBOX_PURGED') void reload(); // mark-all-read: what stays unread is the server's to say
      unread = event.unreadCount;
      localStorage.setItem('inbox-cursor', event.cursor);
      render(messages, unread);
    },
    onResync: (event) => {
      localStorage.setItem('inbox-cursor', event.cursor);
      void reload();
    },
    onError: (error) => console.error('the inbox stream ended', error),
  });
  void reload();
  return {
    markRead: (id: string) => request(MarkReadDocument, { ids: [id] }),
    stop,
  };
}
