-- One user's counts, and delivering one message to one user (base.lua and read-state.lua come first;
-- deliver.lua, after, brings the message to users through the global keys).

-- Exact counts: the counters less the expired deliveries the cleanup has not reclaimed yet.
-- C = { unread, unseen, unarchived, total, snoozed } as read from the state hash, corrected in place;
-- cat: of that category's deliveries only (nil: the whole inbox).
local function live_counts(U, C, now, cat)
  local gone = redis.call('ZRANGEBYSCORE', U.expiries, '-inf', now)
  if #gone == 0 then return C end
  local metas = hmget(U.meta, gone)
  for j, id in ipairs(gone) do
    local c = metas[j] and category_of(metas[j])
    if not cat or c == cat then
      if redis.call('HEXISTS', U.snoozes, id) == 1 then
        C.snoozed = C.snoozed - 1
      else
        C.total = C.total - 1
        local _, KS = kinds_of(U, c)
        for _, K in ipairs(KS) do
          if is_not(K, id) then C[K.counter] = C[K.counter] - 1 end
        end
      end
    end
  end
  return C
end

-- The user's counts, or those of category cat.
local function counts(U, now, cat)
  local f = cat and ('c:' .. cat .. ':') or ''
  local c = redis.call('HMGET', U.state, f .. 'unread', f .. 'unseen', f .. 'unarchived', f .. 'total', f .. 'snoozed')
  local C = { unread = tonumber(c[1] or '0'), unseen = tonumber(c[2] or '0'), unarchived = tonumber(c[3] or '0'), total = tonumber(c[4] or '0'), snoozed = tonumber(c[5] or '0') }
  return live_counts(U, C, now, cat)
end

-- Appends the counts as replies carry them: total, unread, unseen, archived, snoozed.
local function append_counts(C, out)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = str(C.total), str(C.unread), str(C.unseen), str(C.total - C.unarchived), str(C.snoozed)
  return out
end

-- A message as a send carries it to each recipient, "level|createdAt|deliveredAt|expiresAt" then,
-- when it has any of them, "|category|critical|groupKey" (critical '1' or ''; the group key, any
-- text, comes last). Answers { head = the first four fields, cat, critical, gk } (nil = none).
local function parse_spec(spec)
  local head, cat, crit, gk = string.match(spec, '^([^|]*|[^|]*|[^|]*|[^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not head then return { head = spec, critical = false } end
  return { head = head, cat = cat ~= '' and cat or nil, critical = crit == '1', gk = gk ~= '' and gk or nil }
end

-- Writes one unread, unseen, unarchived delivery of message id (P: parse_spec) unless it has expired,
-- the user deleted it (tombstone) or has it already, or disabled its category and it is not critical.
-- With a group key, the user's unread delivery of that group (live, awake: one at most, the one
-- `groups` names) is marked read and seen now, and the new one counts on from its groupCount; one
-- older than the group's newest (a journalled send completed late) arrives read, with groupCount 1.
-- Counter changes go to D. Answers nil when nothing was written ('off' when for the preference),
-- else { e = its expiry ('' = never), gc = its groupCount, sup = the id marked read }.
-- fresh: the id was allocated in this very script, so no user can have it yet and it is above
-- every watermark of theirs (saves the lookups).
local function deliver_to(U, id, P, now, fresh, D)
  local e = exp_of(P.head)
  if e and tonumber(e) <= now then return nil end
  -- One who has it already (a journalled send completed again) was a recipient, whatever their preference now.
  if not fresh and (redis.call('ZSCORE', U.tombstones, id) or redis.call('HEXISTS', U.meta, id) == 1) then return nil end
  if P.cat and not P.critical and redis.call('HGET', U.prefs, P.cat) == '0' then return 'off' end
  local meta, gc, sup, late = P.head, 1, nil, false
  if P.gk then
    -- A hash field holds any text; its digest keeps the field (and the meta naming it) short. Once
    -- per message: a send visits many users.
    P.gd = P.gd or redis.sha1hex(P.gk)
    local g = P.gd
    local old = redis.call('HGET', U.groups, g)
    local om = old and redis.call('HGET', U.meta, old)
    -- A journalled send reaching the user after a newer one of the group: it arrives superseded.
    late = old and tonumber(old) > tonumber(id)
    if late then
      g = nil
    elseif om and live(om, now) then
      local OK = kinds_of(U, category_of(om))
      -- Marking it read answers whether it was unread: no lookup before.
      if set_on(OK.read, old, str(now), D) then
        set_on(OK.seen, old, str(now), D)
        gc, sup = group_of(om) + 1, old
      end
    end
    if g then redis.call('HSET', U.groups, g, id) end
    meta = meta .. '|' .. (P.cat or '') .. '|' .. str(gc) .. '|' .. (g or '')
  elseif P.cat then
    meta = meta .. '|' .. P.cat
  end
  redis.call('HSET', U.meta, id, meta)
  redis.call('ZADD', U.deliveries, id, id)
  local B, KS
  if fresh then B, KS = bucket(U, P.cat) else B, KS = kinds_of(U, P.cat) end
  for _, K in ipairs(KS) do
    -- K.nk means "not in state K" only above the watermark: a late delivery below it is an exception.
    redis.call('ZADD', (not fresh and tonumber(id) <= K.u) and K.below or K.nk, id, id)
    bump_k(D, K, 1)
  end
  bump_c(D, P.cat, 'total', 1)
  if P.cat then
    redis.call('SADD', U.categories, P.cat)
    redis.call('ZADD', B.deliveries, id, id)
  end
  if e then redis.call('ZADD', U.expiries, e, id) end
  if late then
    set_on(B.read, id, str(now), D)
    set_on(B.seen, id, str(now), D)
  end
  return { e = e or '', gc = gc, sup = sup }
end

-- A send's answer per recipient (r: deliver_to's): '-' when their preference skipped them, else
-- "<unread>:<unseen>" after it, then ":<groupCount>:<superseded id>" when grouped. C: their
-- counters after it when the caller has them (else read here).
local function user_reply(U, r, now, C)
  if r == 'off' then return '-' end
  if C then C = live_counts(U, C, now) else C = counts(U, now) end
  local out = str(C.unread) .. ':' .. str(C.unseen)
  if r and (r.gc > 1 or r.sup) then out = out .. ':' .. str(r.gc) .. ':' .. (r.sup or '') end
  return out
end
