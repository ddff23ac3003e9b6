import { badInput } from '../domain/errors.js';
import { isMessageId } from '../domain/message.js';

/**
 * Opaque global ids: base64url of "Message:<storage id>" (stored) or "Flash:<uuid>" (flash).
 * One message has one id, the same for every recipient. Malformed ids are BAD_USER_INPUT.
 */
export function encodeMessageId(id: string, stored: boolean): string {
  return Buffer.from(`${stored ? 'Message' : 'Flash'}:${id}`, 'utf8').toString('base64url');
}

export interface MessageRef {
  stored: boolean;
  id: string;
}

const FLASH = /^Flash:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function decodeMessageId(field: string, globalId: string): MessageRef {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(globalId)) throw badInput(field, 'malformed id');
  const raw = Buffer.from(globalId, 'base64url').toString('utf8');
  // Node decodes leniently (ignores stray trailing bits): only the canonical spelling is the message's id.
  if (Buffer.from(raw, 'utf8').toString('base64url') !== globalId) throw badInput(field, 'malformed id');
  if (raw.startsWith('Message:') && isMessageId(raw.slice(8))) return { stored: true, id: raw.slice(8) };
  const flash = FLASH.exec(raw);
  if (flash) return { stored: false, id: flash[1] };
  throw badInput(field, 'malformed id');
}

/**
 * Maps global ids to storage ids, remembering what the caller sent so `notFound` echoes it.
 * Flash ids are never stored messages: they come back in notFound.
 */
export async function withGlobalIds<R extends { notFound: string[] }>(ids: readonly string[], run: (storageIds: string[]) => Promise<R>): Promise<R> {
  const refs = ids.map((id, i) => ({ global: id, ref: decodeMessageId(`input.ids[${i}]`, id) }));
  const storedIds = refs.filter((r) => r.ref.stored).map((r) => r.ref.id);
  const result = await run(storedIds);
  const missing = new Set(result.notFound);
  const notFound = [...new Set(refs.filter((r) => !r.ref.stored || missing.has(r.ref.id)).map((r) => r.global))];
  return { ...result, notFound };
}

/** Cursors: base64url of "c:<storage cursor>". The store checks the inner format too. */
export const encodeCursor = (inner: string) => Buffer.from(`c:${inner}`, 'utf8').toString('base64url');

export function decodeCursor(field: string, cursor: string | null | undefined): string | null {
  if (cursor === null || cursor === undefined) return null;
  const raw = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!raw.startsWith('c:') || raw.length < 3) throw badInput(field, 'malformed cursor');
  return raw.slice(2);
}
