-- Claims due webhook streams (outbox.ts): up to n streams of webhooks-due whose time is at or before
-- now, each leased (its time moved to now + lease) in this same step, so two callers never hold one.
--
-- KEYS[1]  webhooks-due  zset stream (user id, '' = the broadcasts') -> when its first event is due
-- ARGV[1]  now    ms
-- ARGV[2]  n      streams at most
-- ARGV[3]  lease  ms
-- Returns the claimed streams, the longest due first
local due_key = KEYS[1]
local now, n, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local streams = redis.call('ZRANGEBYSCORE', due_key, '-inf', now, 'LIMIT', 0, n)
local leased = string.format('%d', now + lease)
for _, stream in ipairs(streams) do redis.call('ZADD', due_key, 'XX', leased, stream) end
return streams
