-- Takes one token from a token bucket, refilled continuously, on the clock of Redis (TIME), so every
-- instance agrees however their clocks drift. The key expires when the bucket would be full again:
-- an idle caller leaves no key behind.
--
-- KEYS[1]  bucket    hash { tokens = tokens left (may be fractional), at = when counted, ms }
-- ARGV[1]  capacity  tokens when full (the per-minute figure)
-- ARGV[2]  period    ms from empty to full
-- Returns  0 when a token was taken, else the ms until one will be there (nothing is written then)
local bucket = KEYS[1]
local capacity, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', bucket, 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(capacity, tokens + (now - at) * capacity / period) end
if tokens < 1 then return math.ceil((1 - tokens) * period / capacity) end
tokens = tokens - 1
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', bucket, math.ceil((capacity - tokens) * period / capacity))
return 0
