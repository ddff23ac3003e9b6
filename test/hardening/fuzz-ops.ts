import { expandDeep, weirdCursor, weirdDate, weirdId, weirdJson, weirdNumber, weirdString, weirdValue, type Rng } from './fuzz-values.js';

/**
 * Every root field of schema.graphql as a shape the fuzzer can fill with valid values and then
 * break: each leaf has a role (what a valid value looks like, and which hostile values suit it).
 */

type Role =
  | 'text' | 'level' | 'tags' | 'url' | 'data' | 'past' | 'future' | 'key' | 'userId' | 'msgId' | 'size' | 'cursor' | 'bool' | 'until' | 'eventCursor'
  | 'category' | 'groupKey';
export type Shape = Role | { list: Shape } | { input: string; fields: Record<string, Field> };
type Field = [Shape, boolean]; // [shape, required]

/** What the generator knows of the running server: ids, cursors and the users whose state is watched. */
export interface Pool {
  user: string;
  bystander: string;
  ownIds: string[];
  otherIds: string[];
  flashIds: string[];
  cursors: string[];
}

export interface OpSpec {
  field: string;
  kind: 'query' | 'mutation' | 'subscription';
  producer?: boolean;
  args: Record<string, Field>;
  select: string;
}

const LEVELS = ['DEBUG', 'INFO', 'SUCCESS', 'WARNING', 'ERROR', 'STORED_DEBUG', 'STORED_INFO', 'STORED_SUCCESS', 'STORED_WARNING', 'STORED_ERROR'];
const SEND: Record<string, Field> = {
  level: ['level', true], text: ['text', true], extraTags: ['tags', false], url: ['url', false], data: ['data', false],
  expiresAt: ['future', false], idempotencyKey: ['key', false], category: ['category', false], critical: ['bool', false], groupKey: ['groupKey', false],
};
const IDS: Shape = { input: 'MarkReadInput', fields: { ids: [{ list: 'msgId' }, true] } };
const PAGE: Record<string, Field> = { first: ['size', false], after: ['cursor', false], last: ['size', false], before: ['cursor', false] };
const CONNECTION = '{ totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id text read level createdAt } } }';
const FILTER: Shape = {
  input: 'MessageFilter',
  fields: { read: ['bool', false], levels: [{ list: 'level' }, false], categories: [{ list: 'category' }, false], since: ['past', false], until: ['until', false] },
};
const MESSAGE = '{ id text level levelValue tags url data createdAt readAt read stored expiresAt }';

export const OPS: OpSpec[] = [
  { field: 'node', kind: 'query', args: { id: ['msgId', true] }, select: '{ id ... on Message { text read } }' },
  { field: 'message', kind: 'query', args: { id: ['msgId', true] }, select: MESSAGE },
  { field: 'messages', kind: 'query', args: { ...PAGE, filter: [FILTER, false] }, select: CONNECTION },
  { field: 'unreadMessages', kind: 'query', args: PAGE, select: CONNECTION },
  { field: 'unreadCount', kind: 'query', args: {}, select: '' },
  { field: 'pendingMessages', kind: 'query', args: {}, select: '{ id text stored }' },
  { field: 'addMessage', kind: 'mutation', args: { input: [{ input: 'AddMessageInput', fields: SEND }, true] }, select: `{ stored message ${MESSAGE} }` },
  {
    field: 'addMessageFor', kind: 'mutation', producer: true, select: `{ recipientCount message ${MESSAGE} }`,
    args: { input: [{ input: 'AddMessageForInput', fields: { ...SEND, userIds: [{ list: 'userId' }, true], date: ['past', false] } }, true] },
  },
  {
    field: 'broadcastMessage', kind: 'mutation', producer: true, select: `{ recipientCount message ${MESSAGE} }`,
    args: { input: [{ input: 'BroadcastMessageInput', fields: { ...SEND, date: ['past', false] } }, true] },
  },
  { field: 'markRead', kind: 'mutation', args: { input: [IDS, true] }, select: '{ count notFound unreadCount messages { id read readAt } }' },
  { field: 'markUnread', kind: 'mutation', args: { input: [IDS, true] }, select: '{ count notFound unreadCount messages { id read readAt } }' },
  { field: 'markAllRead', kind: 'mutation', args: { input: [{ input: 'MarkAllReadInput', fields: { until: ['until', false], category: ['category', false] } }, false] }, select: '{ count unreadCount }' },
  { field: 'counts', kind: 'query', args: { category: ['category', false] }, select: '{ total unread unseen archived snoozed }' },
  { field: 'preferences', kind: 'query', args: {}, select: '{ category enabled }' },
  {
    field: 'setPreference', kind: 'mutation', select: '{ category enabled }',
    args: { input: [{ input: 'SetPreferenceInput', fields: { category: ['category', true], enabled: ['bool', true] } }, true] },
  },
  { field: 'deleteMessages', kind: 'mutation', args: { input: [{ input: 'DeleteMessagesInput', fields: { ids: [{ list: 'msgId' }, true] } }, true] }, select: '{ count notFound unreadCount }' },
  { field: 'consumeMessages', kind: 'mutation', args: {}, select: `{ unreadCount messages ${MESSAGE} }` },
  { field: 'inboxEvents', kind: 'subscription', args: { after: ['eventCursor', false] }, select: '{ signal messageIds unreadCount cursor message { id } }' },
  { field: 'messageAdded', kind: 'subscription', args: {}, select: '{ id text stored }' },
];

const SCALAR: Record<Role, string> = {
  text: 'String', tags: 'String', url: 'String', key: 'String', cursor: 'String', eventCursor: 'String', level: 'MessageLevel', data: 'JSON',
  past: 'DateTime', future: 'DateTime', until: 'DateTime', userId: 'ID', msgId: 'ID', size: 'Int', bool: 'Boolean', category: 'String', groupKey: 'String',
};

/** The GraphQL type of a shape, as a variable definition spells it. */
export function typeName(shape: Shape, required: boolean): string {
  const base = typeof shape === 'string' ? SCALAR[shape] : 'list' in shape ? `[${typeName(shape.list, true)}]` : shape.input;
  return required ? `${base}!` : base;
}

const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
const DAY = 86_400_000;

/** A value the server should accept (expiries far enough ahead that nothing expires during the run). */
export function validValue(r: Rng, shape: Shape, pool: Pool): unknown {
  if (typeof shape !== 'string') {
    if ('list' in shape) return Array.from({ length: 1 + r.int(3) }, () => validValue(r, shape.list, pool));
    const out: Record<string, unknown> = {};
    for (const [name, [s, required]] of Object.entries(shape.fields)) if (required || r.chance(0.4)) out[name] = validValue(r, s, pool);
    return out;
  }
  switch (shape) {
    case 'text': return `fuzz ${r.int(1e6)}`;
    case 'level': return r.pick(LEVELS);
    case 'tags': return r.pick(['', 'urgent', 'a b c']);
    case 'url': return r.pick(['https://example.com/a?b=c', 'http://localhost:1/x', '']);
    case 'data': return r.pick([{ k: r.int(100) }, [1, 2, 3], 'text', null, { nested: { deep: [true] } }]);
    case 'past': return iso(-r.int(30) * DAY);
    case 'future': return iso((1 + r.int(300)) * DAY);
    case 'until': return iso(r.pick([-DAY, 0, 365 * DAY]));
    case 'key': return `key-${r.int(30)}`;
    case 'userId': return r.pick([pool.user, pool.user, pool.bystander]);
    case 'msgId': return r.pick([...pool.ownIds, ...pool.ownIds, ...pool.flashIds, ...pool.otherIds, weirdId(r)].filter(Boolean));
    case 'size': return 1 + r.int(100);
    case 'cursor': return pool.cursors.length ? r.pick(pool.cursors) : null;
    case 'bool': return r.chance(0.5);
    case 'eventCursor': return null;
    case 'category': return r.pick(['billing', 'social', 'a.b-c_d', '0']);
    case 'groupKey': return r.pick(['pr:42', 'g', '🎉 group', `${'k'.repeat(254)}é`]);
  }
}

/** A hostile value for a leaf of this role, or anything at all. */
export function weirdFor(r: Rng, shape: Shape, anyType = true): unknown {
  if ((anyType && r.chance(0.3)) || typeof shape !== 'string') return weirdValue(r);
  switch (shape) {
    case 'level': return r.pick(['NOT_A_LEVEL', 'info', 'STORED_info', 10, '', 'DEBUG ']);
    case 'data': return weirdJson(r);
    case 'past': case 'future': case 'until': return weirdDate(r);
    case 'userId': return r.pick(['', 'u'.repeat(256), weirdString(r), 1, `\u0000`]);
    case 'msgId': case 'eventCursor': return r.chance(0.5) ? weirdId(r) : weirdCursor(r);
    case 'cursor': return weirdCursor(r);
    case 'size': return weirdNumber(r);
    case 'category': return r.pick(['', 'Billing', 'a b', 'x'.repeat(65), 'é', '*', weirdString(r)]);
    case 'groupKey': return r.pick(['', 'g'.repeat(256), '\u0000', '\uD800', weirdString(r)]);
    case 'url': return r.pick(['ftp://example.com', '/relative', 'https://', `https://example.com/${'a'.repeat(2_100)}`, 'http://[::1', weirdString(r)]);
    default: return weirdString(r);
  }
}

export type Path = (string | number)[];

/** Every path into a value (objects and arrays included), for choosing what to break. */
export function pathsOf(value: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

/** The shape at a path of an operation's arguments (a list's items share one shape). */
export function shapeAt(spec: OpSpec, path: Path): Shape | null {
  let shape: Shape | null = null;
  for (const [i, step] of path.entries()) {
    if (i === 0) shape = spec.args[step as string]?.[0] ?? null;
    else if (shape && typeof shape !== 'string') shape = 'list' in shape ? shape.list : (shape.fields[step as string]?.[0] ?? null);
    else return null;
  }
  return shape;
}

/** Every field an operation accepts, present or not, as paths (a list's first item stands for its items). */
export function shapePaths(spec: OpSpec): Path[] {
  const walk = (shape: Shape, at: Path): Path[] => {
    if (typeof shape === 'string') return [at];
    if ('list' in shape) return [at, ...walk(shape.list, [...at, 0])];
    return [at, ...Object.entries(shape.fields).flatMap(([name, [s]]) => walk(s, [...at, name]))];
  };
  return Object.entries(spec.args).flatMap(([name, [s]]) => walk(s, [name]));
}

/** A copy of `root` with the value at `path` replaced (`undefined` deletes it); missing objects and lists on the way are made. */
export function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(root) ? [...root] : root === undefined || root === null ? (typeof head === 'number' ? [] : {}) : { ...(root as object) };
  const next = setAt(copy[head], rest, value);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  else copy[head] = next;
  return copy;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A value as a GraphQL literal; enum roles print bare when they look like names. */
export function literal(value: unknown, shape: Shape | null): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : String(value).replace('e+', 'e');
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return shape === 'level' && NAME.test(value) ? value : JSON.stringify(value);
  const inner = shape && typeof shape !== 'string' ? shape : null;
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, inner && 'list' in inner ? inner.list : null)).join(', ')}]`;
  const fields = Object.entries(value as object).filter(([k]) => NAME.test(k));
  return `{${fields.map(([k, v]) => `${k}: ${literal(v, inner && 'fields' in inner ? (inner.fields[k]?.[0] ?? null) : null)}`).join(', ')}}`;
}

/** The document of one root field, with its arguments as variables or written inline. */
export function operationDocument(spec: OpSpec, args: Record<string, unknown>, inline: boolean, declared?: Record<string, string>): string {
  const names = Object.keys(args).filter((k) => args[k] !== undefined);
  const decls = inline || !names.length ? '' : `(${names.map((k) => `$${k}: ${declared?.[k] ?? typeName(spec.args[k]?.[0] ?? 'text', spec.args[k]?.[1] ?? false)}`).join(', ')})`;
  const passed = names.map((k) => `${k}: ${inline ? expandDeep(literal(args[k], spec.args[k]?.[0] ?? null), true) : `$${k}`}`).join(', ');
  return `${spec.kind} Fuzz${decls} { ${spec.field}${passed ? `(${passed})` : ''} ${spec.select} }`;
}
