-- Snoozes deliveries until a time (hidden from lists and counts but `snoozed`, their states kept), or
-- wakes them now (unread, unseen, not archived, in their place). Waking one not snoozed changes nothing.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]       until  ms, or '' to wake them
-- ARGV[i + 1..] ids    distinct
-- Returns 'ok', minexp, the counts (total, unread, unseen, archived, snoozed), the user's next wake
-- (ms, '' = none), #changed, the changed ids, then id, readAt, seenAt, archivedAt, snoozedUntil of each found
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local z = ARGV[i]
local FIRST_ID = i + 1
uptos(U)
local changed, found, D = {}, {}, {}
for j = FIRST_ID, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.meta, id)
  if meta and live(meta, now) then
    local moved
    if z == '' then moved = wake(U, id, D) else moved = snooze(U, id, z, D) end
    if moved then changed[#changed + 1] = id end
    found[#found + 1] = id
  end
end
flush(U, D)
local out = append_counts(counts(U, now), { 'ok', minexp })
out[#out + 1] = next_wake(U)
out[#out + 1] = str(#changed)
for _, v in ipairs(changed) do out[#out + 1] = v end
return append_states(U, found, out)
