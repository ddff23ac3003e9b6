-- A retraction's step for one recipient of a direct message: removes it from their inbox, if they
-- still have it, and records whether it was unread (lib/retract.lua).
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  id
-- Returns 'ok', minexp, had ('' = they did not have it, '1' unread, '0' read), then the counts after
-- (total, unread, unseen, archived, snoozed)
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local id = ARGV[i]
local D = {}
local unread = retract_one(U, id, now, D)
flush(U, D)
-- Not delivered yet while its send is journalled (always possible on a cluster): it never will be.
if unread == nil and (not G or redis.call('ZSCORE', G.journal_due, id)) then redis.call('ZADD', U.tombstones, now, id) end
local had = ''
if unread ~= nil then had = unread and '1' or '0' end
local C = counts(U, now)
if had ~= '' then wh_user(U, ARGV[1], now, 'retract', C, id .. '|' .. had) end
return append_counts(C, { wh_ok(), minexp, had })
