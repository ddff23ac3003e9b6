-- Claims due schedules for one caller's delivery: those due by `now` in the pending index (soonest
-- first), and before them those another caller claimed and did not finish within its lease (it
-- died). Each claim moves the schedule to the claimed index with a lease; schedule-finish.lua ends it.
--
-- KEYS[1]  pending   zset: the pending index (schedule-lib.lua)
-- KEYS[2]  claimed   zset: claimed member -> when its lease ends (ms)
-- ARGV[1]  prefix    the schedule hash's key less the id
-- ARGV[2]  due_below the first index member not due: "<now + 1 ms, 15 digits>:"
-- ARGV[3]  limit
-- ARGV[4]  lease     ms
-- Returns id and fields (schedule-lib.lua) of each claimed schedule
local pending, claimed, prefix, due_below, limit, lease = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = sched_now()
local out = {}
local taken = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', claimed, '-inf', now, 'LIMIT', 0, limit)) do taken[#taken + 1] = member end
if #taken < limit then
  for _, member in ipairs(redis.call('ZRANGEBYLEX', pending, '-', '(' .. due_below, 'LIMIT', 0, limit - #taken)) do
    redis.call('ZREM', pending, member)
    taken[#taken + 1] = member
  end
end
for _, member in ipairs(taken) do
  redis.call('ZADD', claimed, now + lease, member)
  push_schedule(out, prefix, member_id(member))
end
return out
