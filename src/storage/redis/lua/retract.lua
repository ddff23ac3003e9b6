-- A retraction's global step (lib/retract.lua): what the id is, and for a broadcast the retraction
-- itself (one write whatever the number of users: each user loses it at their next script's prelude).
--
-- KEYS[1]  sequence
-- KEYS[2]  broadcasts
-- KEYS[3]  broadcast-meta
-- KEYS[4]  retractions
-- KEYS[5]  bodies-due
-- KEYS[6]  broadcast-recipients  hash broadcast id -> the users known when it was sent
-- KEYS[7]  the schedule hash of the id (schedule-lib.lua), which may not exist
-- KEYS[8]  the broadcasts' webhook stream (lib/webhooks.lua)
-- KEYS[9]  webhooks-due
-- ARGV[1]  id
-- ARGV[2]  webhooks  '1' when on
-- Returns 'again' (retracted before, or a cancelled schedule), 'scheduled' (pending: the caller
-- cancels it), 'delivered', <the delivered message's id>, 'broadcast', <its recipients>, or 'other'
-- (a direct message, or an id never sent: the caller looks for its recipients)
local sequence, broadcasts, broadcast_meta, retractions, bodies_due, recipients, schedule = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id = ARGV[1]
if redis.call('ZSCORE', retractions, id) then return { 'again' } end
local s = redis.call('HMGET', schedule, 'state', 'delivered')
if s[1] == 'pending' then return { 'scheduled' } end
if s[1] == 'delivered' then return { 'delivered', s[2] } end
if s[1] then return { 'again' } end
if not redis.call('ZSCORE', broadcasts, id) then return { 'other' } end
redis.call('ZREM', broadcasts, id)
redis.call('HDEL', broadcast_meta, id)
redis.call('ZREM', bodies_due, id)
local n = redis.call('HINCRBY', sequence, 'last-retraction', 1)
redis.call('ZADD', retractions, n, id)
local count = redis.call('HGET', recipients, id) or '0'
redis.call('HDEL', recipients, id)
WH.on, WH.index = ARGV[2] == '1', KEYS[9]
if WH.on then wh_append(KEYS[8], sequence, '', now_ms(), 'unbroadcast|' .. id) end
return { 'broadcast', count }
