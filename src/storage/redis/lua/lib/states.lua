-- Reading and changing one delivery's inbox states (read-state.lua describes the keys), for the
-- scripts that need more than the counts: a library of its own, as a script pays on every call for
-- each function its text defines.

-- Times in state K ('' or false = not) of live deliveries ids (in id order, either way): an explicit
-- time from K.at, else at or below u and not in K.below the time of the mark covering it.
-- Consecutive ids mostly share a mark, so the last mark found is reused with its range (lo, hi].
local function times(K, ids)
  -- Most users have no explicit time in some state: one EXISTS instead of a lookup per id.
  local out = {}
  if redis.call('EXISTS', K.at) == 1 then out = hmget(K.at, ids) end
  local lo, hi, at = 0, -1, false
  for j = 1, #ids do
    local id = tonumber(ids[j])
    if not out[j] and id <= K.u and not redis.call('ZSCORE', K.below, ids[j]) then
      if id <= lo or id > hi then
        local mk = redis.call('ZRANGEBYSCORE', K.marks, ids[j], '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
        lo, hi, at = 0, -1, false
        if mk[1] then
          local p = redis.call('ZREVRANGEBYSCORE', K.marks, '(' .. mk[2], '-inf', 'LIMIT', 0, 1, 'WITHSCORES')
          lo, hi, at = tonumber(p[2] or '0'), tonumber(mk[2]), string.match(mk[1], '^%d+:(%d+):')
        end
      end
      out[j] = at
    end
  end
  return out
end

-- A delivery in state K by a mark stops being so (deleted, reclaimed, cleared, snoozed): the mark
-- counts one fewer and goes at 0, so marks never outnumber the deliveries they cover.
local function unmark(K, id)
  local mk = redis.call('ZRANGEBYSCORE', K.marks, id, '+inf', 'LIMIT', 0, 1)[1]
  if not mk then return end
  local w, at, c = string.match(mk, '^(%d+):(%d+):(%d+)$')
  redis.call('ZREM', K.marks, mk)
  if tonumber(c) > 1 then redis.call('ZADD', K.marks, w, w .. ':' .. at .. ':' .. str(tonumber(c) - 1)) end
end

-- Drops up to max of the meaningless K.nk entries at or below u, oldest first; answers how many
-- are left. Cheap per entry (one ZREMRANGEBYRANK), but linear: hence bounded.
local function trim(K, max)
  local c = redis.call('ZCOUNT', K.nk, '-inf', str(K.u))
  if c == 0 or max < 1 then return c end
  local k = math.min(c, max)
  redis.call('ZREMRANGEBYRANK', K.nk, 0, k - 1)
  return c - k
end

-- Takes a live, not snoozed delivery out of state K (it alone, under a watermark); answers whether it changed.
local function set_off(K, id, D)
  local below = tonumber(id) <= K.u
  if redis.call('HDEL', K.at, id) == 1 then
    redis.call('ZADD', below and K.below or K.nk, id, id)
  elseif below and not redis.call('ZSCORE', K.below, id) then
    -- In state K by a mark: it alone leaves it; the others keep their mark.
    redis.call('ZREM', K.nk, id)
    redis.call('ZADD', K.below, id, id)
    unmark(K, id)
  else
    return false
  end
  bump_k(D, K, 1)
  return true
end

-- Removes a delivery from K's keys; answers whether it was not in state K.
local function forget_kind(K, id)
  if redis.call('ZREM', K.below, id) == 1 then return true end
  if tonumber(id) > K.u then
    if redis.call('ZREM', K.nk, id) == 1 then return true end
    redis.call('HDEL', K.at, id)
    return false
  end
  redis.call('ZREM', K.nk, id) -- a leftover, if not trimmed yet
  if redis.call('HDEL', K.at, id) == 0 then unmark(K, id) end
  return false
end

-- The states a snoozed delivery keeps, or nil when it is not snoozed: { z = until, s, r, a } ('' = unset).
local function frozen(U, id)
  local v = redis.call('HGET', U.snoozes, id)
  if not v then return nil end
  local z, s, r, a = string.match(v, '^(%d*)|(%d*)|(%d*)|(%d*)$')
  return { z = z, s = s, r = r, a = a }
end

local function freeze(U, id, f)
  redis.call('HSET', U.snoozes, id, f.z .. '|' .. f.s .. '|' .. f.r .. '|' .. f.a)
end

-- Whether the user has snoozed deliveries (read once per script).
local function any_snoozed(U)
  if not U.nsnoozed then U.nsnoozed = redis.call('ZCARD', U.snoozed) end
  return U.nsnoozed > 0
end

-- The states of live deliveries ids as four lists of times (false or nil = unset): read, seen,
-- archived, snoozed until. metas: their metas (looked up when not given); each category's marks and
-- watermarks date its own deliveries. A snoozed one answers the states it keeps. unset: a kind
-- ('read', 'seen', 'archived') the caller knows none of ids is in (they come from an index of those
-- not in it), so it is not looked up.
local function states(U, ids, unset, metas)
  metas = metas or hmget(U.meta, ids)
  local R, S, A, Z = {}, {}, {}, {}
  local per, order = {}, {}
  for j = 1, #ids do
    local c = (metas[j] and category_of(metas[j])) or ''
    local g = per[c]
    if not g then
      g = { pos = {}, ids = {} }
      per[c] = g
      order[#order + 1] = c
    end
    g.pos[#g.pos + 1] = j
    g.ids[#g.ids + 1] = ids[j]
  end
  for _, c in ipairs(order) do
    local g = per[c]
    local K = kinds_of(U, c ~= '' and c or nil)
    for name, out in pairs({ read = R, seen = S, archived = A }) do
      if name ~= unset then
        local t = times(K[name], g.ids)
        for i, j in ipairs(g.pos) do out[j] = t[i] end
      end
    end
  end
  if any_snoozed(U) then
    local raw = hmget(U.snoozes, ids)
    for j = 1, #ids do
      if raw[j] then
        local z, s, r, a = string.match(raw[j], '^(%d*)|(%d*)|(%d*)|(%d*)$')
        Z[j], S[j], R[j], A[j] = z, s ~= '' and s, r ~= '' and r, a ~= '' and a
      end
    end
  end
  -- Read implies seen, at the latest when read (data kept before seen existed has only the read time).
  for j = 1, #ids do
    if R[j] and (not S[j] or tonumber(R[j]) < tonumber(S[j])) then S[j] = R[j] end
  end
  return R, S, A, Z
end

-- A delivery's groupCount as replies carry it ('' = 1).
local function gc_field(meta)
  local n = meta and group_of(meta) or 1
  if n == 1 then return '' end
  return str(n)
end

-- Appends id, readAt, seenAt, archivedAt, snoozedUntil ('' = unset), groupCount ('' = 1) for each of ids to out.
local function append_states(U, ids, out)
  local metas = hmget(U.meta, ids)
  local R, S, A, Z = states(U, ids, nil, metas)
  for j = 1, #ids do
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] = ids[j], R[j] or '', S[j] or '', A[j] or '', Z[j] or '', gc_field(metas[j])
  end
  return out
end
