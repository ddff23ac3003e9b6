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
-- The couplings (read implies seen, archived implies read) are kept by the operations: marking read
-- also marks seen, archiving marks both; mark-all-read raises seen too, archive-all all three. A
-- snoozed delivery is in none of these keys: `snoozes` keeps its states as they were (snooze.lua).
-- u only grows; a delivery arriving at or below u (put()) goes to K.below. Each costs O(log n).

-- Loads the three watermarks once per script into K.u; answers the read watermark.
local function uptos(U)
  if not U.K.read.u then
    local s = redis.call('HMGET', U.state, 'read-upto', 'seen-upto', 'archived-upto')
    U.K.read.u, U.K.seen.u, U.K.archived.u = tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0')
  end
  return U.K.read.u
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
