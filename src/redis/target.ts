/**
 * Where the Redis backend connects: one server (`redis://`, `rediss://`) or a Redis Cluster, named
 * by `redis+cluster://[user:password@]host:port,host:port` or by REDIS_CLUSTER_NODES
 * (`host:port,host:port`, credentials then taken from REDIS_URL when it is set).
 * Pure parsing, shared by config validation and the connection.
 */
export interface ClusterNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: ClusterNode[]; username?: string; password?: string };

/** Parses `host:port,host:port` (IPv6 hosts in brackets); throws with the bad entry. */
export function parseClusterNodes(list: string): ClusterNode[] {
  const nodes = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/[\]]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port };
    });
  if (!nodes.length) throw new Error('no cluster node given');
  return nodes;
}

/** Parses `redis+cluster://[user:password@]host:port,host:port[/]`. */
export function parseClusterUrl(url: string): { nodes: ClusterNode[]; username?: string; password?: string } {
  const m = /^redis\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)\/?$/.exec(url);
  if (!m) throw new Error('must look like redis+cluster://host:port,host:port');
  const dec = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  return { nodes: parseClusterNodes(m[3]), username: dec(m[1]), password: dec(m[2]) };
}

export function resolveRedisTarget(url: string | null, clusterNodes: string | null): RedisTarget | null {
  if (clusterNodes) {
    const nodes = parseClusterNodes(clusterNodes);
    if (url?.startsWith('redis+cluster:')) return { kind: 'cluster', ...parseClusterUrl(url), nodes };
    if (!url) return { kind: 'cluster', nodes };
    const u = new URL(url);
    return { kind: 'cluster', nodes, username: u.username ? decodeURIComponent(u.username) : undefined, password: u.password ? decodeURIComponent(u.password) : undefined };
  }
  if (!url) return null;
  if (url.startsWith('redis+cluster:')) return { kind: 'cluster', ...parseClusterUrl(url) };
  return { kind: 'single', url };
}
