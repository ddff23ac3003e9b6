-- Members of a schedule whose time has come.
--
-- KEYS[1]  schedule  a zset member -> due time (ms): users-due or bodies-due
-- ARGV[1]  limit
-- Returns the due members, earliest first
local schedule, limit = KEYS[1], tonumber(ARGV[1])
return redis.call('ZRANGEBYSCORE', schedule, '-inf', now_ms(), 'LIMIT', 0, limit)
