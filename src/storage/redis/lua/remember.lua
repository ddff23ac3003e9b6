-- Keeps a non-send result under an idempotency key, unless the key has one (lib/send.lua).
--
-- KEYS[1]  idempotency record
-- ARGV[1]  fingerprint
-- ARGV[2]  result    JSON
-- ARGV[3]  idem_ttl  seconds
-- Returns { 'new' }, or an earlier call's answer (idem_check)
local idem_key = KEYS[1]
local fingerprint, result, idem_ttl = ARGV[1], ARGV[2], ARGV[3]
local c = idem_check(idem_key, fingerprint)
if c then return c end
redis.call('HSET', idem_key, 'fingerprint', fingerprint, 'result', result)
redis.call('EXPIRE', idem_key, idem_ttl)
return { 'new' }
