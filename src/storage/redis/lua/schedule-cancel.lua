-- Cancels a schedule still pending and not claimed. A claimed one is being delivered (or will be,
-- after its lease): it answers 'kept', as one already delivered or cancelled does.
--
-- KEYS[1]  pending   zset: the pending index (schedule-lib.lua)
-- KEYS[2]  done      zset: finished schedule id -> when it finished
-- ARGV[1]  prefix    the schedule hash's key less the id
-- ARGV[2]  id
-- Returns 'cancelled' or 'kept', then id and fields (schedule-lib.lua); or { 'unknown' }
local pending, done, prefix, id = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local key = prefix .. id
local f = redis.call('HMGET', key, 'state', 'slot')
if not f[1] then return { 'unknown' } end
local answer = 'kept'
if f[1] == 'pending' and redis.call('ZREM', pending, f[2]) == 1 then
  redis.call('HSET', key, 'state', 'cancelled')
  redis.call('ZADD', done, sched_now(), id)
  answer = 'cancelled'
end
local out = { answer }
push_schedule(out, prefix, id)
return out
