-- Taking a delivery out of the read state (delete, reclaim), and when the cleanup is next due for a user.

-- Removes id from the read state (read-state.lua); answers whether it counted as unread.
local function forget_state(U, id, ru)
  if redis.call('ZREM', U.unread_below, id) == 1 then return true end
  if tonumber(id) > ru then
    if redis.call('ZREM', U.unread, id) == 1 then return true end
    redis.call('HDEL', U.read_at, id)
    return false
  end
  redis.call('ZREM', U.unread, id) -- a leftover, if not trimmed yet
  if redis.call('HDEL', U.read_at, id) == 0 then unmark(U, id) end
  return false
end

-- When the cleanup should visit the user next: their earliest expiry, now while trimming is left, '' = never.
local function next_due(U, ru, now)
  local nxt = redis.call('ZRANGE', U.expiries, 0, 0, 'WITHSCORES')[2] or ''
  if trim(U, ru, 0) > 0 then nxt = min_exp(nxt, str(now)) end
  return nxt
end
