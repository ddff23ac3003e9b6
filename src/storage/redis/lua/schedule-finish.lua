-- Marks claimed schedules delivered, once each (a second finish of one changes nothing): the caller
-- whose finish marks one is the one to signal its delivery (a deliverer that outlived its lease and the
-- one that retook its claim both finish it).
--
-- KEYS[1]  claimed   zset: claimed member -> lease end
-- KEYS[2]  done      zset: finished schedule id -> when it finished (the cleanup's)
-- ARGV[1]  prefix    the schedule hash's key less the id
-- ARGV[2..] pairs: schedule id, delivered message id
-- Returns the ids of the schedules this call marked
local claimed, done, prefix = KEYS[1], KEYS[2], ARGV[1]
local now = sched_now()
local marked = {}
for i = 2, #ARGV, 2 do
  local key = prefix .. ARGV[i]
  local f = redis.call('HMGET', key, 'state', 'slot')
  if f[1] == 'pending' then
    redis.call('HSET', key, 'state', 'delivered', 'delivered', ARGV[i + 1])
    redis.call('ZREM', claimed, f[2])
    redis.call('ZADD', done, now, ARGV[i])
    marked[#marked + 1] = ARGV[i]
  end
end
return marked
