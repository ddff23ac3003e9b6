-- Cluster send step: delivers one message to one user, idempotently (skips a delivery the user
-- has, deleted, or that expired), registering them first if new.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      id
-- ARGV[i + 1]  meta        "level|createdAt|deliveredAt|expiresAt"
-- ARGV[#ARGV]  registered  broadcasts-upto to start from, if the user is new
-- Returns 'ok', minexp, added ('1'|'0'), "<unread>:<unseen>"
redis.call('HSETNX', KEYS[1], 'broadcasts-upto', ARGV[#ARGV])
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end
local e = add(U, ARGV[i], ARGV[i + 1], now)
return { 'ok', minexp, e and '1' or '0', user_counts(counts(U, now)) }
