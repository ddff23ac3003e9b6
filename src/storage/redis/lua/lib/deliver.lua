-- Broadcasts, the catch-up and the per-user prelude, and deliveries on a single server (base.lua,
-- read-state.lua and delivery.lua come first).

-- The global keys (keys.ts GlobalKeys), all in the slot `{global}`:
--   sequence            hash: last-id, last-delivered-at (never decreases), last-broadcast
--   broadcasts          zset id -> id: published broadcasts
--   broadcast-meta      hash id -> the broadcast as parse_spec takes it (without a group key)
--   broadcasts-pending  zset id -> id: broadcasts still being written (Cluster only)
--   users-due           zset user -> when the cleanup should visit them (cleanup.ts)
--   known-users         hash user -> broadcasts-upto when they became known
--   bodies-due          zset message id -> expiresAt: bodies to reclaim
--   journal, journal-due  hash id -> "<deliveredAt>|<JSON>" and zset id -> when: sends in progress
-- G = the first five of them, given as KEYS[i .. i + 4] in this order.
local function gkeys(i)
  return { sequence = KEYS[i], broadcasts = KEYS[i + 1], broadcast_meta = KEYS[i + 2], pending = KEYS[i + 3], users_due = KEYS[i + 4] }
end

-- The newest broadcast id T such that every broadcast <= T is published (none still pending).
local function g_top(G)
  local bt = tonumber(redis.call('HGET', G.sequence, 'last-broadcast') or '0')
  local p = redis.call('ZRANGE', G.pending, 0, 0)
  if p[1] and tonumber(p[1]) - 1 < bt then bt = tonumber(p[1]) - 1 end
  return bt
end

-- Published broadcasts in (w, T] as a flat list id, meta, id, meta...
local function g_since(G, w, T)
  local out = {}
  local ids = redis.call('ZRANGEBYSCORE', G.broadcasts, '(' .. w, T)
  if #ids == 0 then return out end
  local metas = hmget(G.broadcast_meta, ids)
  for i = 1, #ids do
    if metas[i] then out[#out + 1] = ids[i]; out[#out + 1] = metas[i] end
  end
  return out
end

-- Allocates the next message id with its delivery time; times never go backwards in id order.
local function alloc(sequence, now)
  local id = redis.call('HINCRBY', sequence, 'last-id', 1)
  local t = tonumber(redis.call('HGET', sequence, 'last-delivered-at') or '0')
  if now > t then t = now end
  redis.call('HSET', sequence, 'last-delivered-at', str(t))
  return str(id), str(t)
end

-- A user becomes known once: registered with the current top, so earlier broadcasts never reach them.
local function register(known, user, T)
  if redis.call('HSETNX', known, user, str(T)) == 1 then return str(T) end
  return redis.call('HGET', known, user)
end

-- Delivers the broadcasts in (w0, T] (list) the user has not had yet and moves the watermark to T.
-- Returns { behind = w } when the user's watermark is older than w0 (the caller fetches more),
-- or { minexp = ... } with the earliest expiry added.
local function apply_catchup(U, T, w0, list, now)
  local w = redis.call('HGET', U.state, 'broadcasts-upto')
  if not w then return {} end
  w = tonumber(w)
  if w >= T then return {} end
  if w < w0 then return { behind = w } end
  local minexp, D = nil, {}
  for i = 1, #list, 2 do
    if tonumber(list[i]) > w and tonumber(list[i]) <= T then
      -- The user's preference applies now, as the broadcast reaches their inbox.
      local r = deliver_to(U, list[i], parse_spec(list[i + 1]), now, false, D)
      if type(r) == 'table' then minexp = min_exp(minexp, r.e) end
    end
  end
  flush(U, D)
  redis.call('HSET', U.state, 'broadcasts-upto', str(T))
  return { minexp = minexp }
end

-- Delivers message id (P: parse_spec) to one recipient on a single server (where a script may span
-- users and the global keys): registers them if new, delivers the broadcasts they lack, then the
-- message. G = gkeys() and known. Answers their user_reply().
-- ux collects (expiry, user) pairs for G.users_due: the caller adds them in one ZADD LT (flush_ux).
local function deliver_local(G, U, user, T, id, P, now, fresh, ux)
  local s = redis.call('HMGET', U.state, 'broadcasts-upto', 'states', 'unread', 'unseen', 'unarchived', 'total', 'snoozed', 'retractions-upto', 'webhook-seq')
  -- Read once per script (a send visits many users).
  G.rt = G.rt or redis.call('HGET', G.sequence, 'last-retraction') or '0'
  local RT = G.rt
  local C
  if s[1] and s[2] and tonumber(s[1]) >= T and tonumber(s[8] or '0') >= tonumber(RT) then
    -- Known and caught up (a send to known users): the user's counters read above, written once below.
    C = { unread = tonumber(s[3] or '0'), unseen = tonumber(s[4] or '0'), unarchived = tonumber(s[5] or '0'), total = tonumber(s[6] or '0'), snoozed = tonumber(s[7] or '0') }
  else
    upgrade(U)
    local w = s[1]
    if not w then
      w = register(G.known, user, T)
      -- A new user's keys are built with every index from the start: nothing to upgrade.
      redis.call('HSET', U.state, 'broadcasts-upto', w, 'states', '1', 'retractions-upto', RT)
    end
    if tonumber(w) < T then
      local r = apply_catchup(U, T, tonumber(w), g_since(G, w, T), now)
      if r.minexp and r.minexp ~= '' then redis.call('ZADD', G.users_due, 'LT', r.minexp, user) end
    end
    retract_local(U, G.sequence, now)
  end
  local D = {}
  local r = deliver_to(U, id, P, now, fresh, D)
  local seq
  if C then
    local kv = {}
    if WH.on and type(r) == 'table' then
      -- The outbox record's number goes with the counters' write (webhooks.lua wh_append).
      seq = str(tonumber(s[9] or '0') + 1)
      kv[1], kv[2] = 'webhook-seq', seq
    end
    for f, v in pairs(C) do
      if D[f] and D[f] ~= 0 then
        C[f] = v + D[f]
        D[f] = nil
        kv[#kv + 1] = f
        kv[#kv + 1] = str(C[f])
      end
    end
    if #kv > 0 then redis.call('HSET', U.state, unpack(kv)) end
  end
  flush(U, D)
  if type(r) == 'table' and r.e ~= '' then
    ux[#ux + 1] = r.e
    ux[#ux + 1] = user
  end
  local reply = user_reply(U, r, now, C)
  -- Only a delivery made now: one the user had already (a journalled send resumed) writes nothing again.
  if type(r) == 'table' then wh_sent(U, user, now, id, reply, seq) end
  return reply
end

-- Indexes the (expiry, user) pairs deliver_local collected in G.users_due (each user at their earliest expiry).
local function flush_ux(G, ux)
  for i = 1, #ux, 2 * CH do
    redis.call('ZADD', G.users_due, 'LT', unpack(ux, i, math.min(i + 2 * CH - 1, #ux)))
  end
end

-- Every per-user script starts here: it first delivers the broadcasts the user has not had yet.
--   KEYS[1 .. UK]  the user's keys
--   ARGV[1]        user id
--   ARGV[2]        mode: 'local' (one server: KEYS[UK + 1 .. UK + 7] are gkeys(), journal-due and
--                  webhooks-due; the script catches up by itself) or 'cluster' (the caller read the
--                  broadcasts: ARGV[4] top, ARGV[5] from, ARGV[6] n, then n pairs id, meta of those in (from, top];
--                  then the retractions (retract.lua): rtop ('' = not checked), rfrom, m, then the m
--                  ids of the broadcasts numbered in (rfrom, rtop])
--   ARGV[3]        webhooks: '1' when on (webhooks.lua)
--   then the script's own arguments, from the index prelude returns.
-- Returns U; that index; the earliest expiry the catch-up added ('' when none); on a cluster, the
-- user's watermark when it is older than `from` (the caller fetches more and retries; 'r' and the
-- retraction watermark when that one is older than rfrom); and G with journal_due in local mode (nil on a cluster).
local function prelude(now)
  local U = ukeys(1)
  local user, mode = ARGV[1], ARGV[2]
  WH.on = ARGV[3] == '1'
  local s = redis.call('HMGET', U.state, 'broadcasts-upto', 'states')
  if s[1] and not s[2] then upgrade(U) end
  if mode == 'local' then
    local G = gkeys(UK + 1)
    G.journal_due = KEYS[UK + 6]
    WH.index = KEYS[UK + 7]
    local w = s[1]
    if w then
      local T = g_top(G)
      if tonumber(w) < T then
        local r = apply_catchup(U, T, tonumber(w), g_since(G, w, T), now)
        if r.minexp and r.minexp ~= '' then redis.call('ZADD', G.users_due, 'LT', r.minexp, user) end
      end
      retract_local(U, G.sequence, now)
    end
    return U, 4, '', nil, G
  end
  local top, from, n = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  local list = {}
  for j = 1, 2 * n do list[j] = ARGV[6 + j] end
  local r = apply_catchup(U, top, from, list, now)
  if r.behind then return U, 0, '', str(r.behind), nil end
  local at = 7 + 2 * n
  local rtop, rfrom, m = ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  if rtop ~= '' and s[1] then
    local w = tonumber(redis.call('HGET', U.state, 'retractions-upto') or '0')
    if w < tonumber(rtop) then
      if w < rfrom then return U, 0, '', 'r' .. str(w), nil end
      local ids = {}
      for j = at + 3, at + 2 + m do ids[#ids + 1] = ARGV[j] end
      retract_since(U, tonumber(rtop), ids, now)
    end
  end
  return U, at + 3 + m, r.minexp or '', nil, nil
end
