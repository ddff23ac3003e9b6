-- Taking a delivery out of the inbox states (delete, reclaim), and when the cleanup is next due for a user.

-- Removes a live delivery (meta: its meta) from the states (read-state.lua), the snooze keys, its
-- category's index and its group's, counting the change in D (the caller removes it from deliveries, meta and expiries).
-- Answers whether it was unread (a snoozed one is not: it counts only as snoozed).
local function forget(U, id, meta, D)
  local cat = category_of(meta)
  local _, g = group_of(meta)
  if g and redis.call('HGET', U.groups, g) == id then redis.call('HDEL', U.groups, g) end
  local B, KS = kinds_of(U, cat)
  if cat then redis.call('ZREM', B.deliveries, id) end
  if redis.call('HDEL', U.snoozes, id) == 1 then
    redis.call('ZREM', U.snoozed, id)
    redis.call('ZREM', U.wakes, id)
    bump_c(D, cat, 'snoozed', -1)
    return false
  end
  local unread = false
  for _, K in ipairs(KS) do
    if forget_kind(K, id) then
      bump_k(D, K, -1)
      if K.counter == 'unread' then unread = true end
    end
  end
  bump_c(D, cat, 'total', -1)
  return unread
end

-- Whether any kind of any category has index entries left to trim.
local function trim_left(U)
  for _, K in ipairs(all_kinds(U)) do
    for _, name in ipairs({ 'read', 'seen', 'archived' }) do
      if trim(K[name], 0) > 0 then return true end
    end
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
