export interface InboxEvent {
  signal: string;
  messageIds: string[];
  unreadCount: number;
  unseenCount: number;
  cursor: string;
}

/** The caller's inbox events over SSE, with nothing but fetch: the missed ones after `after`, then live. */
export async function* inboxEvents(url: string, token: string, after: string | null, signal?: AbortSignal) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      query: 'subscription ($after: String) { inboxEvents(after: $after) { signal messageIds unreadCount unseenCount cursor } }',
      variables: { after },
    }),
    signal,
  });
  if (!response.ok || !response.body) throw new Error(`inboxEvents: HTTP ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    // Events are blocks separated by a blank line: "event: next" + "data: {...}"; lines starting with ":" are pings.
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^event: complete$/m.test(block)) return;
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!data) continue;
      const result = JSON.parse(data) as { data?: { inboxEvents: InboxEvent }; errors?: { message: string }[] };
      if (!result.data) throw new Error(result.errors?.[0]?.message ?? 'inboxEvents failed'); // e.g. an expired token
      yield result.data.inboxEvents;
    }
  }
}
