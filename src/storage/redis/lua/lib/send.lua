-- Idempotency records: hash `<prefix>{global}:idempotency:<scope length>:<scope>:<key>` with
-- fingerprint, id, recipients, message (JSON, for replays), done (the send completed), result (a
-- remembered non-send result, JSON); they expire after IDEMPOTENCY_TTL_SECONDS.

-- nil when the key is free; otherwise what the earlier call left.
-- { 'mismatch' } (another fingerprint), { 'pending', id } (a send midway), or
-- { 'replay', id, recipients, message, result }.
local function idem_check(key, fp)
  local rec = redis.call('HMGET', key, 'fingerprint', 'id', 'recipients', 'message', 'done', 'result')
  if not rec[1] then return nil end
  if rec[1] ~= fp then return { 'mismatch' } end
  if rec[2] and not rec[5] then return { 'pending', rec[2] } end
  return { 'replay', rec[2] or '', rec[3] or '', rec[4] or '', rec[6] or '' }
end

local function idem_save(key, fp, id, recipients, message, done, ttl)
  redis.call('HSET', key, 'fingerprint', fp, 'id', id, 'recipients', recipients, 'message', message)
  if done then redis.call('HSET', key, 'done', '1') end
  redis.call('EXPIRE', key, ttl)
end

-- The arguments send-direct.lua and broadcast.lua share (KEYS[7..8], ARGV[1..9]: see send-direct.lua),
-- as S for begin_local, and the rest.
local function local_send_args()
  local S = {
    idempotent = ARGV[1] == '1', fingerprint = ARGV[2], body = ARGV[4], expires_at = ARGV[7],
    body_prefix = ARGV[8], bodies_due = KEYS[7], idem_key = KEYS[8],
  }
  return S, { message = ARGV[3], level = ARGV[5], created_at = ARGV[6], idem_ttl = ARGV[9] }
end

-- The start of a standalone send or broadcast: the idempotency check (an earlier call's answer,
-- returned as is), the new id, the body (key: the prefix, the id and '}'), its expiry index.
-- S = { idempotent, idem_key, fingerprint, body, body_prefix, expires_at, bodies_due }.
-- Returns the earlier answer, or nil, the id and its delivery time.
local function begin_local(G, S, now)
  if S.idempotent then
    local c = idem_check(S.idem_key, S.fingerprint)
    if c then return c end
  end
  local id, t = alloc(G.sequence, now)
  redis.call('SET', S.body_prefix .. id .. '}', S.body)
  if S.expires_at ~= '' then redis.call('ZADD', S.bodies_due, S.expires_at, id) end
  return nil, id, t
end
