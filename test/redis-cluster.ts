import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A real three-node Redis Cluster (three masters, no replicas) on free loopback ports, in a
 * temporary directory, for tests. Needs `redis-server` and `redis-cli` on the PATH: when they are
 * missing, start() fails (the test fails; it never skips).
 */
export interface TestCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  url: string;
  ports: number[];
  /** Stops the servers this helper started and removes their directory. Idempotent. */
  stop(): Promise<void>;
}

const NODES = 3;

/** A port whose cluster bus port (port + 10000) is free as well. */
async function freePortPair(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (port + 10000 > 65535 || taken.has(port)) continue;
    try {
      await listenOnce(port + 10000);
      return port;
    } catch {
      // bus port in use: try another
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const actual = (server.address() as { port: number }).port;
      server.close(() => resolve(actual));
    });
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`))));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ask<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {}); // a refused connection while the server starts is expected; connect() rejects
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

export async function startRedisCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sm-redis-cluster-'));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < NODES; i++) {
      const port = await freePortPair(taken);
      taken.add(port);
      ports.push(port);
    }
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000',
          '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', `redis-${port}.log`,
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed?): ${err.message}`)));
        child.once('spawn', () => resolve());
      });
    }
    for (const port of ports) await waitFor(`redis-server on ${port}`, () => ask(port, async (r) => (await r.ping()) === 'PONG'));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await waitFor(`cluster state ok on ${port}`, () => ask(port, async (r) => /cluster_state:ok/.test(String(await r.cluster('INFO')))));
    }
    // Every node must know the whole slot map before clients use it.
    await waitFor('slot map agreement', async () => {
      const views = await Promise.all(
        ports.map((p) =>
          ask(p, async (r) => {
            const slots = await r.cluster('SLOTS');
            return slots.map(([from, to, master]) => `${from}-${to}@${master?.[1]}`).sort().join(',');
          }),
        ),
      );
      return views[0] !== '' && views.every((v) => v === views[0]);
    });
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
