-- Reclaims finished (delivered or cancelled) schedules that finished before a time.
--
-- KEYS[1]  done      zset: finished schedule id -> when it finished
-- ARGV[1]  prefix    the schedule hash's key less the id
-- ARGV[2]  before    ms
-- ARGV[3]  limit
-- Returns how many went
local done, prefix = KEYS[1], ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', done, '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call('DEL', prefix .. id)
  redis.call('ZREM', done, id)
end
return #ids
