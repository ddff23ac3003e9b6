-- Snoozing and waking deliveries (states.lua keeps what a snoozed one keeps). Counter changes go to D.

-- Snoozes live delivery id until z (ms), or moves its time when snoozed already; answers whether it changed.
-- Its states are kept as they are now, and it leaves every state index and count but `snoozed`.
local function snooze(U, id, meta, z, D)
  local f = frozen(U, id)
  if f then
    if f.z == z then return false end
    f.z = z
  else
    local cat = category_of(meta)
    local R, S, A = states(U, { id }, nil, { meta })
    f = { z = z, s = S[1] or '', r = R[1] or '', a = A[1] or '' }
    for _, K in ipairs(select(2, kinds_of(U, cat))) do
      if forget_kind(K, id) then bump_k(D, K, -1) end
    end
    bump_c(D, cat, 'total', -1)
    bump_c(D, cat, 'snoozed', 1)
    redis.call('ZADD', U.snoozed, id, id)
    U.nsnoozed = (U.nsnoozed or 0) + 1
  end
  freeze(U, id, f)
  redis.call('ZADD', U.wakes, z, id)
  return true
end

-- Wakes delivery id if snoozed: unread, unseen and not archived, in its place (under a watermark, an
-- exception of K.below); answers whether it was snoozed.
local function wake(U, id, meta, D)
  if redis.call('HDEL', U.snoozes, id) == 0 then return false end
  redis.call('ZREM', U.snoozed, id)
  redis.call('ZREM', U.wakes, id)
  local cat = meta and category_of(meta)
  for _, K in ipairs(select(2, kinds_of(U, cat))) do
    redis.call('ZADD', tonumber(id) <= K.u and K.below or K.nk, id, id)
    bump_k(D, K, 1)
  end
  bump_c(D, cat, 'total', 1)
  bump_c(D, cat, 'snoozed', -1)
  return true
end

-- When the user's next snoozed delivery wakes (ms), '' when none.
local function next_wake(U)
  return redis.call('ZRANGE', U.wakes, 0, 0, 'WITHSCORES')[2] or ''
end
