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

local op, nowS, D = ARGV[i], str(now), {}
uptos(U)
return change_each(U, minexp, i + 1, now, D, function(id, meta) return change(U, op, id, meta, nowS, D) end, false, op)
