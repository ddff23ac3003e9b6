-- Cluster: makes a user known (the caller then writes their watermark in their own slot).
--
-- KEYS[1]  sequence
-- KEYS[2]  broadcasts-pending
-- KEYS[3]  known-users
-- ARGV[1]  user id
-- Returns the user's registration watermark (broadcasts-upto)
local sequence, pending, known = KEYS[1], KEYS[2], KEYS[3]
local user = ARGV[1]
return register(known, user, g_top({ sequence = sequence, pending = pending }))
