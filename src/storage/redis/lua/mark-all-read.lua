-- Marks read every live unread delivery delivered at or before `until`. W = the newest delivery
-- delivered by then: the unread-below entries up to W get this call's time in read-at (one entry
-- each: they are few, each was unread on its own or came late); the `unread` entries in (ru, W]
-- become read at once by raising read-upto to W under a new mark (W, now) in read-marks. Their
-- `unread` entries are left behind: up to TRIM_INLINE go now, the cleanup takes the rest.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  until  ms
-- Returns 'ok', minexp, count (marked read), unread
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local TRIM_INLINE = 1000
local ru = read_upto(U)
local user, until_ms = ARGV[1], tonumber(ARGV[i])
local W = last_delivered(U, until_ms)
local nowS = str(now)
local count, moved = 0, 0
local ex = redis.call('ZRANGEBYSCORE', U.unread_below, '-inf', str(W))
if #ex > 0 then
  local metas = hmget(U.meta, ex)
  local kv = {}
  for j = 1, #ex do
    kv[#kv + 1] = ex[j]
    kv[#kv + 1] = nowS
    if metas[j] and live(metas[j], now) then count = count + 1 end
  end
  chunked('HSET', U.read_at, kv, 2)
  chunked('ZREM', U.unread_below, ex)
  moved = #ex
end
local covered = 0
if W > ru then covered = redis.call('ZCOUNT', U.unread, '(' .. str(ru), str(W)) end
-- No mark when nothing is under it: ru stays, and a later delivery in (ru, W] is unread anyway.
if covered > 0 then
  redis.call('ZADD', U.marks, str(W), str(W) .. ':' .. nowS .. ':' .. str(covered))
  redis.call('HSET', U.state, 'read-upto', str(W))
  moved = moved + covered
  count = count + covered
  -- The counter counts expired-but-unreclaimed deliveries; the answer only live ones.
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now)) do
    local n = tonumber(id)
    if n > ru and n <= W and redis.call('ZSCORE', U.unread, id) then count = count - 1 end
  end
  if trim(U, W, TRIM_INLINE) > 0 then
    -- The cleanup visits users from users-due (cleanup.ts): due now, for the rest of the trimming.
    if G then redis.call('ZADD', G.users_due, 'LT', nowS, user)
    else minexp = min_exp(minexp, nowS) end
  end
end
if moved > 0 then redis.call('HINCRBY', U.state, 'unread', str(-moved)) end
local unread = counts(U, now)
return { 'ok', minexp, str(count), str(unread) }
