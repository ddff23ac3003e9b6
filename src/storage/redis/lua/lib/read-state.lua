-- A user's read state, built so that mark-all-read writes nothing per message (the same few steps
-- with 1,000 or 100,000 unread), yet every message keeps its own read time. ru = state.read-upto.
--
-- Each live delivery is in exactly one of these:
-- - `unread`, above ru: unread. (Entries of `unread` at or below ru mean nothing: a mark-all-read
--   leaves them behind, and trim() drops them in bounded batches, in that call and then in the cleanup.)
-- - `read-at` (id -> readAt): read at that time, whatever ru is.
-- - `unread-below`, always at or below ru: unread although under the watermark (unread again after
--   a mark-all-read, or delivered below it late: a journalled send completed afterwards, a
--   broadcast published late).
-- - none of them, at or below ru: read by a mark-all-read, at the time of the first mark at or
--   above it in `read-marks` (score = the id that call read up to, member = "<id>:<read time>:<count>",
--   count = the deliveries still read by that mark; a mark goes when it reaches 0, unmark()).
-- So unread = |unread-below| + |unread above ru|, in id order: unread-below first.
--
-- ru only grows. Mark-all-read (mark-all-read.lua) raises it to the newest delivery delivered by
-- `until`, under one new mark, and gives the few unread-below entries up to there an explicit read
-- time; unreading a message read by a mark moves it alone to unread-below; a delivery arriving at
-- or below ru (add()) goes to unread-below. Each costs O(log n), whatever the number of unread.

-- The read watermark.
local function read_upto(U)
  return tonumber(redis.call('HGET', U.state, 'read-upto') or '0')
end

-- Whether a delivery of the user counts as unread (truthy) given the read watermark ru.
local function is_unread(U, id, ru)
  if tonumber(id) > ru then return redis.call('ZSCORE', U.unread, id) end
  return redis.call('ZSCORE', U.unread_below, id)
end

-- Read times ('' or false = unread) of live deliveries ids (of the user, in id order, either way):
-- an explicit time from read-at, else at or below ru and not in unread-below the time of the mark covering it.
-- Consecutive ids mostly share a mark, so the last mark found is reused with its range (lo, hi].
local function read_times(U, ids, ru)
  local out = hmget(U.read_at, ids)
  local lo, hi, at = 0, -1, false
  for j = 1, #ids do
    local id = tonumber(ids[j])
    if not out[j] and id <= ru and not redis.call('ZSCORE', U.unread_below, ids[j]) then
      if id <= lo or id > hi then
        local mk = redis.call('ZRANGEBYSCORE', U.marks, ids[j], '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
        lo, hi, at = 0, -1, false
        if mk[1] then
          local p = redis.call('ZREVRANGEBYSCORE', U.marks, '(' .. mk[2], '-inf', 'LIMIT', 0, 1, 'WITHSCORES')
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
  local mk = redis.call('ZRANGEBYSCORE', U.marks, id, '+inf', 'LIMIT', 0, 1)[1]
  if not mk then return end
  local w, at, c = string.match(mk, '^(%d+):(%d+):(%d+)$')
  redis.call('ZREM', U.marks, mk)
  if tonumber(c) > 1 then redis.call('ZADD', U.marks, w, w .. ':' .. at .. ':' .. str(tonumber(c) - 1)) end
end

-- Drops up to max of the meaningless `unread` entries at or below ru, oldest first;
-- answers how many are left. Cheap per entry (one ZREMRANGEBYRANK), but linear: hence bounded.
local function trim(U, ru, max)
  local c = redis.call('ZCOUNT', U.unread, '-inf', str(ru))
  if c == 0 or max < 1 then return c end
  local k = math.min(c, max)
  redis.call('ZREMRANGEBYRANK', U.unread, 0, k - 1)
  return c - k
end
