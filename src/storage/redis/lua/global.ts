/**
 * Scripts on the global keys (one hash slot: `{g}`), and the standalone scripts that write a whole
 * send at once. Global keys: seq (hash: id, t = last delivery time, b = newest published broadcast),
 * b (zset of broadcast ids), bm (broadcast id -> meta), bp (zset of broadcasts still being written,
 * Cluster only), ux (user -> earliest expiry to reclaim), k (known user -> registration watermark),
 * mx (message id -> expiry: bodies to reclaim), j / jq (send journal and its queue, Cluster only),
 * i:<scope>:<key> (idempotency records: f fingerprint, id, rc, m message JSON, done, r result).
 */

const IDEM = `
-- nil when the key is free; otherwise what the earlier call left.
local function idem_check(key, fp)
  local rec = redis.call('HMGET', key, 'f', 'id', 'rc', 'm', 'done', 'r')
  if not rec[1] then return nil end
  if rec[1] ~= fp then return { 'mismatch' } end
  if rec[2] and not rec[5] then return { 'pending', rec[2] } end
  return { 'replay', rec[2] or '', rec[3] or '', rec[4] or '', rec[6] or '' }
end

local function idem_save(key, fp, id, rc, msg, done, ttl)
  redis.call('HSET', key, 'f', fp, 'id', id, 'rc', rc, 'm', msg)
  if done then redis.call('HSET', key, 'done', '1') end
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * The start of a standalone send or broadcast (their shared ARGV below; KEYS[7] mx, KEYS[8] idem): the
 * idempotency check (an earlier call's answer, returned as is), the new id, the body, its expiry index.
 */
const LOCAL_BEGIN = IDEM + `
local function begin_local(G, now)
  if ARGV[1] == '1' then
    local c = idem_check(KEYS[8], ARGV[2])
    if c then return c end
  end
  local id, t = alloc(G.seq, now)
  redis.call('SET', ARGV[8] .. id .. '}', ARGV[4])
  if ARGV[7] ~= '' then redis.call('ZADD', KEYS[7], ARGV[7], id) end
  return nil, id, t
end
`;

/**
 * ARGV shared by the send scripts: [1] idempotency ('1'|'0'), [2] fingerprint, [3] message JSON
 * (for replays), [4] body, [5] level, [6] createdAt, [7] expiresAt ('' = never),
 * [8] body key prefix (the id and '}' complete it), [9] idempotency TTL (s).
 */
export const GLOBAL_SCRIPTS = {
  /**
   * Standalone: the whole multi-user send in one atomic step. KEYS: seq b bm bp ux k mx idem, then
   * the UK keys of each user (keys.ts); ARGV[10..] user ids. The body key is derived from the new id inside the
   * script: standalone Redis allows it, and Cluster never runs this script.
   */
  smSendLocal: LOCAL_BEGIN + `
local now = now_ms()
local G = gkeys(1)
local earlier, id, t = begin_local(G, now)
if earlier then return earlier end
local meta = ARGV[5] .. '|' .. ARGV[6] .. '|' .. t .. '|' .. ARGV[7]
local T = g_top(G)
G.k = KEYS[6]
local users = #ARGV - 9
local out = { 'new', id, str(users) }
local ux = {}
for j = 0, users - 1 do
  out[#out + 1] = str(deliver_local(G, ukeys(9 + UK * j), ARGV[10 + j], T, id, meta, now, true, ux))
end
flush_ux(G, ux)
if ARGV[1] == '1' then idem_save(KEYS[8], ARGV[2], id, str(users), ARGV[3], true, ARGV[9]) end
return out
`,

  /**
   * Standalone, large sends: one chunk of a journalled send (see send.ts), idempotent per recipient.
   * KEYS: seq b bm bp ux k. ARGV: id, meta, the user key prefix (keys.ts userKeyPrefix), user ids:
   * the script names each user's keys itself (standalone only). Answers unread counts.
   */
  smDeliverMany: `
local now = now_ms()
local G = gkeys(1)
G.k = KEYS[6]
local T = g_top(G)
local out = {}
local ux = {}
for j = 4, #ARGV do
  out[#out + 1] = str(deliver_local(G, ukeys_named(ARGV[3] .. ARGV[j] .. '}:'), ARGV[j], T, ARGV[1], ARGV[2], now, false, ux))
end
flush_ux(G, ux)
return out
`,

  /**
   * Standalone: many direct sends without idempotency keys in one script (group commit, see send.ts).
   * KEYS: seq b bm bp ux k mx. ARGV: [1] the user key prefix (keys.ts userKeyPrefix), [2] the body key
   * prefix, then per send: body, level, createdAt, expiresAt, n, n user ids. The script names each
   * user's keys itself (standalone only). Each send runs under pcall, so one that fails (a Redis error)
   * fails alone, as it would in a script of its own. Answers per send: its id and each user's unread
   * count, or 'e' and the error.
   */
  smSendBatch: `
local now = now_ms()
local G = gkeys(1)
G.k = KEYS[6]
local T = g_top(G)
local ux = {}

local function one(a, n)
  local expires = ARGV[a + 3]
  local id, t = alloc(G.seq, now)
  redis.call('SET', ARGV[2] .. id .. '}', ARGV[a])
  if expires ~= '' then redis.call('ZADD', KEYS[7], expires, id) end
  local meta = ARGV[a + 1] .. '|' .. ARGV[a + 2] .. '|' .. t .. '|' .. expires
  local r = { id }
  for j = a + 5, a + 4 + n do
    r[#r + 1] = str(deliver_local(G, ukeys_named(ARGV[1] .. ARGV[j] .. '}:'), ARGV[j], T, id, meta, now, true, ux))
  end
  return r
end

local out = {}
local a = 3
while a <= #ARGV do
  local n = tonumber(ARGV[a + 4])
  local ok, r = pcall(one, a, n)
  if ok then
    for i = 1, #r do out[#out + 1] = r[i] end
  else
    out[#out + 1] = 'e'
    out[#out + 1] = type(r) == 'table' and tostring(r.err) or tostring(r)
  end
  a = a + 5 + n
end
flush_ux(G, ux)
return out
`,

  /** Standalone broadcast: one write whatever the number of users. KEYS: seq b bm bp ux k mx idem. */
  smBroadcastLocal: LOCAL_BEGIN + `
local now = now_ms()
local G = gkeys(1)
local earlier, id, t = begin_local(G, now)
if earlier then return earlier end
redis.call('ZADD', G.b, id, id)
redis.call('HSET', G.bm, id, ARGV[5] .. '|' .. ARGV[6] .. '|' .. t .. '|' .. ARGV[7])
redis.call('HSET', G.seq, 'b', id)
local rc = str(redis.call('HLEN', KEYS[6]))
if ARGV[1] == '1' then idem_save(KEYS[8], ARGV[2], id, rc, ARGV[3], true, ARGV[9]) end
return { 'new', id, rc }
`,

  /**
   * Cluster send, step 1: claim the idempotency key, allocate the id, register the recipients and
   * journal the send, atomically. KEYS: seq bp k idem j jq. ARGV: [1] kind ('d' direct | 'b'
   * broadcast), [2] idempotency, [3] fingerprint, [4] message JSON, [5] journal payload, [6] TTL,
   * [7..] user ids. Answers 'new', id, t, T, recipientCount, registration watermark per user.
   */
  smBegin: IDEM + `
local now = now_ms()
if ARGV[2] == '1' then
  local c = idem_check(KEYS[4], ARGV[3])
  if c then return c end
end
local T = g_top({ seq = KEYS[1], bp = KEYS[2] })
local id, t = alloc(KEYS[1], now)
local out = { 'new', id, t, str(T), '' }
local rc
if ARGV[1] == 'b' then
  redis.call('ZADD', KEYS[2], id, id)
  rc = redis.call('HLEN', KEYS[3])
else
  rc = #ARGV - 6
  for j = 7, #ARGV do out[#out + 1] = register(KEYS[3], ARGV[j], T) end
end
out[5] = str(rc)
redis.call('HSET', KEYS[5], id, t .. '|' .. ARGV[5])
redis.call('ZADD', KEYS[6], now, id)
if ARGV[2] == '1' then idem_save(KEYS[4], ARGV[3], id, str(rc), ARGV[4], false, ARGV[6]) end
return out
`,

  /**
   * Cluster send, last step (idempotent): publish a broadcast, index expiries, mark the
   * idempotency record done and drop the journal entry. KEYS: seq b bm bp ux mx idem j jq.
   * ARGV: [1] id, [2] kind, [3] meta, [4] expiresAt, [5] idempotency, [6..] user ids.
   */
  smFinish: `
local id, exp = ARGV[1], ARGV[4]
if ARGV[2] == 'b' then
  redis.call('ZADD', KEYS[2], id, id)
  redis.call('HSET', KEYS[3], id, ARGV[3])
  if tonumber(redis.call('HGET', KEYS[1], 'b') or '0') < tonumber(id) then redis.call('HSET', KEYS[1], 'b', id) end
  redis.call('ZREM', KEYS[4], id)
elseif exp ~= '' then
  for j = 6, #ARGV do redis.call('ZADD', KEYS[5], 'LT', exp, ARGV[j]) end
end
if exp ~= '' then redis.call('ZADD', KEYS[6], exp, id) end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[7]) == 1 then redis.call('HSET', KEYS[7], 'done', '1') end
redis.call('HDEL', KEYS[8], id)
redis.call('ZREM', KEYS[9], id)
return 'ok'
`,

  /** Journal entries older than ARGV[1] ms, at most ARGV[2]: id, payload pairs. KEYS: j jq. */
  smJournalDue: `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms() - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
if #ids == 0 then return out end
local payloads = hmget(KEYS[1], ids)
for j = 1, #ids do
  if payloads[j] then out[#out + 1] = ids[j]; out[#out + 1] = payloads[j]
  else redis.call('ZREM', KEYS[2], ids[j]) end
end
return out
`,

  /** Cluster: registers a user (KEYS: seq bp k; ARGV: user); answers the registration watermark. */
  smRegister: `
return register(KEYS[3], ARGV[1], g_top({ seq = KEYS[1], bp = KEYS[2] }))
`,

  /** Standalone: registers a user in one step. KEYS: user s, seq, bp, k. ARGV: user. */
  smEnsureLocal: `
redis.call('HSETNX', KEYS[1], 'w', register(KEYS[4], ARGV[1], g_top({ seq = KEYS[2], bp = KEYS[3] })))
return 'ok'
`,

  /** Cluster: the broadcast top, and the published broadcasts after watermark ARGV[1]. KEYS: seq b bm bp. */
  smSince: `
local G = { seq = KEYS[1], b = KEYS[2], bm = KEYS[3], bp = KEYS[4] }
local T = g_top(G)
local out = { str(T) }
if ARGV[1] ~= '' and tonumber(ARGV[1]) < T then
  for _, v in ipairs(g_since(G, ARGV[1], T)) do out[#out + 1] = v end
end
return out
`,

  /** Members of zset KEYS[1] whose score is due (<= now), at most ARGV[1]. */
  smDue: `
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
`,

  /** Bodies reclaimed: forget their expiry entries and broadcast records. KEYS: mx b bm; ARGV: ids. */
  smForget: `
chunked('ZREM', KEYS[1], ARGV)
chunked('ZREM', KEYS[2], ARGV)
chunked('HDEL', KEYS[3], ARGV)
return 'ok'
`,

  /** KEYS: idem. ARGV: fingerprint, result JSON, TTL. Stores the result unless the key has one. */
  smRemember: IDEM + `
local c = idem_check(KEYS[1], ARGV[1])
if c then return c end
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'r', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return { 'new' }
`,

  /** KEYS: idem. ARGV: fingerprint. Deletes the record when it holds this fingerprint. */
  smForgetResult: `
if redis.call('HGET', KEYS[1], 'f') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 'ok'
`,
} as const;
