-- Gives a lease up, when this holder holds it (another holder's is left alone).
--
-- KEYS[1]  the job's lease
-- ARGV[1]  holder
-- Returns 1 when the lease was the holder's and is gone, else 0
local lease_key, holder = KEYS[1], ARGV[1]
if redis.call('GET', lease_key) == holder then return redis.call('DEL', lease_key) end
return 0
