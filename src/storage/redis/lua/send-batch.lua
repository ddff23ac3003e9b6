-- Standalone Redis: many direct sends without idempotency keys in one script (group commit,
-- send.ts). Each send runs under pcall, so one that fails (a Redis error) fails alone, as it would
-- in a script of its own. The script names each user's keys itself (standalone only).
--
-- KEYS[1..5]  gkeys() (lib/deliver.lua): sequence broadcasts broadcast-meta broadcasts-pending users-due
-- KEYS[6]     known-users
-- KEYS[7]     bodies-due
-- KEYS[8]     webhooks-due (lib/webhooks.lua)
-- ARGV[1]     prefix       REDIS_PREFIX (user keys: lib/base.lua ukeys_named)
-- ARGV[2]     body_prefix  the body key less the id and '}'
-- ARGV[3]     webhooks     '1' when on (lib/webhooks.lua)
-- then per send: body, level, created_at, expires_at ('' = never), tail ("|category|critical|groupKey"
--             or ''), n, n user ids
-- Returns per send: its id and each user's user_reply() (lib/delivery.lua), or 'e' and the error
local prefix, body_prefix = ARGV[1], ARGV[2]
local FIRST_SEND = 4
WH.on, WH.index = ARGV[3] == '1', KEYS[8]
local now = now_ms()
local G = gkeys(1)
G.known = KEYS[6]
local bodies_due = KEYS[7]
local T = g_top(G)
local ux = {}

local function one(a, n)
  local body, level, created_at, expires_at, tail = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local id, t = alloc(G.sequence, now)
  redis.call('SET', body_prefix .. id .. '}', body)
  if expires_at ~= '' then redis.call('ZADD', bodies_due, expires_at, id) end
  local addressed = {}
  for j = a + 6, a + 5 + n do addressed[#addressed + 1] = ARGV[j] end
  keep_recipients(G.sequence, body_prefix .. id .. '}', id, addressed, expires_at)
  local P = parse_spec(level .. '|' .. created_at .. '|' .. t .. '|' .. expires_at .. tail)
  local r = { id }
  for j = a + 6, a + 5 + n do
    r[#r + 1] = deliver_local(G, ukeys_named(prefix, ARGV[j]), ARGV[j], T, id, P, now, true, ux)
  end
  return r
end

local out = {}
local a = FIRST_SEND
while a <= #ARGV do
  local n = tonumber(ARGV[a + 5])
  local ok, r = pcall(one, a, n)
  if ok then
    for i = 1, #r do out[#out + 1] = r[i] end
  else
    out[#out + 1] = 'e'
    out[#out + 1] = type(r) == 'table' and tostring(r.err) or tostring(r)
  end
  a = a + 6 + n
end
flush_ux(G, ux)
return out
