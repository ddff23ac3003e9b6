-- The live flash entries of a user, oldest first.
--
-- KEYS[1]  list  the user's flash list (flash-lib.lua)
-- Returns  the entries, "<expires at>|<id>|<message JSON>"
local list = KEYS[1]
drop_expired(list, now_ms())
return redis.call('LRANGE', list, 0, -1)
