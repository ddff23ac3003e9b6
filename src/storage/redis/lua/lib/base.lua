-- Library shared by every storage script (the loader prepends lib/*.lua; EVAL scripts cannot
-- `require`). Ids and times travel as decimal strings; str() formats numbers without Lua's %.14g
-- rounding. Times are Redis's clock in ms.
--
-- A user's keys, `<prefix>{user:<id>}:<name>` (keys.ts USER_KEYS, in this order; U's fields: USER_FIELDS):
--   state         hash: broadcasts-upto (newest broadcast delivered); the watermarks read-upto,
--                 seen-upto, archived-upto (default 0); the exact counters unread, unseen, unarchived,
--                 total (not snoozed) and snoozed (expired-but-unreclaimed included); states ('1' once
--                 the user's keys have the seen/archived/snoozed indexes: upgrade() in read-state.lua)
--   deliveries    zset id -> id: every live delivery
--   unread        zset id -> id: unread, above read-upto (read-state.lua)
--   meta          hash id -> "level|createdAt|deliveredAt|expiresAt[|category[|groupCount|group]]" (ms;
--                 expiresAt '' = never; group: sha1 of the group key); positional, as the one field per
--                 delivery it is kept short (data from before categories has the first four only)
--   read-at       hash id -> when it was read
--   expiries      zset expiresAt -> id: the deliveries that expire
--   tombstones    zset deletedAt -> id: deleted while their send may still be completed
--   read-marks    zset: the mark-all-reads (read-state.lua)
--   unread-below  zset id -> id: unread at or below read-upto (read-state.lua)
--   unseen, unseen-below, seen-at, seen-marks: the same four for seen (seen-upto)
--   unarchived, unarchived-below, archived-at, archived-marks: the same four for archived (archived-upto)
--   snoozes       hash id -> "until|seenAt|readAt|archivedAt" (ms, '' = unset): snoozed deliveries and
--                 the states they had when snoozed (they are in none of the twelve keys above)
--   snoozed       zset id -> id: the snoozed deliveries
--   wakes         zset until -> id: when each snoozed delivery wakes
--   prefs         hash category -> '1' | '0': the user's preferences
--   groups        hash sha1(group key) -> id: the newest delivery of each group (grouping, delivery.lua)
--   categories    set: the categories the user has had a delivery in (read-state.lua buckets)
--   webhooks      list: the user's webhook stream, oldest first (webhooks.lua)
-- Delivery times never decrease as ids grow (alloc), for every user.

local CH = 500

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function str(n) return string.format('%d', n) end

local USER_KEY_NAMES = {
  'state', 'deliveries', 'unread', 'meta', 'read-at', 'expiries', 'tombstones', 'read-marks', 'unread-below',
  'unseen', 'unseen-below', 'seen-at', 'seen-marks', 'unarchived', 'unarchived-below', 'archived-at', 'archived-marks',
  'snoozes', 'snoozed', 'wakes', 'prefs', 'groups', 'categories', 'webhooks',
}
local UK = #USER_KEY_NAMES

-- A user's keys as fields of U (USER_FIELDS: a key's place in USER_KEY_NAMES), resolved on first use,
-- as every script pays for what it builds and most use a few of them. U.K (U.KS, the same in a list)
-- holds the three kinds of state (read-state.lua) of the deliveries without a category, each with its
-- watermark field, the counter of those not in that state, and keys: nk (not in it, above the
-- watermark), below (not in it, at or below), at (explicit times), marks; and u, its watermark once
-- loaded (uptos). Each category has the same three kinds of its own (bucket()): its deliveries are in
-- its keys `c:<category>:<name>` and fields, never in those of U.K; prefix names its counter fields.
-- A category's K.deliveries indexes its deliveries by id (beside U.deliveries, which has them all).
local USER_FIELDS = {
  state = 1, deliveries = 2, unread = 3, meta = 4, read_at = 5, expiries = 6, tombstones = 7, marks = 8, unread_below = 9,
  unseen = 10, unseen_below = 11, seen_at = 12, seen_marks = 13, unarchived = 14, unarchived_below = 15, archived_at = 16,
  archived_marks = 17, snoozes = 18, snoozed = 19, wakes = 20, prefs = 21, groups = 22, categories = 23, webhooks = 24,
}

-- The prefix of U's keys, `<prefix>{user:<id>}:` (the state key less its name).
local function ubase(U)
  return U._base or string.sub(KEYS[U._first], 1, -6)
end

local function kinds(U, cat)
  local R, S, A, deliveries
  if not cat then
    R = { upto = 'read-upto', counter = 'unread', nk = U.unread, below = U.unread_below, at = U.read_at, marks = U.marks, u = false }
    S = { upto = 'seen-upto', counter = 'unseen', nk = U.unseen, below = U.unseen_below, at = U.seen_at, marks = U.seen_marks, u = false }
    A = { upto = 'archived-upto', counter = 'unarchived', nk = U.unarchived, below = U.unarchived_below, at = U.archived_at, marks = U.archived_marks, u = false }
  else
    -- Categories are a-z 0-9 . _ - (validated): safe inside key and field names.
    local f = 'c:' .. cat .. ':'
    local k = ubase(U) .. f
    R = { upto = f .. 'read-upto', counter = 'unread', prefix = f, nk = k .. 'unread', below = k .. 'unread-below', at = U.read_at, marks = k .. 'read-marks', u = false }
    S = { upto = f .. 'seen-upto', counter = 'unseen', prefix = f, nk = k .. 'unseen', below = k .. 'unseen-below', at = U.seen_at, marks = k .. 'seen-marks', u = false }
    A = { upto = f .. 'archived-upto', counter = 'unarchived', prefix = f, nk = k .. 'unarchived', below = k .. 'unarchived-below', at = U.archived_at, marks = k .. 'archived-marks', u = false }
    deliveries = k .. 'deliveries'
  end
  return { read = R, seen = S, archived = A, cat = cat, deliveries = deliveries }, { R, S, A }
end

-- The three kinds of the deliveries of category cat (nil: without a category, U.K), built once per script.
local function bucket(U, cat)
  if not cat then return U.K, U.KS end
  local B = rawget(U, 'B')
  if not B then
    B = {}
    rawset(U, 'B', B)
  end
  if not B[cat] then
    local K, KS = kinds(U, cat)
    B[cat] = { K, KS }
  end
  return B[cat][1], B[cat][2]
end

local LAZY_KEYS = {
  __index = function(U, f)
    local j = USER_FIELDS[f]
    if j then
      local v
      if U._base then v = U._base .. USER_KEY_NAMES[j] else v = KEYS[U._first + j - 1] end
      rawset(U, f, v)
      return v
    end
    if f == 'K' or f == 'KS' then
      local K, KS = kinds(U)
      rawset(U, 'K', K)
      rawset(U, 'KS', KS)
      if f == 'K' then return K end
      return KS
    end
    return nil
  end,
}

-- A user's keys given as KEYS[i .. i + UK - 1].
local function ukeys(i)
  return setmetatable({ _first = i, nsnoozed = false }, LAZY_KEYS)
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
  return setmetatable({ _base = prefix .. user_tag(user) .. ':', nsnoozed = false }, LAZY_KEYS)
end

local function parse(meta)
  local l, c, d, e = string.match(meta, '^(%d+)|(%-?%d+)|(%-?%d+)|(%-?%d*)')
  if e == '' then e = nil else e = tonumber(e) end
  return tonumber(l), tonumber(c), tonumber(d), e
end

local function exp_of(meta)
  local e = string.match(meta, '^[^|]*|[^|]*|[^|]*|(%-?%d*)')
  if e == nil or e == '' then return nil end
  return e
end

-- A delivery's category (nil when it has none).
local function category_of(meta)
  local c = string.match(meta, '^[^|]*|[^|]*|[^|]*|[^|]*|([^|]*)')
  if c == '' then return nil end
  return c
end

-- A delivery's groupCount (1 when ungrouped) and its group's digest (nil when ungrouped).
local function group_of(meta)
  local n, g = string.match(meta, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|(%d+)|(%x+)$')
  if not n then return 1, nil end
  return tonumber(n), g
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
