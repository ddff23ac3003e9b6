-- Standalone Redis: a broadcast in one atomic step, one write whatever the number of users (each
-- user takes it on their next script: the prelude's catch-up).
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     bodies-due
-- KEYS[8]     idempotency record (a placeholder when none)
-- KEYS[9]     the broadcasts' webhook stream (lib/webhooks.lua)
-- KEYS[10]    webhooks-due
-- ARGV[1..11] as send-direct.lua (no group key: the preference applies at each user's catch-up)
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
WH.on, WH.index = ARGV[11] == '1', KEYS[10]
if WH.on then wh_append(KEYS[9], G.sequence, '', now, 'broadcast|' .. id) end
return { 'new', id, recipients }
