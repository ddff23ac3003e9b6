-- Standalone Redis: a whole multi-user send in one atomic step (idempotency claim, id, body, every
-- delivery, counters and indexes). Cluster never runs it: the body key is derived from the new id.
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     bodies-due
-- KEYS[8]     idempotency record (a placeholder when none)
-- KEYS[9]     webhooks-due (lib/webhooks.lua)
-- KEYS[10..]  each user's UK keys, in the order of ARGV[12..]
-- ARGV[1]     idempotent     '1' | '0'
-- ARGV[2]     fingerprint
-- ARGV[3]     message        JSON, kept for replays
-- ARGV[4]     body           (codec.ts)
-- ARGV[5]     level
-- ARGV[6]     created_at     ms
-- ARGV[7]     expires_at     ms ('' = never)
-- ARGV[8]     body_prefix    the body key less the id and '}'
-- ARGV[9]     idem_ttl       seconds
-- ARGV[10]    tail           "|category|critical|groupKey", or '' (lib/delivery.lua parse_spec)
-- ARGV[11]    webhooks       '1' when on (lib/webhooks.lua)
-- ARGV[12..]  user ids
-- Returns 'new', id, recipients (those the message reached), each user's user_reply() (lib/delivery.lua);
-- or an earlier call's answer (idem_check)
local FIRST_USER = 12
WH.on, WH.index = ARGV[11] == '1', KEYS[9]
local now = now_ms()
local G = gkeys(1)
G.known = KEYS[6]
local S, args = local_send_args()
local earlier, id, t = begin_local(G, S, now)
if earlier then return earlier end
local addressed = {}
for j = FIRST_USER, #ARGV do addressed[#addressed + 1] = ARGV[j] end
keep_recipients(G.sequence, S.body_prefix .. id .. '}', id, addressed, S.expires_at)
local P = parse_spec(args.level .. '|' .. args.created_at .. '|' .. t .. '|' .. S.expires_at .. ARGV[10])
local T = g_top(G)
local users = #ARGV - FIRST_USER + 1
local out = { 'new', id, '' }
local ux = {}
local reached = 0
for j = 0, users - 1 do
  local r = deliver_local(G, ukeys(10 + UK * j), ARGV[FIRST_USER + j], T, id, P, now, true, ux)
  if r ~= '-' then reached = reached + 1 end
  out[#out + 1] = r
end
out[3] = str(reached)
flush_ux(G, ux)
if S.idempotent then idem_save(S.idem_key, S.fingerprint, id, str(reached), args.message, true, args.idem_ttl) end
return out
