-- Cluster: the broadcast top, and the published broadcasts after a user's watermark.
--
-- KEYS[1..4]  sequence broadcasts broadcast-meta broadcasts-pending
-- ARGV[1]     after  a watermark ('' = the top only)
-- Returns top, then id, meta pairs of the broadcasts in (after, top]
local G = { sequence = KEYS[1], broadcasts = KEYS[2], broadcast_meta = KEYS[3], pending = KEYS[4] }
local after = ARGV[1]
local T = g_top(G)
local out = { str(T) }
if after ~= '' and tonumber(after) < T then
  for _, v in ipairs(g_since(G, after, T)) do out[#out + 1] = v end
end
return out
