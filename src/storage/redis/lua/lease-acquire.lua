-- Takes a periodic job's lease when it is free, or renews it for its holder.
--
-- KEYS[1]  the job's lease (a string holding the holder's id, expiring with the lease)
-- ARGV[1]  holder
-- ARGV[2]  the lease's length, in ms
-- Returns 1 when the holder holds the lease now, 0 while another holder's lasts
local lease_key, holder, ttl_ms = KEYS[1], ARGV[1], ARGV[2]
local current = redis.call('GET', lease_key)
if current and current ~= holder then return 0 end
redis.call('SET', lease_key, holder, 'PX', ttl_ms)
return 1
