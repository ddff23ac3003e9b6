import { USER_KEY_NAMES } from '../keys.js';
import { READ_STATE } from './read-state.js';

/**
 * Lua shared by every script (prepended to each one). Conventions:
 * - ids and times travel as decimal strings; `str()` formats numbers without Lua's %.14g rounding.
 * - A user's UK keys sit at KEYS[i..i+UK-1], in the order of keys.ts (s a n m r x t k u).
 * - Delivery metadata `m[id]` = "level|createdAt|deliveredAt|expiresAt" (ms; expiresAt '' = never).
 *   Delivery times never decrease as ids grow (alloc), for every user.
 * - Invariant per user: a live delivery is in `a` and `m`; `x` holds the deliveries that have an
 *   expiry; `s` holds w (broadcast watermark), ru (read watermark, default 0), unread and total
 *   (exact counters, expired-but-unreclaimed rows included); `t` the tombstones (smDelete).
 * - Read state (unread, read and when): see read-state.ts.
 */
export const LIB = `
local CH = 500

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function str(n) return string.format('%d', n) end

local UK = ${USER_KEY_NAMES.length}

local function ukeys(i)
  return { ${USER_KEY_NAMES.map((n, j) => `${n} = KEYS[i + ${j}]`).join(', ')} }
end

-- The same keys, named inside the script from base = keys.ts userKeyPrefix .. user id .. '}:':
-- standalone scripts only (Cluster needs every key declared), where it spares passing UK keys per user.
local function ukeys_named(base)
  return { ${USER_KEY_NAMES.map((n) => `${n} = base .. '${n}'`).join(', ')} }
end

local function parse(meta)
  local l, c, d, e = string.match(meta, '^(%d+)|(%-?%d+)|(%-?%d+)|(%-?%d*)$')
  if e == '' then e = nil else e = tonumber(e) end
  return tonumber(l), tonumber(c), tonumber(d), e
end

local function exp_of(meta)
  local e = string.match(meta, '|(%-?%d*)$')
  if e == nil or e == '' then return nil end
  return e
end

local function live(meta, now)
  local e = exp_of(meta)
  return e == nil or tonumber(e) > now
end

-- HMGET in chunks (Lua's unpack is bounded); missing fields come back as false.
local function hmget(key, ids)
  if #ids == 0 then return {} end
  if #ids <= CH then return redis.call('HMGET', key, unpack(ids)) end
  local out = {}
  for i = 1, #ids, CH do
    local part = redis.call('HMGET', key, unpack(ids, i, math.min(i + CH - 1, #ids)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end

-- Runs a variadic command on a list in chunks: cmd(key, <per-item args>...).
local function chunked(cmd, key, items, per)
  per = per or 1
  local step = CH * per
  for i = 1, #items, step do
    redis.call(cmd, key, unpack(items, i, math.min(i + step - 1, #items)))
  end
end

${READ_STATE}
-- Exact counts: the counters less the expired deliveries the cleanup has not reclaimed yet.
-- live_counts: the same from counters the caller has read already (and ru, when known).
local function live_counts(U, unread, total, now, ru)
  local gone = redis.call('ZRANGEBYSCORE', U.x, '-inf', now)
  if #gone == 0 then return unread, total end
  ru = ru or read_upto(U)
  for _, id in ipairs(gone) do
    total = total - 1
    if is_unread(U, id, ru) then unread = unread - 1 end
  end
  return unread, total
end

local function counts(U, now)
  local c = redis.call('HMGET', U.s, 'unread', 'total')
  return live_counts(U, tonumber(c[1] or '0'), tonumber(c[2] or '0'), now)
end

-- Writes one unread delivery unless it has expired, the user deleted it (tombstone) or has it already
-- (HSETNX, the last check). Returns its expiry ('' = never) when written, nil otherwise; the counters
-- are the caller's. fresh: the id was allocated in this very script, so no user can have it yet and it
-- is above their read watermark (saves the lookups). ru: the user's read watermark, when already read.
local function put(U, id, meta, now, fresh, ru)
  local e = exp_of(meta)
  if e and tonumber(e) <= now then return nil end
  if fresh then redis.call('HSET', U.m, id, meta)
  elseif redis.call('ZSCORE', U.t, id) or redis.call('HSETNX', U.m, id, meta) == 0 then return nil end
  redis.call('ZADD', U.a, id, id)
  -- n means unread only above the read watermark: a late delivery below it is an unread exception.
  if not fresh and tonumber(id) <= (ru or read_upto(U)) then redis.call('ZADD', U.u, id, id)
  else redis.call('ZADD', U.n, id, id) end
  if e then redis.call('ZADD', U.x, e, id) end
  return e or ''
end

-- put(), counted.
local function add(U, id, meta, now, fresh)
  local e = put(U, id, meta, now, fresh)
  if e then
    redis.call('HINCRBY', U.s, 'unread', 1)
    redis.call('HINCRBY', U.s, 'total', 1)
  end
  return e
end

local function min_exp(a, b)
  if a == nil or a == '' then return b end
  if b == nil or b == '' then return a end
  if tonumber(b) < tonumber(a) then return b end
  return a
end

-- Global keys: G = { seq, b, bm, bp, ux }.
local function gkeys(i)
  return { seq = KEYS[i], b = KEYS[i + 1], bm = KEYS[i + 2], bp = KEYS[i + 3], ux = KEYS[i + 4] }
end

-- The newest broadcast id T such that every broadcast <= T is published (none still pending).
local function g_top(G)
  local bt = tonumber(redis.call('HGET', G.seq, 'b') or '0')
  local p = redis.call('ZRANGE', G.bp, 0, 0)
  if p[1] and tonumber(p[1]) - 1 < bt then bt = tonumber(p[1]) - 1 end
  return bt
end

-- Published broadcasts in (w, T] as a flat list id, meta, id, meta...
local function g_since(G, w, T)
  local out = {}
  local ids = redis.call('ZRANGEBYSCORE', G.b, '(' .. w, T)
  if #ids == 0 then return out end
  local metas = hmget(G.bm, ids)
  for i = 1, #ids do
    if metas[i] then out[#out + 1] = ids[i]; out[#out + 1] = metas[i] end
  end
  return out
end

-- Allocates the next message id with its delivery time; times never go backwards in id order.
local function alloc(seq, now)
  local id = redis.call('HINCRBY', seq, 'id', 1)
  local t = tonumber(redis.call('HGET', seq, 't') or '0')
  if now > t then t = now end
  redis.call('HSET', seq, 't', str(t))
  return str(id), str(t)
end

-- A user becomes known once: registered with the current top, so earlier broadcasts never reach them.
local function register(k, user, T)
  if redis.call('HSETNX', k, user, str(T)) == 1 then return str(T) end
  return redis.call('HGET', k, user)
end

-- Delivers the broadcasts in (w0, T] (list) the user has not had yet and moves the watermark to T.
-- Returns { behind = w } when the user's watermark is older than w0 (the caller fetches more),
-- or { minexp = ... } with the earliest expiry added.
local function apply_catchup(U, T, w0, list, now)
  local w = redis.call('HGET', U.s, 'w')
  if not w then return {} end
  w = tonumber(w)
  if w >= T then return {} end
  if w < w0 then return { behind = w } end
  local minexp = nil
  for i = 1, #list, 2 do
    if tonumber(list[i]) > w and tonumber(list[i]) <= T then
      local e = add(U, list[i], list[i + 1], now)
      if e then minexp = min_exp(minexp, e) end
    end
  end
  redis.call('HSET', U.s, 'w', str(T))
  return { minexp = minexp }
end

-- Delivers message id to one recipient on a single server (where a script may span users and the
-- global keys): registers them if new, delivers the broadcasts they lack, adds the delivery and
-- indexes its expiry. G = gkeys + k (known users). Answers their unread count after it.
-- ux collects (expiry, user) pairs for G.ux: the caller adds them in one ZADD LT (flush_ux).
local function deliver_local(G, U, user, T, id, meta, now, fresh, ux)
  local s = redis.call('HMGET', U.s, 'w', 'ru', 'unread', 'total')
  if s[1] and tonumber(s[1]) >= T then
    -- Known and caught up (a send to known users): the user's state read once above, and the
    -- counters written in one step.
    local ru, unread, total = tonumber(s[2] or '0'), tonumber(s[3] or '0'), tonumber(s[4] or '0')
    local e = put(U, id, meta, now, fresh, ru)
    if e then
      if e ~= '' then
        ux[#ux + 1] = e
        ux[#ux + 1] = user
      end
      unread, total = unread + 1, total + 1
      redis.call('HSET', U.s, 'unread', str(unread), 'total', str(total))
    end
    return (live_counts(U, unread, total, now, ru))
  end
  local w = s[1]
  if not w then
    w = register(G.k, user, T)
    redis.call('HSET', U.s, 'w', w)
  end
  if tonumber(w) < T then
    local r = apply_catchup(U, T, tonumber(w), g_since(G, w, T), now)
    if r.minexp and r.minexp ~= '' then redis.call('ZADD', G.ux, 'LT', r.minexp, user) end
  end
  local e = add(U, id, meta, now, fresh)
  if e and e ~= '' then
    ux[#ux + 1] = e
    ux[#ux + 1] = user
  end
  return (counts(U, now))
end

-- Indexes the (expiry, user) pairs deliver_local collected in G.ux (each user at their earliest expiry).
local function flush_ux(G, ux)
  for i = 1, #ux, 2 * CH do
    redis.call('ZADD', G.ux, 'LT', unpack(ux, i, math.min(i + 2 * CH - 1, #ux)))
  end
end

-- Every per-user script starts here. KEYS[1..UK] = the user's keys.
-- ARGV[1] = user id, ARGV[2] = 'L' (standalone: KEYS[UK+1..UK+6] are seq b bm bp ux jq, catch up here)
-- or 'G' (cluster: ARGV[3] = T, ARGV[4] = w0, ARGV[5] = n, then n pairs id, meta).
-- Returns U, the index of the script's own first argument, the earliest expiry the catch-up
-- added ('' when none), and the user's watermark when the caller must fetch broadcasts first.
local function prelude(now)
  local U = ukeys(1)
  if ARGV[2] == 'L' then
    local G = gkeys(UK + 1)
    local w = redis.call('HGET', U.s, 'w')
    if w then
      local T = g_top(G)
      if tonumber(w) < T then
        local r = apply_catchup(U, T, tonumber(w), g_since(G, w, T), now)
        if r.minexp and r.minexp ~= '' then redis.call('ZADD', G.ux, 'LT', r.minexp, ARGV[1]) end
      end
    end
    return U, 3, '', nil
  end
  local n = tonumber(ARGV[5])
  local list = {}
  for j = 1, 2 * n do list[j] = ARGV[5 + j] end
  local r = apply_catchup(U, tonumber(ARGV[3]), tonumber(ARGV[4]), list, now)
  if r.behind then return U, 0, '', str(r.behind) end
  return U, 6 + 2 * n, r.minexp or '', nil
end
`;
