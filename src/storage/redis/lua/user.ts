/**
 * Scripts on one user's keys (one hash slot: `{u:<id>}`). Each starts with `prelude` (lib.ts),
 * which first delivers the broadcasts the user has not had yet, and answers
 * { 'ok', <earliest expiry the catch-up added or ''>, ...result } or { 'behind', <watermark> }.
 * Work is bounded by the user's own deliveries; filtered walks fetch in growing chunks.
 */
import { FORGET, NEXT, WALK } from './user-lib.js';

const HEAD = `
local now = now_ms()
local U, i, minexp, behind = prelude(now)
if behind then return { 'behind', behind } end
`;

export const USER_SCRIPTS = {
  /** ARGV: src ('a' all | 'n' unread), readOnly, levels ('-' = any), since, until, dir ('f'|'b'), limit, cursor, total ('c' counters | 's' scan). */
  smList: WALK + HEAD + `
local unreadOnly = ARGV[i] == 'n'
local F = filter_from(i)
local ru = read_upto(U)
local function scan(desc, bound, inclusive, size, visit)
  if unreadOnly then return walk_unread(U, F, desc, bound, inclusive, size, now, ru, visit) end
  return walk(U, U.a, F, desc, bound, inclusive, size, now, ru, visit)
end
local desc = ARGV[i + 5] == 'f'
local limit = tonumber(ARGV[i + 6])
local cursor = ARGV[i + 7]
local start = cursor
if start == '' then start = desc and '+inf' or '-inf' end
-- The reply: 5 header fields (filled below), then id, readAt pairs, written in place.
local out = { 'ok', minexp, '', '', '' }
local n = 5
scan(desc, start, false, limit + 1, function(id, r)
  out[n + 1] = id
  out[n + 2] = r or ''
  n = n + 2
  return n < 5 + 2 * (limit + 1)
end)
local more = '0'
if n > 5 + 2 * limit then
  more = '1'
  out[n] = nil
  out[n - 1] = nil
end
local other = '0'
if cursor ~= '' then
  scan(not desc, cursor, true, 8, function() other = '1'; return false end)
end
local total = 0
if ARGV[i + 8] == 'c' then
  local unread, all = counts(U, now)
  if unreadOnly then total = unread elseif F.readOnly then total = all - unread else total = all end
else
  scan(true, '+inf', true, 256, function() total = total + 1 end)
end
out[3], out[4], out[5] = more, other, str(total)
return out
`,

  /** ARGV: id. Answers '' (not the user's, or expired) or '1', readAt. */
  smGet: HEAD + `
local meta = redis.call('HGET', U.m, ARGV[i])
if not meta or not live(meta, now) then return { 'ok', minexp, '' } end
return { 'ok', minexp, '1', read_at(U, ARGV[i], read_upto(U)) }
`,

  smCount: HEAD + `
local unread = counts(U, now)
return { 'ok', minexp, str(unread) }
`,

  /** ARGV: '1' read | '0' unread, ids (distinct). Answers unread, #changed, changed..., found id/readAt pairs. */
  smSetRead: HEAD + `
local read = ARGV[i] == '1'
local ru = read_upto(U)
local nowS = str(now)
local changed, found, delta = {}, {}, 0
for j = i + 1, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.m, id)
  if meta and live(meta, now) then
    local below = tonumber(id) <= ru
    local moved = false
    if read then
      -- Unread is u, or n above ru; anything else is read already (and keeps its time).
      moved = redis.call('ZREM', U.u, id) == 1 or (not below and redis.call('ZREM', U.n, id) == 1)
      if moved then redis.call('HSET', U.r, id, nowS) end
    elseif redis.call('HDEL', U.r, id) == 1 then
      moved = true
      if below then redis.call('ZADD', U.u, id, id) else redis.call('ZADD', U.n, id, id) end
    elseif below and not redis.call('ZSCORE', U.u, id) then
      -- Read by a mark-all-read: it alone becomes unread; the others keep their mark.
      moved = true
      redis.call('ZREM', U.n, id)
      redis.call('ZADD', U.u, id, id)
      unmark(U, id)
    end
    if moved then
      changed[#changed + 1] = id
      if read then delta = delta - 1 else delta = delta + 1 end
    end
    found[#found + 1] = id
    found[#found + 1] = read_at(U, id, ru)
  end
end
if delta ~= 0 then redis.call('HINCRBY', U.s, 'unread', str(delta)) end
local unread = counts(U, now)
local out = { 'ok', minexp, str(unread), str(#changed) }
for _, v in ipairs(changed) do out[#out + 1] = v end
for _, v in ipairs(found) do out[#out + 1] = v end
return out
`,

  /**
   * ARGV: until (ms). Marks read every live unread delivery delivered at or before it; answers
   * count, unread. W = the newest delivery delivered by then: the unread exceptions (u) up to W get
   * this call's time in r (one entry each: they are few, each was unread on its own or came late);
   * the n entries in (ru, W] become read at once by raising ru to W under a new mark (W, now).
   * Their n entries are left behind: up to TRIM_INLINE go now, the cleanup takes the rest.
   */
  smMarkAll: WALK + HEAD + `
local TRIM_INLINE = 1000
local ru = read_upto(U)
local W = last_delivered(U, tonumber(ARGV[i]))
local nowS = str(now)
local count, moved = 0, 0
local ex = redis.call('ZRANGEBYSCORE', U.u, '-inf', str(W))
if #ex > 0 then
  local metas = hmget(U.m, ex)
  local kv = {}
  for j = 1, #ex do
    kv[#kv + 1] = ex[j]
    kv[#kv + 1] = nowS
    if metas[j] and live(metas[j], now) then count = count + 1 end
  end
  chunked('HSET', U.r, kv, 2)
  chunked('ZREM', U.u, ex)
  moved = #ex
end
local covered = 0
if W > ru then covered = redis.call('ZCOUNT', U.n, '(' .. str(ru), str(W)) end
-- No mark when nothing is under it: ru stays, and a later delivery in (ru, W] is unread anyway.
if covered > 0 then
  redis.call('ZADD', U.k, str(W), str(W) .. ':' .. nowS .. ':' .. str(covered))
  redis.call('HSET', U.s, 'ru', str(W))
  moved = moved + covered
  count = count + covered
  -- The counter counts expired-but-unreclaimed deliveries; the answer only live ones.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', U.x, '-inf', now)) do
    local n = tonumber(id)
    if n > ru and n <= W and redis.call('ZSCORE', U.n, id) then count = count - 1 end
  end
  if trim(U, W, TRIM_INLINE) > 0 then
    -- The cleanup visits users from ux (cleanup.ts): due now, for the rest of the trimming.
    if ARGV[2] == 'L' then redis.call('ZADD', KEYS[UK + 5], 'LT', nowS, ARGV[1])
    else minexp = min_exp(minexp, nowS) end
  end
end
if moved > 0 then redis.call('HINCRBY', U.s, 'unread', str(-moved)) end
local unread = counts(U, now)
return { 'ok', minexp, str(count), str(unread) }
`,

  /**
   * ARGV: tombstones ('1' on Cluster), ids (distinct). Answers unread, deleted...
   * A tombstone keeps a send journal being completed again (send.ts) from bringing a deleted
   * delivery back: on a cluster always (the journal is in another slot), on a single server only
   * while the message's send is still journalled.
   */
  smDelete: FORGET + HEAD + `
local always = ARGV[i] == '1'
local ru = read_upto(U)
local deleted, unreadGone, tomb = {}, 0, false
for j = i + 1, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.m, id)
  if meta and live(meta, now) then
    redis.call('ZREM', U.a, id)
    if forget_state(U, id, ru) then unreadGone = unreadGone + 1 end
    redis.call('HDEL', U.m, id)
    redis.call('ZREM', U.x, id)
    if always or (ARGV[2] == 'L' and redis.call('ZSCORE', KEYS[UK + 6], id)) then
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
  walk_unread(U, {}, false, '-inf', true, limit, now, read_upto(U), function(id)
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

  /**
   * Reclaims up to ARGV[1] expired deliveries, then trims up to ARGV[2] n entries left behind by
   * mark-all-reads. Answers how many deliveries went, how many entries were trimmed, and when the
   * user is next due in ux (see smNextDue).
   */
  smCleanUser: FORGET + NEXT + `
local now = now_ms()
local U = ukeys(1)
local ids = redis.call('ZRANGEBYSCORE', U.x, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local ru = read_upto(U)
local unreadGone = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', U.a, id)
  if forget_state(U, id, ru) then unreadGone = unreadGone + 1 end
  redis.call('HDEL', U.m, id)
end
if #ids > 0 then
  chunked('ZREM', U.x, ids)
  redis.call('HINCRBY', U.s, 'unread', str(-unreadGone))
  redis.call('HINCRBY', U.s, 'total', str(-#ids))
end
local before = trim(U, ru, 0)
local left = trim(U, ru, tonumber(ARGV[2]))
return { str(#ids), str(before - left), next_due(U, ru, now) }
`,

  /** When the cleanup is next due for the user: their earliest expiry, now while trimming is left, '' = never. */
  smNextDue: NEXT + `
local U = ukeys(1)
return next_due(U, read_upto(U), now_ms())
`,
} as const;
