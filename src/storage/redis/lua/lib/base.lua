-- Library shared by every storage script (the loader prepends lib/*.lua; EVAL scripts cannot
-- `require`). Ids and times travel as decimal strings; str() formats numbers without Lua's %.14g
-- rounding. Times are Redis's clock in ms.
--
-- A user's keys, `<prefix>{user:<id>}:<name>` (keys.ts USER_KEYS, in this order; ukeys names them):
--   state         hash: broadcasts-upto (newest broadcast delivered), read-upto (read watermark,
--                 default 0), unread and total (exact counters, expired-but-unreclaimed included)
--   deliveries    zset id -> id: every live delivery
--   unread        zset id -> id: unread, above read-upto (read-state.lua)
--   meta          hash id -> "level|createdAt|deliveredAt|expiresAt" (ms; expiresAt '' = never);
--                 positional, as the one field per delivery it is kept short
--   read-at       hash id -> when it was read
--   expiries      zset expiresAt -> id: the deliveries that expire
--   tombstones    zset deletedAt -> id: deleted while their send may still be completed
--   read-marks    zset: the mark-all-reads (read-state.lua)
--   unread-below  zset id -> id: unread at or below read-upto (read-state.lua)
-- Delivery times never decrease as ids grow (alloc), for every user.

local CH = 500

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function str(n) return string.format('%d', n) end

local UK = 9

-- A user's keys given as KEYS[i .. i + UK - 1].
local function ukeys(i)
  return {
    state = KEYS[i], deliveries = KEYS[i + 1], unread = KEYS[i + 2], meta = KEYS[i + 3], read_at = KEYS[i + 4],
    expiries = KEYS[i + 5], tombstones = KEYS[i + 6], marks = KEYS[i + 7], unread_below = KEYS[i + 8],
  }
end

-- keys.ts userTag: `{user:<id>}`, with % { } in the id escaped as %XX.
local function user_tag(id)
  if string.find(id, '[%%{}]') then
    id = (string.gsub(id, '[%%{}]', function(c) return string.format('%%%02X', string.byte(c)) end))
  end
  return '{user:' .. id .. '}'
end

-- A user's keys named inside the script (standalone scripts only: Cluster needs every key declared),
-- which spares passing UK keys per user.
local function ukeys_named(prefix, user)
  local b = prefix .. user_tag(user) .. ':'
  return {
    state = b .. 'state', deliveries = b .. 'deliveries', unread = b .. 'unread', meta = b .. 'meta', read_at = b .. 'read-at',
    expiries = b .. 'expiries', tombstones = b .. 'tombstones', marks = b .. 'read-marks', unread_below = b .. 'unread-below',
  }
end

local function parse(meta)
  local l, c, d, e = string.match(meta, '^(%d+)|(%-?%d+)|(%-?%d+)|(%-?%d*)$')
  if e == '' then e = nil else e = tonumber(e) end
  return tonumber(l), tonumber(c), tonumber(d), e
end

local function exp_of(meta)
  local e = string.match(meta, '|(%-?%d*)$')
  if e == nil or e == '' then return nil end
  return e
end

local function live(meta, now)
  local e = exp_of(meta)
  return e == nil or tonumber(e) > now
end

local function min_exp(a, b)
  if a == nil or a == '' then return b end
  if b == nil or b == '' then return a end
  if tonumber(b) < tonumber(a) then return b end
  return a
end

-- HMGET in chunks (Lua's unpack is bounded); missing fields come back as false.
local function hmget(key, ids)
  if #ids == 0 then return {} end
  if #ids <= CH then return redis.call('HMGET', key, unpack(ids)) end
  local out = {}
  for i = 1, #ids, CH do
    local part = redis.call('HMGET', key, unpack(ids, i, math.min(i + CH - 1, #ids)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end

-- Runs a variadic command on a list in chunks: cmd(key, <per-item args>...).
local function chunked(cmd, key, items, per)
  per = per or 1
  local step = CH * per
  for i = 1, #items, step do
    redis.call(cmd, key, unpack(items, i, math.min(i + step - 1, #items)))
  end
end
