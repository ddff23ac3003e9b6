-- Reclaims a user's expired deliveries, then trims the index entries the "all" operations left behind
-- (lib/read-state.lua), up to max_trim in all.
--
-- KEYS[1 .. UK]  the user's keys (lib/base.lua)
-- ARGV[1]        max_deliveries  deliveries reclaimed at most
-- ARGV[2]        max_trim        entries trimmed at most
-- Returns how many deliveries went, how many entries were trimmed, and when the user is next due

local now = now_ms()
local U = ukeys(1)
upgrade(U)
uptos(U)
local max_deliveries, max_trim = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now, 'LIMIT', 0, max_deliveries)
local D = {}
local metas = hmget(U.meta, ids)
for j, id in ipairs(ids) do
  redis.call('ZREM', U.deliveries, id)
  if metas[j] then forget(U, id, metas[j], D) end
  redis.call('HDEL', U.meta, id)
end
if #ids > 0 then chunked('ZREM', U.expiries, ids) end
flush(U, D)
local trimmed = 0
for _, B in ipairs(all_kinds(U)) do
  for _, name in ipairs({ 'read', 'seen', 'archived' }) do
    local K = B[name]
    local before = trim(K, 0)
    trimmed = trimmed + before - trim(K, max_trim - trimmed)
  end
end
return { str(#ids), str(trimmed), next_due(U, now) }
