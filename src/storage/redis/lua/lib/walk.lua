-- Filters, the ordered walks over a user's deliveries (all, those not in one state, or the snoozed
-- ones), and the "all" operations' bound.

-- A tri-state filter argument: '1' true, '0' false, '' either.
local function tri(v)
  if v == '1' then return true elseif v == '0' then return false end
  return nil
end

-- A filter: read, seen, archived (tri()), snoozed ('1' = only snoozed ones, else none of them), levels
-- ('-' = any, else comma-separated level values), since / upto (createdAt bounds, ms, inclusive; '' = none),
-- categories ('-' = any, else comma-separated; '' = none at all).
local function filter(read, seen, archived, snoozed, levels, since, upto, categories)
  local F = { read = tri(read), seen = tri(seen), archived = tri(archived), snoozed = snoozed == '1' }
  if levels ~= '-' then
    F.levels = {}
    for l in string.gmatch(levels, '%d+') do F.levels[tonumber(l)] = true end
  end
  if since ~= '' then F.since = tonumber(since) end
  if upto ~= '' then F.upto = tonumber(upto) end
  if categories and categories ~= '-' then
    F.cats, F.catlist = {}, {}
    for c in string.gmatch(categories, '[^,]+') do
      F.cats[c] = true
      F.catlist[#F.catlist + 1] = c
    end
  end
  return F
end

local function matches(F, meta, now)
  if not meta then return false end
  local l, c, d, e = parse(meta)
  if e and e <= now then return false end
  if F.levels and not F.levels[l] then return false end
  if F.since and c < F.since then return false end
  if F.upto and c > F.upto then return false end
  return true
end

-- Whether states (times or false) pass F's state conditions; want: true, false or nil (either).
local function wanted(want, at)
  return want == nil or (want == (at and true or false))
end

local function states_match(F, r, s, a, z)
  return wanted(F.read, r) and wanted(F.seen, s) and wanted(F.archived, a) and ((F.snoozed or false) == (z and true or false))
end

-- The user's deliveries that have expired but are not reclaimed yet (their expiries entries up to now), as a
-- set of ids, once per script (kept in F); false when there are more than 256 (the cleanup is behind):
-- walk() then reads each delivery's expiry from its meta instead.
local function gone_of(U, F, now)
  if F.gone == nil then
    local ids = redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now, 'LIMIT', 0, 257)
    F.gone = false
    if #ids <= 256 then
      F.gone = {}
      for _, id in ipairs(ids) do F.gone[id] = true end
    end
  end
  return F.gone
end

local function num(b)
  if b == '+inf' then return math.huge elseif b == '-inf' then return -math.huge end
  return tonumber(b)
end

-- A zset key's ids within (lo, hi] (numbers, +-math.huge for open ends) (a segment) from bound on, at
-- most size of them, in id order (desc or asc).
local function fetch(seg, desc, bound, inclusive, size)
  local b = num(bound)
  local function ex(x) if x == -math.huge then return '-inf' end return '(' .. str(x) end
  local function inc(x) if x == math.huge then return '+inf' end return str(x) end
  if desc then
    local max = inc(seg.hi)
    if b < seg.hi then max = inclusive and bound or '(' .. bound end
    if b <= seg.lo then return {} end
    return redis.call('ZREVRANGEBYSCORE', seg.key, max, ex(seg.lo), 'LIMIT', 0, size)
  end
  local min = ex(seg.lo)
  if b > seg.lo then min = inclusive and bound or '(' .. bound end
  if b > seg.hi then return {} end
  return redis.call('ZRANGEBYSCORE', seg.key, min, inc(seg.hi), 'LIMIT', 0, size)
end

-- Visits the live deliveries of segs (disjoint sets of ids: { key, lo, hi }, fetch()) that match F, in
-- id order (desc or asc) from bound (a number, '-inf' or '+inf'), until visit(id, readAt, seenAt,
-- archivedAt, snoozedUntil, meta) returns false; answers false then, true when they ran out. Several
-- segments are merged by id, round by round. F.nostates: the visitor needs no states and F filters on
-- none (saves looking them up). unset: a kind none of their ids is in ('read', 'seen', 'archived').
local function walk(U, segs, F, desc, bound, inclusive, size, now, visit, unset)
  if size < 1 then size = 1 end
  -- Without a level or time filter, a delivery matches when it has not expired (and its states
  -- match): no meta to parse, which is the costly part per delivery.
  local gone = not (F.levels or F.since or F.upto) and gone_of(U, F, now)
  local plain = F.nostates and (F.snoozed or not any_snoozed(U))
  while true do
    local ids, full, parts = {}, false, 0
    for _, seg in ipairs(segs) do
      local part = fetch(seg, desc, bound, inclusive, size)
      if #part == size then full = true end
      if #part > 0 then parts = parts + 1 end
      for _, id in ipairs(part) do ids[#ids + 1] = id end
    end
    if #ids > size then full = true end
    -- Most rounds find ids in one segment only: already in order.
    if parts > 1 then
      if desc then table.sort(ids, function(a, b) return tonumber(a) > tonumber(b) end)
      else table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end) end
      for j = #ids, size + 1, -1 do ids[j] = nil end
    end
    if #ids == 0 then return true end
    local metas = hmget(U.meta, ids)
    local R, S, A, Z = {}, {}, {}, {}
    if not plain then R, S, A, Z = states(U, ids, unset, metas) end
    for j = 1, #ids do
      local ok
      if gone then ok = metas[j] and not gone[ids[j]] else ok = matches(F, metas[j], now) end
      if ok and F.cats then ok = F.cats[category_of(metas[j]) or ''] end
      if ok and not plain then ok = states_match(F, R[j], S[j], A[j], Z[j]) end
      if ok and visit(ids[j], R[j], S[j], A[j], Z[j], metas[j]) == false then return false end
    end
    if not full then return true end
    bound, inclusive = ids[#ids], false
    if size < 1000 then size = size * 2 end
  end
end

-- The segments of every delivery of the user, or of the snoozed ones.
local function all_of(key)
  return { { key = key, lo = -math.huge, hi = math.huge } }
end

-- The segments of the deliveries not in state `name` ('read', 'seen', 'archived') of the kinds Ks (a
-- list of kinds_of(), one per category): each one's K.below (all at or below its watermark) and K.nk
-- above it, but none of a category whose counter says it has none. The K.nk entries at or below the
-- watermark (left by an "all" operation) are never visited, however many. Neither index holds a
-- delivery with a time in K (walk()'s unset).
local function not_in(U, Ks, name)
  local fields = {}
  for j, B in ipairs(Ks) do fields[j] = (B[name].prefix or '') .. B[name].counter end
  local n = hmget(U.state, fields)
  local segs = {}
  for j, B in ipairs(Ks) do
    local K = B[name]
    if tonumber(n[j] or '0') ~= 0 then
      segs[#segs + 1] = { key = K.below, lo = -math.huge, hi = K.u }
      segs[#segs + 1] = { key = K.nk, lo = K.u, hi = math.huge }
    end
  end
  return segs
end

-- The newest delivery (id as a number) delivered at or before t, 0 when none. Delivery times
-- never decrease with ids, so this is a binary search over the ranks of a (O(log^2 n)); the
-- newest one, tried first, usually qualifies.
local function last_delivered(U, t)
  local function delivered(rank)
    local id = redis.call('ZRANGE', U.deliveries, rank, rank)[1]
    local _, _, d = parse(redis.call('HGET', U.meta, id))
    return tonumber(id), d
  end
  local size = redis.call('ZCARD', U.deliveries)
  if size == 0 then return 0 end
  local id, d = delivered(size - 1)
  if d <= t then return id end
  local lo, hi, best = 0, size - 2, 0
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    id, d = delivered(mid)
    if d <= t then best, lo = id, mid + 1 else hi = mid - 1 end
  end
  return best
end
