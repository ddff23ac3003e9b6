-- When the cleanup is next due for the user.
--
-- KEYS[1 .. UK]  the user's keys (lib/base.lua)
-- Returns their earliest expiry, now while trimming is left, '' = never

local U = ukeys(1)
return next_due(U, now_ms())
