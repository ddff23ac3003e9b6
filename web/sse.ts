import type { Client } from 'graphql-ws';

type Sink = Parameters<Client['subscribe']>[1];
type Payload = Parameters<Client['subscribe']>[0];

/**
 * Subscriptions over Server-Sent Events (the graphql-sse protocol's distinct connections mode), shaped
 * as the part of a graphql-ws Client that watchInbox uses, for networks that refuse WebSockets.
 * Each (re)connect asks `getToken` for a token and sends the payload as it is then, so the cursor
 * watchInbox keeps in its variables is where a resumed stream starts. A dropped stream is resumed
 * after a backoff; a stream the server ends (token expiry, shutdown) completes, as over graphql-ws.
 * `onLive` hears when a stream opens and when one breaks.
 */
export function createSseClient(url: string, getToken: () => Promise<string>, onLive: (live: boolean) => void = () => {}): Client {
  const running = new Set<AbortController>();
  const subscribe = (payload: Payload, sink: Sink) => {
    const abort = new AbortController();
    running.add(abort);
    let failures = 0;
    const run = async (): Promise<void> => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await getToken()}` },
          body: JSON.stringify(payload),
          signal: abort.signal,
        });
        if (!response.ok || !response.body) {
          const body = (await response.json().catch(() => null)) as { errors?: unknown[] } | null;
          return sink.error(body?.errors ?? new Error(`SSE refused: HTTP ${response.status}`));
        }
        onLive(true);
        for await (const { event, data } of serverSentEvents(response.body)) {
          failures = 0;
          if (event === 'complete') return sink.complete();
          if (data) sink.next(JSON.parse(data));
        }
      } catch (error) {
        if (abort.signal.aborted) return;
      }
      if (abort.signal.aborted) return;
      onLive(false);
      // The stream broke without `complete`: the network, not the server, ended it.
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** failures++)));
      if (!abort.signal.aborted) return run();
    };
    void run();
    return () => {
      abort.abort();
      running.delete(abort);
    };
  };
  const dispose = () => {
    for (const abort of running) abort.abort();
    running.clear();
  };
  // Only subscribe and dispose are ever called on it (web/live.ts, client/watch-inbox.ts).
  return { subscribe, dispose, terminate: dispose, on: () => () => {} } as unknown as Client;
}

/** The events of an SSE body, as `event` (default `message`) and `data` lines joined. */
async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      yield { event, data: data.join('\n') };
    }
  }
}
