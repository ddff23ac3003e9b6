-- append-events.lua for many users' logs in one call (a single server only: the logs lie in many
-- hash slots). Each log ends as append-events.lua would leave it: the entries kept are those among
-- the last MAXLEN that are not older than the TTL, and the key expires TTL seconds after the call.
-- The TTL bound is taken once, when the call starts; a user with several events has it applied by
-- their first XADD (MINID) and MAXLEN by the later ones, which keeps the same entries as MAXLEN on
-- each and a final XTRIM MINID, with one command less per user.
-- A send's events differ only in their counts, so each distinct rest travels once per call as a
-- template (the event's JSON up to the unread count), and each event is its template, its unread
-- count, its unseen count and '}'.
--
-- KEYS          the users' logs
-- ARGV[1]       channel prefix: a user's channel is the prefix and their id
-- ARGV[2]       maxlen
-- ARGV[3]       ttl (seconds)
-- ARGV[4]       n, the number of templates, then the n templates
-- then per user, in KEYS order: user id, event count, and per event: template index, unread count
--               JSON, unseen count JSON
-- Returns       the number of logs written
local channel_prefix, maxlen, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local minid = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl * 1000)
local templates = {}
local n = tonumber(ARGV[4])
for j = 1, n do templates[j] = ARGV[4 + j] end
local a = 5 + n
for k = 1, #KEYS do
  local log = KEYS[k]
  local channel = channel_prefix .. ARGV[a]
  local count = tonumber(ARGV[a + 1])
  a = a + 2
  local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  local prev = '0-0'
  if #last > 0 then prev = last[1][1] end
  for q = 1, count do
    local event = templates[tonumber(ARGV[a])] .. ARGV[a + 1] .. ',"unseenCount":' .. ARGV[a + 2] .. '}'
    a = a + 3
    local id
    if q == 1 and count > 1 then id = redis.call('XADD', log, 'MINID', minid, '*', 'prev', prev, 'event', event)
    else id = redis.call('XADD', log, 'MAXLEN', maxlen, '*', 'prev', prev, 'event', event) end
    redis.call('PUBLISH', channel, id .. '|' .. prev .. '|' .. event)
    prev = id
  end
  if count == 1 then redis.call('XTRIM', log, 'MINID', minid) end
  redis.call('EXPIRE', log, ttl)
end
return #KEYS
