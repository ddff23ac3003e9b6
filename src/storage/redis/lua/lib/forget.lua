-- Taking a delivery out of the inbox states (delete, reclaim), and when the cleanup is next due for a user.

-- Removes a live delivery from the states (read-state.lua) and the snooze keys, counting the change in D
-- (the caller removes it from deliveries, meta and expiries).
local function forget(U, id, D)
  if redis.call('HDEL', U.snoozes, id) == 1 then
    redis.call('ZREM', U.snoozed, id)
    redis.call('ZREM', U.wakes, id)
    bump(D, 'snoozed', -1)
    return
  end
  for _, K in ipairs(U.KS) do
    if forget_kind(K, id) then bump(D, K.counter, -1) end
  end
  bump(D, 'total', -1)
end

-- Whether any kind has index entries left to trim.
local function trim_left(U)
  for _, K in ipairs(U.KS) do
    if trim(K, 0) > 0 then return true end
  end
  return false
end

-- When the cleanup should visit the user next: their earliest expiry, now while trimming is left, '' = never.
local function next_due(U, now)
  uptos(U)
  local nxt = redis.call('ZRANGE', U.expiries, 0, 0, 'WITHSCORES')[2] or ''
  if trim_left(U) then nxt = min_exp(nxt, str(now)) end
  return nxt
end
