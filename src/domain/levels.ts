/**
 * Message levels: Django's five, plus django-stored-messages' STORED_* levels (Django level + 1).
 * One explicit tag map, unlike the original, which mutated Django's global dicts.
 */
export const LEVELS = {
  DEBUG: { value: 10, tag: 'debug' },
  INFO: { value: 20, tag: 'info' },
  SUCCESS: { value: 25, tag: 'success' },
  WARNING: { value: 30, tag: 'warning' },
  ERROR: { value: 40, tag: 'error' },
  STORED_DEBUG: { value: 11, tag: 'stored debug' },
  STORED_INFO: { value: 21, tag: 'stored info' },
  STORED_SUCCESS: { value: 26, tag: 'stored success' },
  STORED_WARNING: { value: 31, tag: 'stored warning' },
  STORED_ERROR: { value: 41, tag: 'stored error' },
} as const;

export type LevelName = keyof typeof LEVELS;
export const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[];

const byValue = new Map<number, LevelName>(LEVEL_NAMES.map((name) => [LEVELS[name].value, name]));

/** The level name for a stored integer; throws on a value no level has (a storage bug, not user input). */
export function levelName(value: number): LevelName {
  const name = byValue.get(value);
  if (!name) throw new Error(`unknown level value ${value}`);
  return name;
}

export function levelTag(value: number): string {
  return LEVELS[levelName(value)].tag;
}

/** Django's Message.tags: extra tags and the level tag joined by one space, trimmed. */
export function messageTags(extraTags: string, value: number): string {
  return `${extraTags} ${levelTag(value)}`.trim();
}

export function isLevelName(name: string): name is LevelName {
  return Object.prototype.hasOwnProperty.call(LEVELS, name);
}
