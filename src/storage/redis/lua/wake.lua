-- Wakes the user's snoozed deliveries whose time is at or before `now` (lib/change.lua wake): each
-- once, as this step is atomic and a woken delivery is no longer snoozed.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      now    ms
-- ARGV[i + 1]  limit  deliveries woken at most
-- Returns 'ok', minexp, the counts (total, unread, unseen, archived, snoozed), the user's next wake
-- (ms, '' = none), then id, readAt, seenAt, archivedAt, snoozedUntil of each live one woken
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local ids = redis.call('ZRANGEBYSCORE', U.wakes, '-inf', ARGV[i], 'LIMIT', 0, tonumber(ARGV[i + 1]))
local woken, D = {}, {}
for _, id in ipairs(ids) do
  -- An expired one wakes too (the cleanup reclaims it as any other), unanswered.
  local meta = redis.call('HGET', U.meta, id)
  if wake(U, id, meta, D) and meta and live(meta, now) then woken[#woken + 1] = id end
end
flush(U, D)
local C = counts(U, now)
if #woken > 0 then wh_user(U, ARGV[1], now, 'wake', C, table.concat(woken, ',')) end
local out = append_counts(C, { wh_ok(), minexp })
out[#out + 1] = next_wake(U)
return append_states(U, woken, out)
