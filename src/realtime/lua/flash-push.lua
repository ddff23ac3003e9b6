-- Appends a flash message, drops expired and overflowing entries, refreshes the key's TTL.
--
-- KEYS[1]  list     the user's flash list (flash-lib.lua)
-- ARGV[1]  ttl      ms
-- ARGV[2]  max      entries kept (the oldest go)
-- ARGV[3]  id       message id
-- ARGV[4]  message  message JSON
-- Returns  1
local list = KEYS[1]
local ttl, max, id, message = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local now = now_ms()
drop_expired(list, now)
redis.call('RPUSH', list, string.format('%d', now + ttl) .. '|' .. id .. '|' .. message)
redis.call('LTRIM', list, -max, -1)
redis.call('PEXPIRE', list, ttl)
return 1
