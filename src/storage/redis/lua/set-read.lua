-- Marks deliveries read or unread; one already so keeps its state (and read time).
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]       read  '1' read | '0' unread
-- ARGV[i + 1..] ids   distinct
-- Returns 'ok', minexp, unread, #changed, the changed ids, then id, readAt pairs of those found
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local read = ARGV[i] == '1'
local FIRST_ID = i + 1
local ru = read_upto(U)
local nowS = str(now)
local changed, found, delta = {}, {}, 0
for j = FIRST_ID, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.meta, id)
  if meta and live(meta, now) then
    local below = tonumber(id) <= ru
    local moved = false
    if read then
      -- Unread is unread-below at or below ru, unread above it; anything else is read already (and keeps its time).
      if below then moved = redis.call('ZREM', U.unread_below, id) == 1 else moved = redis.call('ZREM', U.unread, id) == 1 end
      if moved then redis.call('HSET', U.read_at, id, nowS) end
    elseif redis.call('HDEL', U.read_at, id) == 1 then
      moved = true
      if below then redis.call('ZADD', U.unread_below, id, id) else redis.call('ZADD', U.unread, id, id) end
    elseif below and not redis.call('ZSCORE', U.unread_below, id) then
      -- Read by a mark-all-read: it alone becomes unread; the others keep their mark.
      moved = true
      redis.call('ZREM', U.unread, id)
      redis.call('ZADD', U.unread_below, id, id)
      unmark(U, id)
    end
    if moved then
      changed[#changed + 1] = id
      if read then delta = delta - 1 else delta = delta + 1 end
    end
    found[#found + 1] = id
    -- A delivery this call moved has the state it was given; only the others are looked up.
    if moved then found[#found + 1] = read and nowS or '' else found[#found + 1] = read_at(U, id, ru) end
  end
end
if delta ~= 0 then redis.call('HINCRBY', U.state, 'unread', str(delta)) end
local unread = counts(U, now)
local out = { 'ok', minexp, str(unread), str(#changed) }
for _, v in ipairs(changed) do out[#out + 1] = v end
for _, v in ipairs(found) do out[#out + 1] = v end
return out
