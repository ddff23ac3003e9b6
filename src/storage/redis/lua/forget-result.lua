-- Deletes an idempotency record when it holds this fingerprint.
--
-- KEYS[1]  idempotency record
-- ARGV[1]  fingerprint
-- Returns 'ok'
local idem_key, fingerprint = KEYS[1], ARGV[1]
if redis.call('HGET', idem_key, 'fingerprint') == fingerprint then redis.call('DEL', idem_key) end
return 'ok'
