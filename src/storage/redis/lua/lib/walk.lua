-- Filters, the ordered walks over a user's deliveries (all, those not in one state, or the snoozed
-- ones), and the "all" operations' bound.

-- A tri-state filter argument: '1' true, '0' false, '' either.
local function tri(v)
  if v == '1' then return true elseif v == '0' then return false end
  return nil
end

-- A filter: read, seen, archived (tri()), snoozed ('1' = only snoozed ones, else none of them), levels
-- ('-' = any, else comma-separated level values), since / upto (createdAt bounds, ms, inclusive; '' = none).
local function filter(read, seen, archived, snoozed, levels, since, upto)
  local F = { read = tri(read), seen = tri(seen), archived = tri(archived), snoozed = snoozed == '1' }
  if levels ~= '-' then
    F.levels = {}
    for l in string.gmatch(levels, '%d+') do F.levels[tonumber(l)] = true end
  end
  if since ~= '' then F.since = tonumber(since) end
  if upto ~= '' then F.upto = tonumber(upto) end
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

-- Visits the live deliveries of zset key that match F, in id order (desc or asc) from bound to
-- far ('-inf' / '+inf' when not given), until visit(id, readAt, seenAt, archivedAt, snoozedUntil)
-- returns false; answers false then, true when the range ran out. F.nostates: the visitor needs no
-- states and F filters on none (saves looking them up). unset: a kind none of key's ids is in.
local function walk(U, key, F, desc, bound, inclusive, size, now, visit, far, unset)
  if size < 1 then size = 1 end
  far = far or (desc and '-inf' or '+inf')
  -- Without a level or time filter, a delivery matches when it has not expired (and its states
  -- match): no meta to parse, which is the costly part per delivery.
  local gone = not (F.levels or F.since or F.upto) and gone_of(U, F, now)
  local plain = F.nostates and (F.snoozed or not any_snoozed(U))
  while true do
    local from = bound
    if not inclusive and bound ~= '+inf' and bound ~= '-inf' then from = '(' .. bound end
    local ids
    if desc then ids = redis.call('ZREVRANGEBYSCORE', key, from, far, 'LIMIT', 0, size)
    else ids = redis.call('ZRANGEBYSCORE', key, from, far, 'LIMIT', 0, size) end
    if #ids == 0 then return true end
    local metas = hmget(U.meta, ids)
    local R, S, A, Z = {}, {}, {}, {}
    if not plain then R, S, A, Z = states(U, ids, unset) end
    for j = 1, #ids do
      local ok
      if gone then ok = metas[j] and not gone[ids[j]] else ok = matches(F, metas[j], now) end
      if ok and not plain then ok = states_match(F, R[j], S[j], A[j], Z[j]) end
      if ok and visit(ids[j], R[j], S[j], A[j], Z[j]) == false then return false end
    end
    if #ids < size then return true end
    bound, inclusive = ids[#ids], false
    if size < 1000 then size = size * 2 end
  end
end

-- walk() over the deliveries not in state K: K.below (all at or below u) then K.nk above u, in id
-- order. The K.nk entries at or below u (left by an "all" operation) are never visited, however many.
-- Neither index holds a delivery with a time in K, so K's times are not looked up.
local function walk_not(U, K, F, desc, bound, inclusive, size, now, visit)
  uptos(U)
  local u = str(K.u)
  if desc then
    return walk(U, K.nk, F, true, bound, inclusive, size, now, visit, '(' .. u, K)
      and walk(U, K.below, F, true, bound, inclusive, size, now, visit, nil, K)
  end
  if not walk(U, K.below, F, false, bound, inclusive, size, now, visit, nil, K) then return false end
  if bound == '-inf' or tonumber(bound) <= K.u then bound, inclusive = u, false end
  return walk(U, K.nk, F, false, bound, inclusive, size, now, visit, nil, K)
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
