-- Drops a webhook stream found empty from webhooks-due (outbox.ts), unless it was indexed since it
-- was claimed: a claim's lease puts its time after now, a writer's index (ZADD LT now) at or before.
-- The caller looks at the stream again after this (an event may have landed meanwhile).
--
-- KEYS[1]  webhooks-due
-- ARGV[1]  stream
-- ARGV[2]  now  ms
-- Returns 1 when dropped, else 0
local due_key, stream, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local at = redis.call('ZSCORE', due_key, stream)
if at and tonumber(at) > now then
  redis.call('ZREM', due_key, stream)
  return 1
end
return 0
