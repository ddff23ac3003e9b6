/**
 * The one rule for which Redis Cluster slot a user's keys live in: every key of one user, in
 * storage and in live delivery, starts with `<REDIS_PREFIX>{user:<id>}`, so they share a slot and
 * a script may touch all of them. `%`, `{` and `}` in the id are escaped (`%7B`), so an id can
 * neither end the hash tag early nor collide with another id. lib.lua's `user_tag` is the same rule.
 */
export const userTag = (userId: string): string =>
  `{user:${userId.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
