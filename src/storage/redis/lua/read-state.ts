/**
 * A user's read state in Redis, built so that mark-all-read writes nothing per message (issue 5,
 * W5: the same few steps with 1,000 or 100,000 unread), yet every message keeps its own read time.
 *
 * Each live delivery is in exactly one of these:
 * - `n` above ru: unread. (Entries of `n` at or below ru mean nothing: a mark-all-read leaves
 *   them behind, and trim() drops them in bounded batches, in that call and then in the cleanup.)
 * - `r` (id -> readAt): read at that time, whatever ru is.
 * - `u`, always at or below ru: unread although under the watermark (unread again after a
 *   mark-all-read, or delivered below it late: a journalled send completed afterwards, a
 *   broadcast published late).
 * - none of them, at or below ru: read by a mark-all-read, at the time of the first mark at or
 *   above it in `k` (score = the id that call read up to, member = "<id>:<read time>:<count>",
 *   count = the deliveries still read by that mark; a mark goes when it reaches 0, unmark()).
 * So the unread ones are u, then n above ru (in id order): unread = |u| + |n above ru|.
 *
 * ru (in `s`, default 0) only grows. Mark-all-read (smMarkAll) raises it to the newest delivery
 * delivered by `until`, under one new mark, and gives the few `u` entries up to there an explicit
 * read time; unreading a message read by a mark moves it alone to `u`; a delivery arriving at or
 * below ru (add()) goes to `u`. Each costs O(log n), whatever the number of unread messages.
 */

/** Lua functions on the read state, part of LIB (lib.ts): they use its hmget and str. */
export const READ_STATE = `
-- The read watermark (read-state.ts).
local function read_upto(U)
  return tonumber(redis.call('HGET', U.s, 'ru') or '0')
end

-- Whether a delivery of the user counts as unread (truthy) given the read watermark ru.
local function is_unread(U, id, ru)
  if tonumber(id) > ru then return redis.call('ZSCORE', U.n, id) end
  return redis.call('ZSCORE', U.u, id)
end

-- Read times ('' or false = unread) of live deliveries ids (of the user, in id order, either way):
-- an explicit time from r, else at or below ru and not in u the time of the mark covering it.
-- Consecutive ids mostly share a mark, so the last mark found is reused with its range (lo, hi].
local function read_times(U, ids, ru)
  local out = hmget(U.r, ids)
  local lo, hi, at = 0, -1, false
  for j = 1, #ids do
    local id = tonumber(ids[j])
    if not out[j] and id <= ru and not redis.call('ZSCORE', U.u, ids[j]) then
      if id <= lo or id > hi then
        local mk = redis.call('ZRANGEBYSCORE', U.k, ids[j], '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
        lo, hi, at = 0, -1, false
        if mk[1] then
          local p = redis.call('ZREVRANGEBYSCORE', U.k, '(' .. mk[2], '-inf', 'LIMIT', 0, 1, 'WITHSCORES')
          lo, hi, at = tonumber(p[2] or '0'), tonumber(mk[2]), string.match(mk[1], '^%d+:(%d+):')
        end
      end
      out[j] = at
    end
  end
  return out
end

-- The read time of one live delivery ('' when unread).
local function read_at(U, id, ru)
  return read_times(U, { id }, ru)[1] or ''
end

-- A delivery read by a mark stops being so (deleted, reclaimed, unread again): the mark counts one
-- fewer and goes at 0, so marks never outnumber the deliveries they read.
local function unmark(U, id)
  local mk = redis.call('ZRANGEBYSCORE', U.k, id, '+inf', 'LIMIT', 0, 1)[1]
  if not mk then return end
  local w, at, c = string.match(mk, '^(%d+):(%d+):(%d+)$')
  redis.call('ZREM', U.k, mk)
  if tonumber(c) > 1 then redis.call('ZADD', U.k, w, w .. ':' .. at .. ':' .. str(tonumber(c) - 1)) end
end

-- Drops up to max of the meaningless n entries at or below ru (read-state.ts), oldest first;
-- answers how many are left. Cheap per entry (one ZREMRANGEBYRANK), but linear: hence bounded.
local function trim(U, ru, max)
  local c = redis.call('ZCOUNT', U.n, '-inf', str(ru))
  if c == 0 or max < 1 then return c end
  local k = math.min(c, max)
  redis.call('ZREMRANGEBYRANK', U.n, 0, k - 1)
  return c - k
end
`;
