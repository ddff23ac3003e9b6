import { OPS, operationDocument, validValue, type Pool } from './fuzz-ops.js';
import { gqlRequest, type FuzzRequest, type Tokens } from './fuzz-request.js';
import { weirdString, type Rng } from './fuzz-values.js';

/**
 * Hostile documents: deep, wide, long, repeated, corrupted, several operations, several sends in
 * one. Sizes reach past the contract's document limits (depth 20, 50 aliases, 10,000 tokens, 50
 * directives) while staying small enough to keep the run fast.
 */

const repeat = (n: number, f: (i: number) => string, sep = ' ') => Array.from({ length: n }, (_, i) => f(i)).join(sep);

function deepSelection(depth: number): string {
  return `{ __schema { types { ${'fields { type { ofType { '.repeat(Math.floor(depth / 3))}name${' } } }'.repeat(Math.floor(depth / 3))} } } }`;
}

const corruptions: ((doc: string, r: Rng) => string)[] = [
  (d, r) => d.slice(0, r.int(d.length)),
  (d, r) => {
    const at = r.int(d.length);
    return d.slice(0, at) + r.pick(['{', '}', '(', ')', '$', '@', '...', '"', '"""', '#', '\u0000', ':', '!', '[', '\uD800']) + d.slice(at);
  },
  (d, r) => {
    const at = r.int(d.length);
    return d.slice(0, at) + d.slice(at + 1 + r.int(5));
  },
  (d) => d.replace(/\{/g, '{{'),
  (d) => `${d} ${d}`,
];

export function documentCase(r: Rng, pool: Pool, tokens: Tokens): FuzzRequest {
  const user = (label: string, query: string, extra: { variables?: unknown; operationName?: unknown; pastLimit?: string | false } = {}) => ({
    ...gqlRequest(r, label, { query, variables: extra.variables, operationName: extra.operationName }, { tokens, producer: false }),
    ...(extra.pastLimit ? { pastLimit: extra.pastLimit } : {}),
  });
  switch (r.int(15)) {
    case 0: {
      const depth = r.pick([6, 21, 24, 60, 300]);
      return user(`deep introspection ${depth}`, deepSelection(depth), { pastLimit: depth > 18 && 'depth' });
    }
    case 1: {
      const depth = r.pick([5, 21, 100, 1_000]);
      return user(`nested inline fragments ${depth}`, `{ ${'... on Query { '.repeat(depth)}unreadCount${' }'.repeat(depth)} }`, { pastLimit: depth > 20 && 'fragment depth' });
    }
    case 2: {
      const depth = r.pick([5, 21, 60]);
      const frags = repeat(depth, (i) => `fragment F${i} on Query { ${i + 1 < depth ? `...F${i + 1}` : 'unreadCount'} }`);
      return user(`fragment chain ${depth}`, `{ ...F0 } ${frags}`, { pastLimit: depth > 20 && 'fragment depth' });
    }
    case 3: return user('fragment cycle', r.pick(['{ ...A } fragment A on Query { ...A }', '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }']));
    case 4: {
      const n = r.pick([10, 50, 51, 300]);
      return user(`aliases ${n}`, `{ ${repeat(n, (i) => `a${i}: unreadCount`)} }`, { pastLimit: n > 50 && 'aliases' });
    }
    case 5: {
      const n = r.pick([100, 9_000, 12_000, 40_000]);
      return user(`tokens ${n}`, `{ messages(filter: { levels: [${repeat(n, () => 'INFO', ', ')}] }) { totalCount } }`, { pastLimit: n > 10_000 && 'tokens' });
    }
    case 6: {
      const n = r.pick([10, 50, 51, 120]);
      return user(`directives ${n}`, `{ ${repeat(n, (i) => `d${i}: unreadCount @include(if: true)`)} }`, { pastLimit: n > 50 && 'directives' });
    }
    case 7: return user('repeated directive', '{ unreadCount @skip(if: false) @skip(if: false) @include(if: true) @deprecated }');
    case 8: {
      const n = r.pick([2, 3, 20]);
      const field = r.pick(['addMessage', 'addMessageFor', 'broadcastMessage']);
      const spec = OPS.find((o) => o.field === field)!;
      const inputs = Array.from({ length: n }, () => validValue(r, spec.args.input[0], pool));
      if (r.chance(0.5)) inputs[n - 1] = { ...(inputs[n - 1] as object), text: '' };
      const query = `mutation(${repeat(n, (i) => `$i${i}: ${(spec.args.input[0] as { input: string }).input}!`, ', ')}) { ${repeat(n, (i) => `s${i}: ${field}(input: $i${i}) { message { id } }`)} }`;
      const variables = Object.fromEntries(inputs.map((v, i) => [`i${i}`, v]));
      return { ...gqlRequest(r, `${n} sends of ${field}`, { query, variables }, { tokens, producer: field !== 'addMessage' }), pastLimit: 'sends per operation' };
    }
    case 9: {
      const spec = r.pick(OPS);
      const args = Object.fromEntries(Object.entries(spec.args).map(([k, [s]]) => [k, validValue(r, s, pool)]));
      const corrupt = r.pick(corruptions);
      return gqlRequest(r, `corrupted ${spec.field}`, { query: corrupt(operationDocument(spec, args, r.chance(0.5)), r), variables: args }, { tokens, producer: Boolean(spec.producer) });
    }
    case 10: {
      const docs = 'query A { unreadCount } mutation B { markAllRead { count } } subscription C { messageAdded { id } }';
      return user('several operations', docs, { operationName: r.pick([undefined, 'A', 'B', 'C', 'D', '', null]) });
    }
    case 11: return user('unknown field', r.pick(['{ nope }', '{ unreadCount { id } }', '{ messages }', '{ message(id: 1) }', '{ __typename __schema { nope } }', 'mutation { unreadCount }', '{ node(id: "x") { ... on Nope { id } } }']));
    case 12: return user('introspection', r.pick(['{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }', '{ __type(name: "Message") { fields { name type { name } } } }', `{ __type(name: ${JSON.stringify(weirdString(r))}) { name } }`]));
    case 14: {
      const bytes = r.pick([1_000_000, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 5_000_000]);
      const pad = bytes - JSON.stringify({ query: '{ unreadCount }', variables: { pad: '' } }).length;
      const request = gqlRequest(r, `body of ${bytes} bytes`, { query: '{ unreadCount }', variables: { pad: 'p'.repeat(pad) } }, { tokens, producer: false });
      return request.method === 'POST' && bytes > 4 * 1024 * 1024 ? { ...request, pastLimit: 'body' } : request;
    }
    default: {
      const size = r.pick([1_000, 100_000, 1_000_000]);
      return user(`long ${r.pick(['comment', 'string'])} ${size}`, r.chance(0.5) ? `# ${'x'.repeat(size)}\n{ unreadCount }` : `{ __type(name: "${'x'.repeat(size)}") { name } }`);
    }
  }
}
