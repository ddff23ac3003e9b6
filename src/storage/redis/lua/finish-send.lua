-- Journalled send, last step (idempotent): publishes a broadcast, indexes expiries, marks the
-- idempotency record done and drops the journal entry.
--
-- KEYS[1]  sequence
-- KEYS[2]  broadcasts
-- KEYS[3]  broadcast-meta
-- KEYS[4]  broadcasts-pending
-- KEYS[5]  users-due
-- KEYS[6]  bodies-due
-- KEYS[7]  idempotency record (a placeholder when none)
-- KEYS[8]  journal
-- KEYS[9]  journal-due
-- KEYS[10] the broadcasts' webhook stream (lib/webhooks.lua)
-- KEYS[11] webhooks-due
-- KEYS[12] group-sending of the message's group key (a placeholder when none: begin-send.lua)
-- ARGV[1]  id
-- ARGV[2]  kind        'direct' | 'broadcast'
-- ARGV[3]  spec        the message as lib/delivery.lua parse_spec takes it
-- ARGV[4]  expires_at  ms ('' = never)
-- ARGV[5]  idempotent  '1' | '0'
-- ARGV[6]  recipients  how many users a direct send reached (their preferences applied), kept for
--                      replays; '' = as begin-send.lua counted them
-- ARGV[7]  webhooks    '1' when on: a broadcast published now is recorded (once: the journal entry goes with it)
-- ARGV[8..] user ids whose expiry to index (Cluster direct sends; on one server the deliveries did)
-- Returns 'ok' (and gives the group-sending key back if this send holds it)
local sequence, broadcasts, broadcast_meta, pending, users_due, bodies_due, idem_key, journal, journal_due =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local id, kind, meta, expires_at, idempotent = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local recipients = ARGV[6]
local FIRST_USER = 8
WH.on, WH.index = ARGV[7] == '1', KEYS[11]
if kind == 'broadcast' then
  if redis.call('HEXISTS', journal, id) == 1 and WH.on then wh_append(KEYS[10], sequence, '', now_ms(), 'broadcast|' .. id) end
  redis.call('ZADD', broadcasts, id, id)
  redis.call('HSET', broadcast_meta, id, meta)
  if tonumber(redis.call('HGET', sequence, 'last-broadcast') or '0') < tonumber(id) then redis.call('HSET', sequence, 'last-broadcast', id) end
  redis.call('ZREM', pending, id)
elseif expires_at ~= '' then
  for j = FIRST_USER, #ARGV do redis.call('ZADD', users_due, 'LT', expires_at, ARGV[j]) end
end
if expires_at ~= '' then redis.call('ZADD', bodies_due, expires_at, id) end
if idempotent and redis.call('EXISTS', idem_key) == 1 then
  redis.call('HSET', idem_key, 'done', '1')
  if recipients ~= '' then redis.call('HSET', idem_key, 'recipients', recipients) end
end
redis.call('HDEL', journal, id)
redis.call('ZREM', journal_due, id)
if redis.call('GET', KEYS[12]) == id then redis.call('DEL', KEYS[12]) end
return 'ok'
