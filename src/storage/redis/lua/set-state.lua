-- Changes the state of some deliveries: read, unread, seen, archive or unarchive (lib/change.lua
-- OPS). One already in that state keeps it (and its time). A snoozed one changes only the states it
-- keeps for when it wakes.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]       op    'read' | 'unread' | 'seen' | 'archive' | 'unarchive'
-- ARGV[i + 1..] ids   distinct
-- Returns 'ok', minexp, the counts (total, unread, unseen, archived, snoozed), #changed, the changed
-- ids, then id, readAt, seenAt, archivedAt, snoozedUntil of each found
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local op = ARGV[i]
local FIRST_ID = i + 1
uptos(U)
local nowS = str(now)
local changed, found, D = {}, {}, {}
for j = FIRST_ID, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.meta, id)
  if meta and live(meta, now) then
    if change(U, op, id, nowS, D) then changed[#changed + 1] = id end
    found[#found + 1] = id
  end
end
flush(U, D)
local out = append_counts(counts(U, now), { 'ok', minexp })
out[#out + 1] = str(#changed)
for _, v in ipairs(changed) do out[#out + 1] = v end
return append_states(U, found, out)
