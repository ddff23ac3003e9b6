-- Standalone Redis: makes a user known and sets their watermark, in one step.
--
-- KEYS[1]  the user's state
-- KEYS[2]  sequence
-- KEYS[3]  broadcasts-pending
-- KEYS[4]  known-users
-- ARGV[1]  user id
-- Returns 'ok'
local state, sequence, pending, known = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local user = ARGV[1]
-- A new user's keys are built with every index from the start (lib/read-state.lua upgrade: nothing to do).
if redis.call('HSETNX', state, 'broadcasts-upto', register(known, user, g_top({ sequence = sequence, pending = pending }))) == 1 then
  redis.call('HSETNX', state, 'states', '1')
  -- Retractions before they were known never concern them (lib/retract.lua).
  redis.call('HSETNX', state, 'retractions-upto', redis.call('HGET', sequence, 'last-retraction') or '0')
end
return 'ok'
