-- Journalled send, step 1 (journal.ts): claims the idempotency key, allocates the id, registers the
-- recipients and journals the send, atomically, in the global slot.
--
-- KEYS[1]  sequence
-- KEYS[2]  broadcasts-pending
-- KEYS[3]  known-users
-- KEYS[4]  idempotency record (a placeholder when none)
-- KEYS[5]  journal
-- KEYS[6]  journal-due
-- KEYS[7]  group-sending of the message's group key (a placeholder when none: group-order.ts)
-- ARGV[1]  kind         'direct' | 'broadcast'
-- ARGV[2]  idempotent   '1' | '0'
-- ARGV[3]  fingerprint
-- ARGV[4]  message      JSON, kept for replays
-- ARGV[5]  entry        the journal entry's JSON (journal.ts); stored as "<deliveredAt>|<JSON>"
-- ARGV[6]  idem_ttl     seconds
-- ARGV[7]  group_ms     how long the group-sending key lasts ('' = no group key)
-- ARGV[8..] user ids (direct)
-- Returns 'new', id, deliveredAt, broadcast top, recipients, then each user's registration
-- watermark; 'busy' while another journalled send of the group key delivers (nothing done); or an
-- earlier call's answer (idem_check)
local sequence, pending, known, idem_key, journal, journal_due, group = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local kind, idempotent, fingerprint, message, entry, idem_ttl, group_ms = ARGV[1], ARGV[2] == '1', ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local FIRST_USER = 8
local now = now_ms()
if idempotent then
  local c = idem_check(idem_key, fingerprint)
  if c then return c end
end
if group_ms ~= '' and redis.call('EXISTS', group) == 1 then return { 'busy' } end
local T = g_top({ sequence = sequence, pending = pending })
local id, t = alloc(sequence, now)
-- Held from before any delivery of this id until finish-send.lua: the group's deliveries follow ids.
if group_ms ~= '' then redis.call('SET', group, id, 'PX', group_ms) end
local out = { 'new', id, t, str(T), '' }
local recipients
if kind == 'broadcast' then
  redis.call('ZADD', pending, id, id)
  recipients = redis.call('HLEN', known)
  keep_recipients(sequence, nil, id, nil, nil, str(recipients))
else
  recipients = #ARGV - FIRST_USER + 1
  for j = FIRST_USER, #ARGV do out[#out + 1] = register(known, ARGV[j], T) end
end
out[5] = str(recipients)
redis.call('HSET', journal, id, t .. '|' .. entry)
redis.call('ZADD', journal_due, now, id)
if idempotent then idem_save(idem_key, fingerprint, id, str(recipients), message, false, idem_ttl) end
return out
