-- One page of a user's deliveries, newest first ('forward') or oldest first ('backward'), with
-- whether there are more on each side and the total count.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]       read       '1' read | '0' unread | '' either
-- ARGV[i + 1]   seen       the same for seen
-- ARGV[i + 2]   archived   the same for archived
-- ARGV[i + 3]   snoozed    '1': only snoozed deliveries; '': none of them
-- ARGV[i + 4]   levels     '-' (any) or comma-separated level values
-- ARGV[i + 5]   since      createdAt lower bound, ms ('' = none)
-- ARGV[i + 6]   until      createdAt upper bound, ms ('' = none)
-- ARGV[i + 7]   direction  'forward' | 'backward'
-- ARGV[i + 8]   limit
-- ARGV[i + 9]   cursor     the id to start after ('' = the start)
-- ARGV[i + 10]  total_by   'counters' (no level or time filter) | 'scan'
-- ARGV[i + 11]  categories '-' (any) or comma-separated categories ('' = none at all)
-- Returns 'ok', minexp, more ('1'|'0'), other side ('1'|'0'), total, then id, readAt, seenAt,
-- archivedAt, snoozedUntil, groupCount ('' = 1) per delivery
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local F = filter(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 11])
local direction, limit, cursor, total_by = ARGV[i + 7], tonumber(ARGV[i + 8]), ARGV[i + 9], ARGV[i + 10]
-- An empty list of categories matches nothing.
if F.catlist and #F.catlist == 0 then return { 'ok', minexp, '0', '0', '0' } end
-- The smallest indexes that hold every match: the snoozed, or those not in a state the filter
-- excludes (of the filter's categories, or of all the user's).
local unset
if not F.snoozed then
  if F.read == false then unset = 'read' elseif F.seen == false then unset = 'seen' elseif F.archived == false then unset = 'archived' end
end
local segs
if F.snoozed then segs = all_of(U.snoozed)
elseif not unset and F.catlist then
  -- Each category's own index of its deliveries, merged.
  segs = {}
  for _, c in ipairs(F.catlist) do segs[#segs + 1] = all_of(bucket(U, c).deliveries)[1] end
elseif not unset then segs = all_of(U.deliveries)
elseif F.catlist then
  local Ks = {}
  for _, c in ipairs(F.catlist) do Ks[#Ks + 1] = (kinds_of(U, c)) end
  segs = not_in(U, Ks, unset)
else segs = not_in(U, all_kinds(U), unset) end
local function scan(desc, bound, inclusive, size, visit)
  return walk(U, segs, F, desc, bound, inclusive, size, now, visit, unset)
end
local desc = direction == 'forward'
local start = cursor
if start == '' then start = desc and '+inf' or '-inf' end
-- The reply: 5 header fields (filled below), then 6 fields per delivery, written in place.
local out = { 'ok', minexp, '', '', '' }
local n = 5
scan(desc, start, false, limit + 1, function(id, r, s, a, z, meta)
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] = id, r or '', s or '', a or '', z or '', gc_field(meta)
  n = n + 6
  return n < 5 + 6 * (limit + 1)
end)
local more = '0'
if n > 5 + 6 * limit then
  more = '1'
  for j = n - 5, n do out[j] = nil end
end
local other = '0'
if cursor ~= '' then
  scan(not desc, cursor, true, 8, function() other = '1'; return false end)
end

-- The total from the counters when they hold it (read implies seen, archived implies read), else a scan.
local function counted(C)
  local r, s, a = F.read, F.seen, F.archived
  if F.snoozed then
    if r == nil and s == nil and a == nil then return C.snoozed end
    return nil
  end
  if s == false and r ~= true and a ~= true then return C.unseen end
  if r == false and s == nil and a ~= true then return C.unread end
  if a == true and r ~= false and s ~= false then return C.total - C.unarchived end
  if r == nil and s == nil and a == nil then return C.total end
  if r == nil and s == nil and a == false then return C.unarchived end
  if a == nil and r == true and s ~= false then return C.total - C.unread end
  if a == nil and r == nil and s == true then return C.total - C.unseen end
  return nil
end
-- Counters: the user's, or the sum of the categories'.
local function counters()
  if not F.catlist then return counts(U, now) end
  local C = { unread = 0, unseen = 0, unarchived = 0, total = 0, snoozed = 0 }
  for _, c in ipairs(F.catlist) do
    for f, v in pairs(counts(U, now, c)) do C[f] = C[f] + v end
  end
  return C
end
local total = total_by == 'counters' and counted(counters())
if not total then
  -- Counting looks up no states unless the filter has some.
  if F.read == nil and F.seen == nil and F.archived == nil then F.nostates = true end
  total = 0
  scan(true, '+inf', true, 256, function() total = total + 1 end)
end
out[3], out[4], out[5] = more, other, str(total)
return out
