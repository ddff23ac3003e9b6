-- The user's counts, or those of one category.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  category  '' = the whole inbox
-- Returns 'ok', minexp, total, unread, unseen, archived, snoozed
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local category = ARGV[i]
if category == '' then category = nil end
return append_counts(counts(U, now, category), { 'ok', minexp })
