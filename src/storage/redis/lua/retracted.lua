-- Whether a retraction removed a message from the user's inbox, for the live consumers of a retracted
-- broadcast; the prelude first removes the retracted broadcasts the user still had (lib/retract.lua).
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  id
-- Returns 'ok', minexp, had ('' = not removed from their inbox, '1' it was unread, '0' read), then
-- the counts (total, unread, unseen, archived, snoozed)
local now = now_ms()
local U, i, minexp, behind = prelude(now)
if behind then return { 'behind', behind } end

local id = ARGV[i]
local found = redis.call('ZRANGEBYSCORE', ubase(U) .. 'retracted', id, id)
local had = ''
if found[1] then had = string.sub(found[1], -1) end
return append_counts(counts(U, now), { 'ok', minexp, had })
