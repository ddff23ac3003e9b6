-- Standalone Redis: a broadcast in one atomic step, one write whatever the number of users (each
-- user takes it on their next script: the prelude's catch-up).
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     bodies-due
-- KEYS[8]     idempotency record (a placeholder when none)
-- ARGV[1..10] as send-direct.lua (no group key: the preference applies at each user's catch-up)
-- Returns 'new', id, recipients (the known users); or an earlier call's answer (idem_check)
local now = now_ms()
local G = gkeys(1)
local known = KEYS[6]
local S, args = local_send_args()
local earlier, id, t = begin_local(G, S, now)
if earlier then return earlier end
redis.call('ZADD', G.broadcasts, id, id)
redis.call('HSET', G.broadcast_meta, id, args.level .. '|' .. args.created_at .. '|' .. t .. '|' .. S.expires_at .. ARGV[10])
redis.call('HSET', G.sequence, 'last-broadcast', id)
local recipients = str(redis.call('HLEN', known))
keep_recipients(G.sequence, nil, id, nil, nil, recipients)
if S.idempotent then idem_save(S.idem_key, S.fingerprint, id, recipients, args.message, true, args.idem_ttl) end
return { 'new', id, recipients }
