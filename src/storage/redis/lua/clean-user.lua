-- Reclaims a user's expired deliveries, then trims the `unread` entries mark-all-reads left behind.
--
-- KEYS[1 .. UK]  the user's keys (lib/base.lua)
-- ARGV[1]        max_deliveries  deliveries reclaimed at most
-- ARGV[2]        max_trim        entries trimmed at most
-- Returns how many deliveries went, how many entries were trimmed, and when the user is next due

local now = now_ms()
local U = ukeys(1)
local max_deliveries, max_trim = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now, 'LIMIT', 0, max_deliveries)
local ru = read_upto(U)
local unreadGone = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', U.deliveries, id)
  if forget_state(U, id, ru) then unreadGone = unreadGone + 1 end
  redis.call('HDEL', U.meta, id)
end
if #ids > 0 then
  chunked('ZREM', U.expiries, ids)
  redis.call('HINCRBY', U.state, 'unread', str(-unreadGone))
  redis.call('HINCRBY', U.state, 'total', str(-#ids))
end
local before = trim(U, ru, 0)
local left = trim(U, ru, max_trim)
return { str(#ids), str(before - left), next_due(U, ru, now) }
