-- Enables or disables a category for the user. A per-user script so that the broadcasts published
-- before it reach the user under the preference they had then.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      category
-- ARGV[i + 1]  enabled  '1' | '0'
-- ARGV[i + 2]  max      preferences a user may have
-- Returns 'ok', minexp, then 'set', or 'limit' when the category is new and the user has max already
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local category, enabled, max = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
if redis.call('HEXISTS', U.prefs, category) == 0 and redis.call('HLEN', U.prefs) >= max then return { 'ok', minexp, 'limit' } end
redis.call('HSET', U.prefs, category, enabled)
return { 'ok', minexp, 'set' }
