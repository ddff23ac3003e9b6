-- Claims due schedules for one caller's delivery: those another caller claimed and did not finish
-- within its lease (it died), then those due by `now` in the pending index (soonest first), up to
-- `limit` schedules and `max_deliveries` deliveries (a broadcast counts one; at least one schedule).
-- Each claim moves the schedule to the claimed index with a lease; schedule-finish.lua ends it.
--
-- KEYS[1]  pending          zset: the pending index (schedule-lib.lua)
-- KEYS[2]  claimed          zset: claimed member -> when its lease ends (ms)
-- ARGV[1]  prefix           the schedule hash's key less the id
-- ARGV[2]  due_below        the first index member not due: "<now + 1 ms, 15 digits>:"
-- ARGV[3]  limit
-- ARGV[4]  lease            ms
-- ARGV[5]  max_deliveries
-- Returns id and fields (schedule-lib.lua) of each claimed schedule
local pending, claimed, prefix, due_below = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local limit, lease, max_deliveries = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = sched_now()
local out = {}
local deliveries = 0
local taken = 0

-- Claims `member` unless the deliveries would pass the maximum; false once full.
local function claim(member, from_pending)
  local id = member_id(member)
  local weight = 1
  if redis.call('HSTRLEN', prefix .. id, 'users') > 0 then weight = tonumber(redis.call('HGET', prefix .. id, 'recipients')) end
  if taken > 0 and deliveries + weight > max_deliveries then return false end
  deliveries = deliveries + weight
  taken = taken + 1
  if from_pending then redis.call('ZREM', pending, member) end
  redis.call('ZADD', claimed, now + lease, member)
  push_schedule(out, prefix, id)
  return true
end

local full = false
for _, member in ipairs(redis.call('ZRANGEBYSCORE', claimed, '-inf', now, 'LIMIT', 0, limit)) do
  if not claim(member, false) then full = true break end
end
if not full and taken < limit then
  for _, member in ipairs(redis.call('ZRANGEBYLEX', pending, '-', '(' .. due_below, 'LIMIT', 0, limit - taken)) do
    if not claim(member, true) then break end
  end
end
return out
