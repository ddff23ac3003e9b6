/** A message as one recipient sees it. Storage backends return these; nothing here knows GraphQL or SQL. */
export interface MessageRecord {
  /** Storage id: the same for every recipient of one message. Flash messages have their own id space. */
  id: string;
  level: number;
  text: string;
  extraTags: string;
  url: string | null;
  data: unknown;
  createdAt: Date;
  expiresAt: Date | null;
  readAt: Date | null;
  /** When the recipient first saw it (read implies seen); null while unseen. */
  seenAt: Date | null;
  /** Set while archived (archived implies read and seen). */
  archivedAt: Date | null;
  /** Set while snoozed: hidden from lists and counts until then. */
  snoozedUntil: Date | null;
  /** The producer's category (CONTRACT.md §9), or null. */
  category: string | null;
  /** The producer's group key, or null; an ungrouped message has groupCount 1. */
  groupKey: string | null;
  /** 1 + the groupCount of the unread message of the same group this one superseded for its recipient. */
  groupCount: number;
  stored: boolean;
}

/** What a producer gives for a new message, already validated and normalised. */
export interface NewMessage {
  level: number;
  text: string;
  extraTags: string;
  url: string | null;
  data: unknown;
  createdAt: Date;
  expiresAt: Date | null;
  /** Validated category (1-64 of a-z 0-9 . _ -), or null. */
  category: string | null;
  /** Delivered even to users who disabled `category`. */
  critical: boolean;
  /** Validated group key (1-255 characters), or null; never on a broadcast. */
  groupKey: string | null;
}

/** Dates cross JSON (Redis, idempotency replay) as strings; this brings them back. */
export function reviveMessage(raw: Omit<MessageRecord, 'createdAt' | 'expiresAt' | 'readAt' | 'seenAt' | 'archivedAt' | 'snoozedUntil'> & {
  createdAt: string | Date;
  expiresAt: string | Date | null;
  readAt: string | Date | null;
  // Absent in what was remembered before inbox states existed.
  seenAt?: string | Date | null;
  archivedAt?: string | Date | null;
  snoozedUntil?: string | Date | null;
  // Absent in what was remembered before categories existed.
  category?: string | null;
  groupKey?: string | null;
  groupCount?: number;
}): MessageRecord {
  const d = (v: string | Date | null | undefined) => (v === null || v === undefined ? null : new Date(v));
  return {
    ...raw,
    createdAt: new Date(raw.createdAt),
    expiresAt: d(raw.expiresAt),
    readAt: d(raw.readAt),
    seenAt: d(raw.seenAt ?? raw.readAt),
    archivedAt: d(raw.archivedAt),
    snoozedUntil: d(raw.snoozedUntil),
    category: raw.category ?? null,
    groupKey: raw.groupKey ?? null,
    groupCount: raw.groupCount ?? 1,
  };
}

/** Stored message ids are positive decimal integers (a bigint sequence); anything else is no one's message. */
export const isMessageId = (id: string) => /^[1-9]\d{0,17}$/.test(id);

/** A just-sent message as each recipient first sees it: stored, unread. */
export function deliveredRecord(id: string, m: NewMessage, groupCount = 1): MessageRecord {
  const { critical: _critical, ...shown } = m;
  return { id, ...shown, data: m.data ?? null, readAt: null, seenAt: null, archivedAt: null, snoozedUntil: null, groupCount, stored: true };
}
