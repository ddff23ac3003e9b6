-- What a send did for one recipient, read again later (a retaken scheduled send that replayed: its
-- live signals were never fired). Changes nothing beyond the prelude's catch-up.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  id
-- Returns 'ok', minexp, then '-' when the user no longer has the delivery unread (never got it, deleted,
-- read, snoozed or expired: nothing left to tell them), else their user_reply() (lib/delivery.lua) now,
-- with the delivery's groupCount (the message it superseded is not kept)
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local id = ARGV[i]
local meta = redis.call('HGET', U.meta, id)
if not meta or not live(meta, now) or not is_not(kinds_of(U, category_of(meta)).read, id) then return { 'ok', minexp, '-' } end
return { 'ok', minexp, user_reply(U, { gc = group_of(meta) }, now) }
