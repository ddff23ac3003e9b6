-- Cluster: the broadcast and retraction tops, the published broadcasts after a user's watermark and
-- the retracted broadcasts after their retraction watermark (lib/retract.lua).
--
-- KEYS[1..4]  sequence broadcasts broadcast-meta broadcasts-pending
-- KEYS[5]     retractions
-- ARGV[1]     after   a broadcast watermark ('' = the top only)
-- ARGV[2]     rafter  a retraction watermark ('' = the top only)
-- Returns top, rtop, n, then n pairs id, meta of the broadcasts in (after, top], then the ids of
-- the broadcasts retracted with numbers in (rafter, rtop]
local G = { sequence = KEYS[1], broadcasts = KEYS[2], broadcast_meta = KEYS[3], pending = KEYS[4] }
local after, rafter = ARGV[1], ARGV[2]
local T = g_top(G)
local RT = tonumber(redis.call('HGET', G.sequence, 'last-retraction') or '0')
local out = { str(T), str(RT), '0' }
if after ~= '' and tonumber(after) < T then
  for _, v in ipairs(g_since(G, after, T)) do out[#out + 1] = v end
end
out[3] = str((#out - 3) / 2)
if rafter ~= '' and tonumber(rafter) < RT then
  for _, v in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '(' .. rafter, RT)) do out[#out + 1] = v end
end
return out
