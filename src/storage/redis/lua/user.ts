/**
 * Scripts on one user's keys (one hash slot: `{u:<id>}`). Each starts with `prelude` (lib.ts),
 * which first delivers the broadcasts the user has not had yet, and answers
 * { 'ok', <earliest expiry the catch-up added or ''>, ...result } or { 'behind', <watermark> }.
 * Work is bounded by the user's own deliveries; filtered walks fetch in growing chunks.
 */

/** Filters and the ordered walk over a user's sorted set. */
const WALK = `
local function filter_from(i)
  local F = { readOnly = ARGV[i + 1] == '1' }
  if ARGV[i + 2] ~= '-' then
    F.levels = {}
    for l in string.gmatch(ARGV[i + 2], '%d+') do F.levels[tonumber(l)] = true end
  end
  if ARGV[i + 3] ~= '' then F.since = tonumber(ARGV[i + 3]) end
  if ARGV[i + 4] ~= '' then F.upto = tonumber(ARGV[i + 4]) end
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

-- Visits the live deliveries of zset key that match F, in id order (desc or asc) from bound,
-- until visit(id, readAt, meta) returns false.
local function walk(U, key, F, desc, bound, inclusive, size, now, visit)
  if size < 1 then size = 1 end
  while true do
    local from = bound
    if not inclusive and bound ~= '+inf' and bound ~= '-inf' then from = '(' .. bound end
    local ids
    if desc then ids = redis.call('ZREVRANGEBYSCORE', key, from, '-inf', 'LIMIT', 0, size)
    else ids = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'LIMIT', 0, size) end
    if #ids == 0 then return end
    local metas = hmget(U.m, ids)
    local reads = hmget(U.r, ids)
    for j = 1, #ids do
      if matches(F, metas[j], reads[j], now) and visit(ids[j], reads[j], metas[j]) == false then return end
    end
    if #ids < size then return end
    bound, inclusive = ids[#ids], false
    if size < 1000 then size = size * 2 end
  end
end
`;

const HEAD = `
local now = now_ms()
local U, i, minexp, behind = prelude(now)
if behind then return { 'behind', behind } end
`;

export const USER_SCRIPTS = {
  /** ARGV: src ('a'|'n'), readOnly, levels ('-' = any), since, until, dir ('f'|'b'), limit, cursor, total ('c' counters | 's' scan). */
  smList: WALK + HEAD + `
local key = U.a
if ARGV[i] == 'n' then key = U.n end
local F = filter_from(i)
local desc = ARGV[i + 5] == 'f'
local limit = tonumber(ARGV[i + 6])
local cursor = ARGV[i + 7]
local start = cursor
if start == '' then start = desc and '+inf' or '-inf' end
local items = {}
walk(U, key, F, desc, start, false, limit + 1, now, function(id, r)
  items[#items + 1] = id
  items[#items + 1] = r or ''
  return #items < 2 * (limit + 1)
end)
local more = '0'
if #items > 2 * limit then
  more = '1'
  items[#items] = nil
  items[#items] = nil
end
local other = '0'
if cursor ~= '' then
  walk(U, key, F, not desc, cursor, true, 8, now, function() other = '1'; return false end)
end
local total = 0
if ARGV[i + 8] == 'c' then
  local unread, all = counts(U, now)
  if key == U.n then total = unread elseif F.readOnly then total = all - unread else total = all end
else
  walk(U, key, F, true, '+inf', true, 256, now, function() total = total + 1 end)
end
local out = { 'ok', minexp, more, other, str(total) }
for _, v in ipairs(items) do out[#out + 1] = v end
return out
`,

  /** ARGV: id. Answers '' (not the user's, or expired) or '1', readAt. */
  smGet: HEAD + `
local meta = redis.call('HGET', U.m, ARGV[i])
if not meta or not live(meta, now) then return { 'ok', minexp, '' } end
return { 'ok', minexp, '1', redis.call('HGET', U.r, ARGV[i]) or '' }
`,

  smCount: HEAD + `
local unread = counts(U, now)
return { 'ok', minexp, str(unread) }
`,

  /** ARGV: '1' read | '0' unread, ids (distinct). Answers unread, #changed, changed..., found id/readAt pairs. */
  smSetRead: HEAD + `
local read = ARGV[i] == '1'
local nowS = str(now)
local changed, found, delta = {}, {}, 0
for j = i + 1, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.m, id)
  if meta and live(meta, now) then
    if read then
      if redis.call('ZREM', U.n, id) == 1 then
        redis.call('HSET', U.r, id, nowS)
        changed[#changed + 1] = id
        delta = delta - 1
      end
    elseif redis.call('HDEL', U.r, id) == 1 then
      redis.call('ZADD', U.n, id, id)
      changed[#changed + 1] = id
      delta = delta + 1
    end
    found[#found + 1] = id
    found[#found + 1] = redis.call('HGET', U.r, id) or ''
  end
end
if delta ~= 0 then redis.call('HINCRBY', U.s, 'unread', str(delta)) end
local unread = counts(U, now)
local out = { 'ok', minexp, str(unread), str(#changed) }
for _, v in ipairs(changed) do out[#out + 1] = v end
for _, v in ipairs(found) do out[#out + 1] = v end
return out
`,

  /** ARGV: until (ms). Marks read every live unread delivery delivered at or before it; answers count, unread. */
  smMarkAll: WALK + HEAD + `
local upto = tonumber(ARGV[i])
local ids = {}
walk(U, U.n, {}, false, '-inf', true, 256, now, function(id, r, meta)
  local _, _, d = parse(meta)
  if d <= upto then ids[#ids + 1] = id end
end)
if #ids > 0 then
  local nowS = str(now)
  local kv = {}
  for _, id in ipairs(ids) do
    kv[#kv + 1] = id
    kv[#kv + 1] = nowS
  end
  chunked('ZREM', U.n, ids)
  chunked('HSET', U.r, kv, 2)
  redis.call('HINCRBY', U.s, 'unread', str(-#ids))
end
local unread = counts(U, now)
return { 'ok', minexp, str(#ids), str(unread) }
`,

  /**
   * ARGV: tombstones ('1' on Cluster), ids (distinct). Answers unread, deleted...
   * A tombstone keeps a send journal being completed again (send.ts) from bringing a deleted
   * delivery back: on a cluster always (the journal is in another slot), on a single server only
   * while the message's send is still journalled.
   */
  smDelete: HEAD + `
local always = ARGV[i] == '1'
local deleted, unreadGone, tomb = {}, 0, false
for j = i + 1, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.m, id)
  if meta and live(meta, now) then
    redis.call('ZREM', U.a, id)
    if redis.call('ZREM', U.n, id) == 1 then unreadGone = unreadGone + 1 end
    redis.call('HDEL', U.m, id)
    redis.call('HDEL', U.r, id)
    redis.call('ZREM', U.x, id)
    if always or (ARGV[2] == 'L' and redis.call('ZSCORE', KEYS[13], id)) then
      redis.call('ZADD', U.t, now, id)
      tomb = true
    end
    deleted[#deleted + 1] = id
  end
end
if #deleted > 0 then
  redis.call('HINCRBY', U.s, 'unread', str(-unreadGone))
  redis.call('HINCRBY', U.s, 'total', str(-#deleted))
  if tomb then redis.call('ZREMRANGEBYSCORE', U.t, '-inf', now - 7 * 86400000) end
end
local unread = counts(U, now)
local out = { 'ok', minexp, str(unread) }
for _, v in ipairs(deleted) do out[#out + 1] = v end
return out
`,

  /** ARGV: limit. The oldest live unread ids. */
  smOldest: WALK + HEAD + `
local limit = tonumber(ARGV[i])
local out = { 'ok', minexp }
if limit > 0 then
  walk(U, U.n, {}, false, '-inf', true, limit, now, function(id)
    out[#out + 1] = id
    return #out - 2 < limit
  end)
end
return out
`,

  /**
   * Cluster send step: delivers one message to one user, idempotently (skips a delivery the user
   * has, deleted, or that expired). ARGV: id, meta, registration watermark. Answers added, unread.
   */
  smDeliver: `
redis.call('HSETNX', KEYS[1], 'w', ARGV[#ARGV])
` + HEAD + `
local e = add(U, ARGV[i], ARGV[i + 1], now)
local unread = counts(U, now)
return { 'ok', minexp, e and '1' or '0', str(unread) }
`,

  /** Reclaims up to ARGV[1] expired deliveries; answers how many, and the next expiry ('' = none). */
  smCleanUser: `
local now = now_ms()
local U = ukeys(1)
local ids = redis.call('ZRANGEBYSCORE', U.x, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local unreadGone = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', U.a, id)
  if redis.call('ZREM', U.n, id) == 1 then unreadGone = unreadGone + 1 end
  redis.call('HDEL', U.m, id)
  redis.call('HDEL', U.r, id)
end
if #ids > 0 then
  chunked('ZREM', U.x, ids)
  redis.call('HINCRBY', U.s, 'unread', str(-unreadGone))
  redis.call('HINCRBY', U.s, 'total', str(-#ids))
end
local nxt = redis.call('ZRANGE', U.x, 0, 0, 'WITHSCORES')
return { str(#ids), nxt[2] or '' }
`,
} as const;
