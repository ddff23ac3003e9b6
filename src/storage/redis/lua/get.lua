-- One delivery of the user.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  id
-- Returns 'ok', minexp, then '' (not the user's, or expired) or '1', readAt, seenAt, archivedAt,
-- snoozedUntil ('' = unset), groupCount ('' = 1)
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local id = ARGV[i]
local meta = redis.call('HGET', U.meta, id)
if not meta or not live(meta, now) then return { 'ok', minexp, '' } end
local R, S, A, Z = states(U, { id }, nil, { meta })
return { 'ok', minexp, '1', R[1] or '', S[1] or '', A[1] or '', Z[1] or '', gc_field(meta) }
