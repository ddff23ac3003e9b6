-- Filters, the ordered walks over a user's deliveries (all, or unread only), and mark-all-read's bound.

-- A filter: read_only ('1' = read deliveries only), levels ('-' = any, else comma-separated
-- level values), since / upto (createdAt bounds, ms, inclusive; '' = none).
local function filter(read_only, levels, since, upto)
  local F = { readOnly = read_only == '1' }
  if levels ~= '-' then
    F.levels = {}
    for l in string.gmatch(levels, '%d+') do F.levels[tonumber(l)] = true end
  end
  if since ~= '' then F.since = tonumber(since) end
  if upto ~= '' then F.upto = tonumber(upto) end
  return F
end

local function matches(F, meta, readAt, now)
  if not meta then return false end
  local l, c, d, e = parse(meta)
  if e and e <= now then return false end
  if F.readOnly and not readAt then return false end
  if F.levels and not F.levels[l] then return false end
  if F.since and c < F.since then return false end
  if F.upto and c > F.upto then return false end
  return true
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

local NO_READS = {}

-- Visits the live deliveries of zset key that match F, in id order (desc or asc) from bound to
-- far ('-inf' / '+inf' when not given), until visit(id, readAt, meta) returns false; answers false
-- then, true when the range ran out. unread: key holds unread deliveries only (unread-below, or unread above ru), so
-- none has a read time to look up.
local function walk(U, key, F, desc, bound, inclusive, size, now, ru, visit, far, unread)
  if size < 1 then size = 1 end
  far = far or (desc and '-inf' or '+inf')
  -- Without a level or time filter, a delivery matches when it has not expired (and, for readOnly, is
  -- read): no meta to parse, which is the costly part per delivery.
  local gone = not (F.levels or F.since or F.upto) and gone_of(U, F, now)
  while true do
    local from = bound
    if not inclusive and bound ~= '+inf' and bound ~= '-inf' then from = '(' .. bound end
    local ids
    if desc then ids = redis.call('ZREVRANGEBYSCORE', key, from, far, 'LIMIT', 0, size)
    else ids = redis.call('ZRANGEBYSCORE', key, from, far, 'LIMIT', 0, size) end
    if #ids == 0 then return true end
    local metas = hmget(U.meta, ids)
    local reads = unread and NO_READS or read_times(U, ids, ru)
    for j = 1, #ids do
      local ok
      if gone then ok = metas[j] and not gone[ids[j]] and (reads[j] or not F.readOnly)
      else ok = matches(F, metas[j], reads[j], now) end
      if ok and visit(ids[j], reads[j], metas[j]) == false then return false end
    end
    if #ids < size then return true end
    bound, inclusive = ids[#ids], false
    if size < 1000 then size = size * 2 end
  end
end

-- walk() over the unread deliveries: unread-below (all at or below ru) then unread above ru, in id order. The
-- `unread` entries at or below ru (read by a mark-all-read) are never visited, however many they are.
local function walk_unread(U, F, desc, bound, inclusive, size, now, ru, visit)
  if desc then
    return walk(U, U.unread, F, true, bound, inclusive, size, now, ru, visit, '(' .. str(ru), true)
      and walk(U, U.unread_below, F, true, bound, inclusive, size, now, ru, visit, nil, true)
  end
  if not walk(U, U.unread_below, F, false, bound, inclusive, size, now, ru, visit, nil, true) then return false end
  if bound == '-inf' or tonumber(bound) <= ru then bound, inclusive = str(ru), false end
  return walk(U, U.unread, F, false, bound, inclusive, size, now, ru, visit, nil, true)
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
