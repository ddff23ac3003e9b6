-- Appends events to one log (a Redis stream) and publishes each, atomically and in order, so the
-- log order is the publish order. Each entry records the id before it (`prev`), which lets readers
-- detect a gap. MAXLEN keeps at least one entry, so the chain survives EVENTS_KEEP=0; MINID drops
-- entries older than the TTL, and the key expires TTL seconds after its last append.
--
-- KEYS[1]  log          the stream
-- ARGV[1]  channel      where each entry is published, as "<id>|<prev>|<event JSON>"
-- ARGV[2]  maxlen       entries kept at most
-- ARGV[3]  ttl          seconds
-- ARGV[4..] events      event JSON, oldest first
-- Returns  the id of the last entry
local log = KEYS[1]
local channel, maxlen, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local FIRST_EVENT = 4

local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
local prev = '0-0'
if #last > 0 then prev = last[1][1] end
for i = FIRST_EVENT, #ARGV do
  local id = redis.call('XADD', log, 'MAXLEN', maxlen, '*', 'prev', prev, 'event', ARGV[i])
  redis.call('PUBLISH', channel, id .. '|' .. prev .. '|' .. ARGV[i])
  prev = id
end
local t = redis.call('TIME')
local minid = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl * 1000
redis.call('XTRIM', log, 'MINID', string.format('%d', minid))
redis.call('EXPIRE', log, ttl)
return prev
