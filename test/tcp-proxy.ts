import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy on a free loopback port that an outage test can cut and restore. */
export interface TcpProxy {
  /** The upstream URL with the proxy's host and port in place of the upstream's. */
  url: string;
  port: number;
  /** Drops every open connection, and refuses new ones until `restore()`: the upstream is unreachable. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * Starts a real TCP proxy in front of `upstreamUrl` (e.g. the test Redis or PostgreSQL URL), so a
 * test can take the service away from the code under test without touching the service itself.
 */
export async function startTcpProxy(upstreamUrl: string, defaultPort = 6379): Promise<TcpProxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<Socket>();
  let up = true;
  const server = createServer((client) => {
    if (!up) return void client.destroy();
    const remote = connect(Number(upstream.port || defaultPort), upstream.hostname);
    for (const s of [client, remote]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(remote).pipe(client);
    // One side gone: the other goes too, as a dropped link would take both.
    client.on('close', () => remote.destroy());
    remote.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
