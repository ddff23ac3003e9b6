-- Retraction (CONTRACT.md §9): removing a retracted message from one user's inbox (forget.lua comes first).
--
-- The global `retractions` zset (`<p>{global}:retractions`, beside `sequence`, whose `last-retraction`
-- counts the broadcasts retracted): a retracted broadcast's id scored by its retraction number, a
-- retracted direct message's id scored 0. Each user's state has `retractions-upto`, the number of the
-- last retracted broadcast removed from their inbox; the prelude removes the newer ones (retract_since).
-- Each user's `retracted` zset (`<p>{user:<id>}:retracted`): "<id>:<1 when it was unread, else 0>" scored
-- by id, the last RETRACTED_KEEP retractions that removed one of their deliveries, which tell the live
-- consumers of a retracted broadcast who had it (retracted.lua).
local RETRACTED_KEEP = 32

-- A global key named from the sequence key (`<p>{global}:` + name: same slot; standalone scripts only).
local function gkey(sequence, name)
  return string.sub(sequence, 1, -9) .. name
end

-- Keeps whom a send reached for a retraction: a direct message's addressed users beside its body
-- (body_key .. ':to', JSON, gone with the message's expiry), a broadcast's count of known users.
local function keep_recipients(sequence, body_key, id, users, expires_at, broadcast_count)
  if broadcast_count then
    redis.call('HSET', gkey(sequence, 'broadcast-recipients'), id, broadcast_count)
    return
  end
  redis.call('SET', body_key .. ':to', cjson.encode(users))
  if expires_at ~= '' then redis.call('PEXPIREAT', body_key .. ':to', expires_at) end
end

-- Removes the user's delivery id if they still have it (live), counting in D; answers nil when they did
-- not, else whether it was unread. A tombstone keeps a send completed late from bringing it back.
local function retract_one(U, id, now, D)
  local meta = redis.call('HGET', U.meta, id)
  if not meta or not live(meta, now) then return nil end
  redis.call('ZREM', U.deliveries, id)
  local unread = forget(U, id, meta, D)
  redis.call('HDEL', U.meta, id)
  redis.call('ZREM', U.expiries, id)
  redis.call('ZADD', U.tombstones, now, id)
  redis.call('ZREMRANGEBYSCORE', U.tombstones, '-inf', now - 7 * 86400000)
  local key = ubase(U) .. 'retracted'
  redis.call('ZADD', key, id, id .. ':' .. (unread and '1' or '0'))
  redis.call('ZREMRANGEBYRANK', key, 0, -RETRACTED_KEEP - 1)
  return unread
end

-- Removes the retracted broadcasts ids (those numbered up to RT) the user still has, and records RT.
local function retract_since(U, RT, ids, now)
  local D = {}
  for _, id in ipairs(ids) do retract_one(U, id, now, D) end
  flush(U, D)
  redis.call('HSET', U.state, 'retractions-upto', str(RT))
end

-- Standalone: the user's retraction watermark if older than the global one, then retract_since.
local function retract_local(U, sequence, now)
  local RT = tonumber(redis.call('HGET', sequence, 'last-retraction') or '0')
  if RT == 0 then return end
  local w = tonumber(redis.call('HGET', U.state, 'retractions-upto') or '0')
  if w >= RT then return end
  retract_since(U, RT, redis.call('ZRANGEBYSCORE', gkey(sequence, 'retractions'), '(' .. w, RT), now)
end
