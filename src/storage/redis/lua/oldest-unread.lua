-- The oldest live unread deliveries of the user.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]  limit
-- Returns 'ok', minexp, then id, groupCount ('' = 1) of each
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local limit = tonumber(ARGV[i])
local out = { 'ok', minexp }
if limit > 0 then
  walk(U, not_in(U, all_kinds(U), 'read'), { nostates = true }, false, '-inf', true, limit, now, function(id, _, _, _, _, meta)
    out[#out + 1] = id
    out[#out + 1] = gc_field(meta)
    return (#out - 2) / 2 < limit
  end, 'read')
end
return out
