-- What the schedule scripts share (schedules.ts). A scheduled message is the hash
-- `<prefix>{global}:schedule:<id>` with message (NewMessage JSON), users (JSON array; '' for a
-- broadcast), deliver-at (ms), recipients, state (pending | delivered | cancelled), delivered (the
-- delivered message's id), slot (its member of the pending index). The pending index orders members
-- "<deliverAt, 15 digits>:<id, 18 digits>" (one score: lexicographic = by time, then id).

local SCHEDULE_FIELDS = { 'message', 'users', 'deliver-at', 'recipients', 'state' }

local function sched_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The id of a pending-index member (its last 18 digits, without the leading zeros).
local function member_id(member)
  return string.format('%d', tonumber(string.sub(member, 17)))
end

-- Appends id and SCHEDULE_FIELDS of the schedule to out.
local function push_schedule(out, prefix, id)
  out[#out + 1] = id
  local f = redis.call('HMGET', prefix .. id, unpack(SCHEDULE_FIELDS))
  for i = 1, #SCHEDULE_FIELDS do out[#out + 1] = f[i] or '' end
end
