-- Standalone Redis, large sends: one chunk of a journalled send (journal.ts), idempotent per
-- recipient. The script names each user's keys itself (standalone only).
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     webhooks-due (lib/webhooks.lua)
-- ARGV[1]     id
-- ARGV[2]     spec     the message as lib/delivery.lua parse_spec takes it
-- ARGV[3]     prefix   REDIS_PREFIX (user keys: lib/base.lua ukeys_named)
-- ARGV[4]     webhooks '1' when on (lib/webhooks.lua): each delivery made now is recorded with it, so a
--             chunk replayed by a resumed journal records nothing twice
-- ARGV[5..]   user ids
-- Returns each user's user_reply() (lib/delivery.lua)
local id, P, prefix = ARGV[1], parse_spec(ARGV[2]), ARGV[3]
local FIRST_USER = 5
WH.on, WH.index = ARGV[4] == '1', KEYS[7]
local now = now_ms()
local G = gkeys(1)
G.known = KEYS[6]
local T = g_top(G)
local out = {}
local ux = {}
for j = FIRST_USER, #ARGV do
  out[#out + 1] = deliver_local(G, ukeys_named(prefix, ARGV[j]), ARGV[j], T, id, P, now, false, ux)
end
flush_ux(G, ux)
return out
