-- Changing inbox states (read-state.lua): one delivery at a time, every delivery up to a point
-- (the "all" operations), snoozing and waking. Counter changes go to D (flush()).

-- What each per-delivery operation does to a live delivery that is not snoozed, at time t;
-- answers whether its state changed. The couplings: read implies seen, archived implies read.
local OPS = {
  read = function(U, id, t, D)
    local changed = set_on(U.K.read, id, t, D)
    set_on(U.K.seen, id, t, D)
    return changed
  end,
  unread = function(U, id, _, D)
    set_off(U.K.archived, id, D)
    return set_off(U.K.read, id, D)
  end,
  seen = function(U, id, t, D)
    return set_on(U.K.seen, id, t, D)
  end,
  archive = function(U, id, t, D)
    set_on(U.K.seen, id, t, D)
    set_on(U.K.read, id, t, D)
    return set_on(U.K.archived, id, t, D)
  end,
  unarchive = function(U, id, _, D)
    return set_off(U.K.archived, id, D)
  end,
}

-- The same on the states a snoozed delivery keeps (f: frozen()); no counter changes (it counts as snoozed only).
local FROZEN_OPS = {
  read = function(f, t)
    if f.r ~= '' then return false end
    f.r = t
    if f.s == '' then f.s = t end
    return true
  end,
  unread = function(f)
    if f.r == '' then return false end
    f.r, f.a = '', ''
    return true
  end,
  seen = function(f, t)
    if f.s ~= '' then return false end
    f.s = t
    return true
  end,
  archive = function(f, t)
    if f.a ~= '' then return false end
    f.a = t
    if f.r == '' then f.r = t end
    if f.s == '' then f.s = t end
    return true
  end,
  unarchive = function(f)
    if f.a == '' then return false end
    f.a = ''
    return true
  end,
}

-- Applies operation op to live delivery id, snoozed or not; answers whether its state changed.
local function change(U, op, id, t, D)
  local f = any_snoozed(U) and frozen(U, id)
  if not f then return OPS[op](U, id, t, D) end
  if not FROZEN_OPS[op](f, t) then return false end
  freeze(U, id, f)
  return true
end

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
  bump(D, K.counter, -moved)
  return count, left
end

-- Snoozes live delivery id until z (ms), or moves its time when snoozed already; answers whether it changed.
-- Its states are kept as they are now, and it leaves every state index and count but `snoozed`.
local function snooze(U, id, z, D)
  local f = frozen(U, id)
  if f then
    if f.z == z then return false end
    f.z = z
  else
    local R, S, A = states(U, { id })
    f = { z = z, s = S[1] or '', r = R[1] or '', a = A[1] or '' }
    for _, K in ipairs(U.KS) do
      if forget_kind(K, id) then bump(D, K.counter, -1) end
    end
    bump(D, 'total', -1)
    bump(D, 'snoozed', 1)
    redis.call('ZADD', U.snoozed, id, id)
    U.nsnoozed = (U.nsnoozed or 0) + 1
  end
  freeze(U, id, f)
  redis.call('ZADD', U.wakes, z, id)
  return true
end

-- Wakes delivery id if snoozed: unread, unseen and not archived, in its place (under a watermark, an
-- exception of K.below); answers whether it was snoozed.
local function wake(U, id, D)
  if redis.call('HDEL', U.snoozes, id) == 0 then return false end
  redis.call('ZREM', U.snoozed, id)
  redis.call('ZREM', U.wakes, id)
  uptos(U)
  for _, K in ipairs(U.KS) do
    redis.call('ZADD', tonumber(id) <= K.u and K.below or K.nk, id, id)
    bump(D, K.counter, 1)
  end
  bump(D, 'total', 1)
  bump(D, 'snoozed', -1)
  return true
end

-- When the user's next snoozed delivery wakes (ms), '' when none.
local function next_wake(U)
  return redis.call('ZRANGE', U.wakes, 0, 0, 'WITHSCORES')[2] or ''
end
