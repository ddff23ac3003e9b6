-- Standalone Redis: a broadcast in one atomic step, one write whatever the number of users (each
-- user takes it on their next script: the prelude's catch-up).
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     bodies-due
-- KEYS[8]     idempotency record (a placeholder when none)
-- ARGV[1..9]  as send-direct.lua
-- Returns 'new', id, recipients (the known users); or an earlier call's answer (idem_check)
local now = now_ms()
local G = gkeys(1)
local known = KEYS[6]
local S = {
  idempotent = ARGV[1] == '1', fingerprint = ARGV[2], body = ARGV[4], expires_at = ARGV[7],
  body_prefix = ARGV[8], bodies_due = KEYS[7], idem_key = KEYS[8],
}
local message, level, created_at, idem_ttl = ARGV[3], ARGV[5], ARGV[6], ARGV[9]
local earlier, id, t = begin_local(G, S, now)
if earlier then return earlier end
redis.call('ZADD', G.broadcasts, id, id)
redis.call('HSET', G.broadcast_meta, id, level .. '|' .. created_at .. '|' .. t .. '|' .. S.expires_at)
redis.call('HSET', G.sequence, 'last-broadcast', id)
local recipients = str(redis.call('HLEN', known))
if S.idempotent then idem_save(S.idem_key, S.fingerprint, id, recipients, message, true, idem_ttl) end
return { 'new', id, recipients }
