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

local z, D = ARGV[i], {}
uptos(U)
return change_each(U, minexp, i + 1, now, D, function(id, meta)
  if z == '' then return wake(U, id, meta, D) end
  return snooze(U, id, meta, z, D)
end, true, z == '' and 'unsnooze' or 'snooze', z ~= '' and ('|' .. z) or nil)
