import { documentCase } from './fuzz-docs.js';
import { httpCase } from './fuzz-http.js';
import { OPS, operationDocument, pathsOf, setAt, shapeAt, shapePaths, validValue, weirdFor, type Pool } from './fuzz-ops.js';
import { gqlRequest, type FuzzRequest, type GqlBody, type Tokens } from './fuzz-request.js';
import { weirdString, type Rng } from './fuzz-values.js';

/**
 * The mix of fuzz cases: operations of the schema with valid-then-broken arguments (any field, or
 * every leaf equally often), well-formed requests with broken bodies, hostile documents, raw HTTP.
 */

/** Valid arguments for an operation, then broken in one of the ways a careless or hostile client breaks them. */
function operationCase(r: Rng, pool: Pool, tokens: Tokens): FuzzRequest {
  const spec = r.pick(OPS);
  let args: Record<string, unknown> = {};
  for (const [name, [shape, required]] of Object.entries(spec.args)) if (required || r.chance(0.5)) args[name] = validValue(r, shape, pool);
  if (args.first !== undefined && args.last !== undefined && r.chance(0.8)) delete args[r.pick(['first', 'last'])];
  const paths = pathsOf(args).slice(1);
  const how = r.pick(['valid', 'valid', 'replace', 'replace', 'field', 'field', 'null', 'missing', 'extra', 'declared', 'extra-arg']);
  let label = `${spec.field} ${how}`;
  let declared: Record<string, string> | undefined;
  if (how === 'replace' && paths.length) {
    const path = r.pick(paths);
    args = setAt(args, path, weirdFor(r, shapeAt(spec, path) ?? 'text')) as Record<string, unknown>;
    label += ` ${path.join('.')}`;
  } else if (how === 'field' && shapePaths(spec).length) {
    const path = r.pick(shapePaths(spec));
    args = setAt(args, path, weirdFor(r, shapeAt(spec, path) ?? 'text')) as Record<string, unknown>;
    label += ` ${path.join('.')}`;
  } else if ((how === 'null' || how === 'missing') && paths.length) {
    const path = r.pick(paths);
    args = setAt(args, path, how === 'null' ? null : undefined) as Record<string, unknown>;
    label += ` ${path.join('.')}`;
  } else if (how === 'extra') {
    const isInput = (s: ReturnType<typeof shapeAt>) => s !== null && typeof s === 'object' && 'input' in s;
    const objects = pathsOf(args).filter((p) => p.length && isInput(shapeAt(spec, p)));
    if (objects.length) args = setAt(args, [...r.pick(objects), r.pick(['unknownField', '__proto__', 'userId'])], weirdString(r)) as Record<string, unknown>;
  } else if (how === 'declared' && Object.keys(args).length) {
    const name = r.pick(Object.keys(args));
    declared = { [name]: r.pick(['String', 'Int!', '[ID]', 'JSON', 'MessageFilter', 'Nope', 'AddMessageInput!']) };
    label += ` $${name}`;
  }
  const inline = r.chance(0.2);
  let query = operationDocument(spec, args, inline, declared);
  if (how === 'extra-arg') query = query.replace(new RegExp(`${spec.field}([( ])`), (_m, c: string) => `${spec.field}(unknownArg: 1${c === '(' ? ', ' : ') '}`);
  const body: GqlBody = { query, variables: inline ? (r.chance(0.1) ? { stray: 1 } : undefined) : args };
  if (r.chance(0.1)) body.operationName = r.pick(['Fuzz', 'Other', '', null, 7]);
  if (r.chance(0.05)) body.extensions = r.pick([{ persistedQuery: { version: 1, sha256Hash: 'abc' } }, 'str', [1], null]);
  return gqlRequest(r, `${label}${inline ? ' inline' : ''}`, body, { tokens, producer: Boolean(spec.producer), subscription: spec.kind === 'subscription' });
}

/** Every (operation, leaf field) pair equally often, with a hostile value of the leaf's own kind: the edges of each input. */
const LEAVES = OPS.flatMap((spec) => shapePaths(spec).filter((path) => typeof shapeAt(spec, path) === 'string').map((path) => ({ spec, path })));

function edgeCase(r: Rng, pool: Pool, tokens: Tokens): FuzzRequest {
  const { spec, path } = r.pick(LEAVES);
  const args: Record<string, unknown> = {};
  for (const [name, [shape, required]] of Object.entries(spec.args)) if (required) args[name] = validValue(r, shape, pool);
  const broken = setAt(args, path, weirdFor(r, shapeAt(spec, path)!, false)) as Record<string, unknown>;
  const inline = r.chance(0.2);
  return gqlRequest(r, `${spec.field} edge ${path.join('.')}${inline ? ' inline' : ''}`, { query: operationDocument(spec, broken, inline), variables: inline ? undefined : broken }, {
    tokens, producer: Boolean(spec.producer), subscription: spec.kind === 'subscription',
  });
}

/** Bytes that are not UTF-8: lone continuation, truncated sequence, overlong, an encoded surrogate, past U+10FFFF. */
const BAD_UTF8 = [[0xff], [0xc3], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];

/** A well-formed request whose body is then broken: truncated, invalid UTF-8, or not the shape of a GraphQL request. */
function bodyCase(r: Rng, pool: Pool, tokens: Tokens): FuzzRequest {
  const spec = r.pick(OPS.filter((o) => o.kind !== 'subscription'));
  const args = Object.fromEntries(Object.entries(spec.args).map(([k, [s]]) => [k, validValue(r, s, pool)]));
  const request = gqlRequest(r, `${spec.field} body`, { query: operationDocument(spec, args, false), variables: args }, { tokens, producer: Boolean(spec.producer) });
  if (request.method === 'GET' || !request.body) return request;
  const text = request.body;
  const how = r.int(4);
  if (how === 0) return { ...request, label: `${request.label} truncated`, body: text.subarray(0, r.int(text.length)) };
  if (how === 1) {
    const quotes = [...text.keys()].filter((i) => text[i] === 0x22);
    const at = r.pick(quotes) + 1;
    return { ...request, label: `${request.label} invalid UTF-8 at ${at}`, body: Buffer.concat([text.subarray(0, at), Buffer.from(r.pick(BAD_UTF8)), text.subarray(at)]) };
  }
  const shapes: unknown[] = [[], [{ query: '{ unreadCount }' }], 'string', 42, null, { query: 42 }, { query: ['{ unreadCount }'] }, { variables: {} }, { query: '{ unreadCount }', variables: 'not json' },
    { query: '{ unreadCount }', variables: [1] }, { query: '{ unreadCount }', operationName: {} }, { query: '' }, { query: '{ unreadCount }', extensions: 5 }];
  const body = how === 2 ? JSON.stringify(r.pick(shapes)) : `${text.toString('utf8')}${r.pick(['}', ',', ' garbage', '\u0000', '{"query":"{ unreadCount }"}'])}`;
  return { ...request, label: `${request.label} shape ${body.slice(0, 60)}`, body: Buffer.from(body, 'utf8') };
}

/** The case of `index`: mostly operations of the schema, then documents, bodies and raw HTTP. */
export function fuzzCase(r: Rng, pool: Pool, tokens: Tokens): FuzzRequest {
  const roll = r.int(100);
  if (roll < 25) return edgeCase(r, pool, tokens);
  if (roll < 62) return operationCase(r, pool, tokens);
  if (roll < 78) return documentCase(r, pool, tokens);
  if (roll < 90) return bodyCase(r, pool, tokens);
  return httpCase(r, tokens);
}
