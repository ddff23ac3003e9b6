-- Cluster send step: delivers one message to one user, idempotently (skips a delivery the user
-- has, deleted, or that expired), registering them first if new.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      id
-- ARGV[i + 1]  spec        the message as lib/delivery.lua parse_spec takes it
-- ARGV[#ARGV]  registered  broadcasts-upto to start from, if the user is new
-- Returns 'ok' ('ok+': webhooks.lua wh_ok), minexp, added ('1'|'0'), the user's user_reply() (lib/delivery.lua)
redis.call('HSETNX', KEYS[1], 'broadcasts-upto', ARGV[#ARGV])
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end
local D = {}
local r = deliver_to(U, ARGV[i], parse_spec(ARGV[i + 1]), now, false, D)
flush(U, D)
local reply = user_reply(U, r, now)
-- Only a delivery made now: a resumed journal's second visit writes nothing again.
if type(r) == 'table' then wh_sent(U, ARGV[1], now, ARGV[i], reply) end
return { wh_ok(), minexp, type(r) == 'table' and '1' or '0', reply }
