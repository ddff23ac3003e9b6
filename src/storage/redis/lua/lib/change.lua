-- Changing the inbox states of deliveries one by one (states.lua), for set-state.lua and snooze.lua.
-- Counter changes go to D (flush()).

-- Applies per-delivery operation op to a live delivery that is not snoozed, of category cat, at time
-- t; answers whether its state changed. The couplings: read implies seen, archived implies read.
local function change_awake(U, cat, op, id, t, D)
  local K = kinds_of(U, cat)
  local R, S, A = K.read, K.seen, K.archived
  if op == 'read' then
    local changed = set_on(R, id, t, D)
    set_on(S, id, t, D)
    return changed
  elseif op == 'unread' then
    set_off(A, id, D)
    return set_off(R, id, D)
  elseif op == 'seen' then
    return set_on(S, id, t, D)
  elseif op == 'archive' then
    set_on(S, id, t, D)
    set_on(R, id, t, D)
    return set_on(A, id, t, D)
  end
  return set_off(A, id, D) -- unarchive
end

-- The same on the states a snoozed delivery keeps (f: frozen()); no counter changes (it counts as snoozed only).
local function change_frozen(f, op, t)
  if op == 'read' then
    if f.r ~= '' then return false end
    f.r = t
    if f.s == '' then f.s = t end
  elseif op == 'unread' then
    if f.r == '' then return false end
    f.r, f.a = '', ''
  elseif op == 'seen' then
    if f.s ~= '' then return false end
    f.s = t
  elseif op == 'archive' then
    if f.a ~= '' then return false end
    f.a = t
    if f.r == '' then f.r = t end
    if f.s == '' then f.s = t end
  else -- unarchive
    if f.a == '' then return false end
    f.a = ''
  end
  return true
end

-- Applies operation op ('read', 'unread', 'seen', 'archive', 'unarchive') to live delivery id (its
-- meta), snoozed or not; answers whether its state changed.
local function change(U, op, id, meta, t, D)
  local f = any_snoozed(U) and frozen(U, id)
  if not f then return change_awake(U, category_of(meta), op, id, t, D) end
  if not change_frozen(f, op, t) then return false end
  freeze(U, id, f)
  return true
end

-- The loop and reply of the per-delivery scripts: applies fn(id, meta) (truthy when its state changed) to
-- each live delivery among ARGV[first..], writes the counters D collected, records the change (webhooks.lua:
-- op, then suffix after the ids) when one changed, and answers 'ok', minexp, the counts,
-- next_wake(U) when with_wake, #changed, the changed ids, then each found one's states.
local function change_each(U, minexp, first, now, D, fn, with_wake, op, suffix)
  local changed, found = {}, {}
  for j = first, #ARGV do
    local id = ARGV[j]
    local meta = redis.call('HGET', U.meta, id)
    if meta and live(meta, now) then
      if fn(id, meta) then changed[#changed + 1] = id end
      found[#found + 1] = id
    end
  end
  flush(U, D)
  local C = counts(U, now)
  -- ARGV[1]: the user (every per-user script's first argument).
  if #changed > 0 then wh_user(U, ARGV[1], now, op, C, table.concat(changed, ',') .. (suffix or '')) end
  local out = append_counts(C, { wh_ok(), minexp })
  if with_wake then out[#out + 1] = next_wake(U) end
  out[#out + 1] = str(#changed)
  for _, v in ipairs(changed) do out[#out + 1] = v end
  return append_states(U, found, out)
end
