-- A page of pending schedules after a cursor, soonest first, and how many are pending.
--
-- KEYS[1]  pending   zset: the pending index (schedule-lib.lua)
-- ARGV[1]  prefix    the schedule hash's key less the id
-- ARGV[2]  after     the cursor's index member ('' = from the start)
-- ARGV[3]  limit     schedules at most
-- Returns the pending count, then id and fields (schedule-lib.lua) of each schedule
local pending, prefix, after, limit = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = { string.format('%d', redis.call('ZCARD', pending)) }
if limit == 0 then return out end
local from = '-'
if after ~= '' then from = '(' .. after end
for _, member in ipairs(redis.call('ZRANGEBYLEX', pending, from, '+', 'LIMIT', 0, limit)) do
  push_schedule(out, prefix, member_id(member))
end
return out
