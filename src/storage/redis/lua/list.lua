-- One page of a user's deliveries, newest first ('forward') or oldest first ('backward'), with
-- whether there are more on each side and the total count.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]      source     'all' | 'unread'
-- ARGV[i + 1]  read_only  '1': read deliveries only
-- ARGV[i + 2]  levels     '-' (any) or comma-separated level values
-- ARGV[i + 3]  since      createdAt lower bound, ms ('' = none)
-- ARGV[i + 4]  until      createdAt upper bound, ms ('' = none)
-- ARGV[i + 5]  direction  'forward' | 'backward'
-- ARGV[i + 6]  limit
-- ARGV[i + 7]  cursor     the id to start after ('' = the start)
-- ARGV[i + 8]  total_by   'counters' (no level or time filter) | 'scan'
-- Returns 'ok', minexp, more ('1'|'0'), other side ('1'|'0'), total, then id, readAt pairs
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local source, read_only, levels, since, upto = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
local direction, limit, cursor, total_by = ARGV[i + 5], tonumber(ARGV[i + 6]), ARGV[i + 7], ARGV[i + 8]
local unreadOnly = source == 'unread'
local F = filter(read_only, levels, since, upto)
local ru = read_upto(U)
local function scan(desc, bound, inclusive, size, visit)
  if unreadOnly then return walk_unread(U, F, desc, bound, inclusive, size, now, ru, visit) end
  return walk(U, U.deliveries, F, desc, bound, inclusive, size, now, ru, visit)
end
local desc = direction == 'forward'
local start = cursor
if start == '' then start = desc and '+inf' or '-inf' end
-- The reply: 5 header fields (filled below), then id, readAt pairs, written in place.
local out = { 'ok', minexp, '', '', '' }
local n = 5
scan(desc, start, false, limit + 1, function(id, r)
  out[n + 1] = id
  out[n + 2] = r or ''
  n = n + 2
  return n < 5 + 2 * (limit + 1)
end)
local more = '0'
if n > 5 + 2 * limit then
  more = '1'
  out[n] = nil
  out[n - 1] = nil
end
local other = '0'
if cursor ~= '' then
  scan(not desc, cursor, true, 8, function() other = '1'; return false end)
end
local total = 0
if total_by == 'counters' then
  local unread, all = counts(U, now)
  if unreadOnly then total = unread elseif F.readOnly then total = all - unread else total = all end
else
  scan(true, '+inf', true, 256, function() total = total + 1 end)
end
out[3], out[4], out[5] = more, other, str(total)
return out
