-- A user's inbox states, built so that the "all" operations (mark-all-read, mark-all-seen,
-- archive-all) write nothing per message (the same few steps with 1,000 or 100,000 covered), yet
-- every message keeps its own times. Three kinds K (U.K.read, U.K.seen, U.K.archived: base.lua),
-- each with a watermark u = state[K.upto] and the same four keys:
--
-- Each live delivery that is not snoozed is, for each K, in exactly one of these:
-- - K.nk, above u: not in state K. (Entries of K.nk at or below u mean nothing: an "all" operation
--   leaves them behind, and trim() (states.lua) drops them in bounded batches, in that call and then in the cleanup.)
-- - K.at (id -> time): in state K since then, whatever u is.
-- - K.below, always at or below u: not in state K although under the watermark (cleared again after
--   an "all" operation, woken from a snooze, or delivered below it late: a journalled send completed
--   afterwards, a broadcast published late).
-- - none of them, at or below u: put in state K by an "all" operation, at the time of the first mark
--   at or above it in K.marks (score = the id that call reached, member = "<id>:<time>:<count>",
--   count = the deliveries still in state K by that mark; a mark goes when it reaches 0, unmark()).
-- So the counter state[K.counter] = |K.below| + |K.nk above u| (unread, unseen, unarchived).
--
-- Categories (bucket(), base.lua): the deliveries of a category keep all of this in keys and fields of
-- their own (its watermarks, indexes, marks and counters `c:<category>:...`; the times K.at are
-- shared), so an "all" operation on one category is the same few steps on its keys alone, and the
-- whole-inbox one repeats them per category. The user's counters (unread, unseen, unarchived, total,
-- snoozed) count every delivery; a category's `c:<category>:<counter>` its own.
--
-- The couplings (read implies seen, archived implies read) are kept by the operations: marking read
-- also marks seen, archiving marks both; mark-all-read raises seen too, archive-all all three. A
-- snoozed delivery is in none of these keys: `snoozes` keeps its states as they were (snooze.lua).
-- u only grows; a delivery arriving at or below u (deliver_to()) goes to K.below. Each costs O(log n).

-- The kinds of category cat's deliveries (nil: without a category) with their watermarks loaded (once per script).
local function kinds_of(U, cat)
  local K, KS = bucket(U, cat)
  if not K.read.u then
    local s = redis.call('HMGET', U.state, K.read.upto, K.seen.upto, K.archived.upto)
    K.read.u, K.seen.u, K.archived.u = tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0')
  end
  return K, KS
end

-- Loads the watermarks of the deliveries without a category; answers the read one.
local function uptos(U)
  return kinds_of(U).read.u
end

-- The kinds of every category the user has had a delivery in, those without a category first.
local function all_kinds(U)
  local out = { (kinds_of(U)) }
  for _, cat in ipairs(redis.call('SMEMBERS', U.categories)) do out[#out + 1] = (kinds_of(U, cat)) end
  return out
end

-- Counter changes (field -> delta) a script collects, then writes once (flush).
local function bump(D, field, n)
  D[field] = (D[field] or 0) + n
end

-- The counter of K's kind changes by n: the user's, and its category's.
local function bump_k(D, K, n)
  bump(D, K.counter, n)
  if K.prefix then bump(D, K.prefix .. K.counter, n) end
end

-- A user counter (total, snoozed) changes by n for a delivery of category cat (nil: none).
local function bump_c(D, cat, field, n)
  bump(D, field, n)
  if cat then bump(D, 'c:' .. cat .. ':' .. field, n) end
end

local function flush(U, D)
  for field, n in pairs(D) do
    if n ~= 0 then redis.call('HINCRBY', U.state, field, str(n)) end
  end
end

-- Puts a live, not snoozed delivery in state K at time t; answers whether it changed.
local function set_on(K, id, t, D)
  local moved
  if tonumber(id) > K.u then moved = redis.call('ZREM', K.nk, id) == 1
  else moved = redis.call('ZREM', K.below, id) == 1 end
  if moved then
    redis.call('HSET', K.at, id, t)
    bump_k(D, K, -1)
  end
  return moved
end

-- Data written before the seen/archived/snoozed states existed has only the read keys: every
-- delivery unseen unless read, none archived. Builds the new keys from the read ones, once per user
-- (linear in their deliveries, the one step that is).
local function upgrade(U)
  local s = redis.call('HMGET', U.state, 'states', 'broadcasts-upto', 'read-upto', 'unread', 'total')
  -- Upgraded already, or not known yet (nothing to build; their first delivery upgrades them).
  if s[1] or not s[2] then return end
  local ru = s[3] or '0'
  local S, A = U.K.seen, U.K.archived
  redis.call('ZRANGESTORE', S.nk, U.unread, '(' .. ru, '+inf', 'BYSCORE')
  redis.call('ZUNIONSTORE', S.below, 1, U.unread_below)
  redis.call('ZUNIONSTORE', S.marks, 1, U.marks)
  redis.call('ZUNIONSTORE', A.nk, 1, U.deliveries)
  local at = redis.call('HGETALL', U.read_at)
  if #at > 0 then chunked('HSET', S.at, at, 2) end
  redis.call('HSET', U.state, 'states', '1', 'seen-upto', ru, 'unseen', s[4] or '0', 'unarchived', s[5] or '0')
end

-- Whether a live, not snoozed delivery is NOT in state K (truthy when not).
local function is_not(K, id)
  if tonumber(id) > K.u then return redis.call('ZSCORE', K.nk, id) end
  return redis.call('ZSCORE', K.below, id)
end
