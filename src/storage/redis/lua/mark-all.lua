-- The "all" operations: puts every live delivery delivered at or before `until` that is not snoozed
-- in a state, in steps whose cost does not grow with their number (mark_all below). W = the newest
-- delivery delivered by then.
-- - 'seen': seen up to W.  'read': read and seen.  'archive': archived, read and seen.
-- - 'archive-read': archives only what is read now: the archived watermark rises to min(W, read
--   watermark), skipping the unread exceptions under it; the deliveries above the read watermark up
--   to W that were read one by one are archived one by one (only these cost per delivery).
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      kind   'seen' | 'read' | 'archive' | 'archive-read'
-- ARGV[i + 1]  until  ms
-- ARGV[i + 2]  category  only its deliveries ('' = every delivery: each category's in turn, so the
--              cost grows with the user's number of categories, never with their deliveries)
-- Returns 'ok', minexp, count (live deliveries that changed state: of the state named), then the
-- user's counts (total, unread, unseen, archived, snoozed)
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

-- Leftover index entries an "all" operation drops itself; the cleanup takes the rest.
local TRIM_INLINE = 1000

-- Puts in state K every live delivery not snoozed up to id W (those of K.below up to W that skip(id)
-- does not exclude get an explicit time; the rest by raising the watermark to W under one new mark).
-- K.nk entries the raise leaves behind: up to TRIM_INLINE go now, the cleanup takes the rest.
-- Answers how many live deliveries changed, and whether trimming is left.
local function mark_all(U, K, W, now, D, skip)
  local nowS = str(now)
  local count, moved = 0, 0
  local ex = redis.call('ZRANGEBYSCORE', K.below, '-inf', str(W))
  if #ex > 0 then
    local metas = hmget(U.meta, ex)
    local kv, taken = {}, {}
    for j = 1, #ex do
      if not (skip and skip(ex[j])) then
        kv[#kv + 1] = ex[j]
        kv[#kv + 1] = nowS
        taken[#taken + 1] = ex[j]
        if metas[j] and live(metas[j], now) then count = count + 1 end
      end
    end
    if #taken > 0 then
      chunked('HSET', K.at, kv, 2)
      chunked('ZREM', K.below, taken)
    end
    moved = #taken
  end
  local covered = 0
  if W > K.u then covered = redis.call('ZCOUNT', K.nk, '(' .. str(K.u), str(W)) end
  local left = false
  -- No mark when nothing is under it: u stays, and a later delivery in (u, W] is outside it anyway.
  if covered > 0 then
    redis.call('ZADD', K.marks, str(W), str(W) .. ':' .. nowS .. ':' .. str(covered))
    redis.call('HSET', U.state, K.upto, str(W))
    moved = moved + covered
    count = count + covered
    -- The counter counts expired-but-unreclaimed deliveries; the answer only live ones.
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now)) do
      local n = tonumber(id)
      if n > K.u and n <= W and redis.call('ZSCORE', K.nk, id) then count = count - 1 end
    end
    K.u = W
    left = trim(K, TRIM_INLINE) > 0
  end
  bump_k(D, K, -moved)
  return count, left
end

local user, kind, until_ms, category = ARGV[1], ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
uptos(U)
local W = last_delivered(U, until_ms)
local D, left = {}, false
local function raise(K, upto, skip)
  local count, l = mark_all(U, K, upto, now, D, skip)
  left = left or l
  return count
end

-- The operation on the deliveries of one category (or of none): kinds K.
local function apply(K)
  local R, S, A = K.read, K.seen, K.archived
  if kind == 'seen' then return raise(S, W) end
  if kind == 'read' then
    local count = raise(R, W)
    raise(S, W)
    return count
  end
  if kind == 'archive' then
    raise(S, W)
    raise(R, W)
    return raise(A, W)
  end
  local M = math.min(W, R.u)
  -- The unread exceptions under the read watermark stay unarchived: exceptions under the raised one.
  if M > A.u then
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', R.below, '(' .. str(A.u), str(M))) do
      if redis.call('ZREM', A.nk, id) == 1 then redis.call('ZADD', A.below, id, id) end
    end
  end
  local count = raise(A, M, function(id) return is_not(R, id) end)
  if W > R.u then
    -- Above the read watermark the read deliveries are those not in R.nk: none when both indexes hold as many.
    local lo, hi = '(' .. str(math.max(R.u, A.u)), str(W)
    if redis.call('ZCOUNT', A.nk, lo, hi) ~= redis.call('ZCOUNT', R.nk, lo, hi) then
      local nowS = str(now)
      for _, id in ipairs(redis.call('ZRANGEBYSCORE', A.nk, lo, hi)) do
        if not redis.call('ZSCORE', R.nk, id) and set_on(A, id, nowS, D) then
          local meta = redis.call('HGET', U.meta, id)
          if meta and live(meta, now) then count = count + 1 end
        end
      end
    end
  end
  return count
end

local count = 0
if category ~= '' then
  count = apply((kinds_of(U, category)))
else
  for _, K in ipairs(all_kinds(U)) do count = count + apply(K) end
end
flush(U, D)
if left then
  -- The cleanup visits users from users-due (cleanup.ts): due now, for the rest of the trimming.
  if G then redis.call('ZADD', G.users_due, 'LT', str(now), user)
  else minexp = min_exp(minexp, str(now)) end
end
local C = counts(U, now)
if count > 0 then wh_user(U, ARGV[1], now, 'all-' .. kind, C, ARGV[i + 1] .. '|' .. category) end
return append_counts(C, { wh_ok(), minexp, str(count) })
