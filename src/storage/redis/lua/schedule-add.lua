-- Keeps a message for later under a new message id (one id space with messages), or answers the
-- schedule an earlier call with the same idempotency key made.
--
-- KEYS[1]  sequence        hash: last-id (the message id sequence)
-- KEYS[2]  known-users     hash: its size is a broadcast's recipient count
-- KEYS[3]  pending         zset: the pending index (schedule-lib.lua)
-- KEYS[4]  idempotency record (a placeholder when none)
-- ARGV[1]  prefix          the schedule hash's key less the id
-- ARGV[2]  idempotent      '1' | '0'
-- ARGV[3]  fingerprint
-- ARGV[4]  message         NewMessage JSON
-- ARGV[5]  users           JSON array of distinct users; '' for a broadcast
-- ARGV[6]  recipients      the number of users ('' for a broadcast: the known users now)
-- ARGV[7]  deliver_at      ms
-- ARGV[8]  deliver_at_15   deliver_at as 15 digits
-- ARGV[9]  idem_ttl        seconds
-- Returns 'new' or 'replay', then id and the schedule's fields (schedule-lib.lua); or { 'mismatch' }
local sequence, known, pending, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, idempotent, fingerprint = ARGV[1], ARGV[2] == '1', ARGV[3]
if idempotent then
  local rec = redis.call('HMGET', idem, 'fingerprint', 'scheduled')
  if rec[1] then
    if rec[1] ~= fingerprint or not rec[2] then return { 'mismatch' } end
    local out = { 'replay' }
    push_schedule(out, prefix, rec[2])
    return out
  end
end
local id = string.format('%d', redis.call('HINCRBY', sequence, 'last-id', 1))
local recipients = ARGV[6]
if recipients == '' then recipients = string.format('%d', redis.call('HLEN', known)) end
local slot = ARGV[8] .. ':' .. string.format('%018d', tonumber(id))
redis.call('HSET', prefix .. id, 'message', ARGV[4], 'users', ARGV[5], 'deliver-at', ARGV[7], 'recipients', recipients, 'state', 'pending', 'slot', slot)
redis.call('ZADD', pending, 0, slot)
if idempotent then
  redis.call('HSET', idem, 'fingerprint', fingerprint, 'scheduled', id)
  redis.call('EXPIRE', idem, ARGV[9])
end
local out = { 'new' }
push_schedule(out, prefix, id)
return out
