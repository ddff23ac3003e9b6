-- Settles events of one webhook stream (outbox.ts): each acknowledged (delivered or given up on), or
-- kept with a failed attempt's delivery so far; then drops the stream's first records while every
-- event of theirs is acknowledged. Progress inside records is kept under the hash field webhook-head,
-- JSON { "<seq>": { n = events, a = { "<k>": 1 }, r = { "<k>": "<retry JSON>" } } }, for records still
-- in the stream only; webhook-lease, "<seq>:<k>:<until ms>", is the last event the latest claim took.
--
-- KEYS[1]  the stream   list of records (lib/webhooks.lua)
-- KEYS[2]  its hash     the user's state, or the sequence for the broadcasts' stream
-- ARGV[1]  now          ms
-- ARGV[2]  release      '1': the latest claim's events are given back (its lease ends now)
-- ARGV[3..] per event: seq (its record's), k (its place in the record), n (the record's events; 0 =
--          none is sent), retry ('' = acknowledged, else { attempts, delivered, dueAt } as JSON)
-- Returns the stream's length after; when its first event waits for a retry, that time, else ''; and
-- '1' when that event is not under the latest claim's lease (the caller makes the stream due), else '0'
local list, hash = KEYS[1], KEYS[2]
local function seq_of(record) return string.match(record, '^(%d+)|') end

local now = tonumber(ARGV[1])
if ARGV[2] == '1' then redis.call('HDEL', hash, 'webhook-lease') end
local first = redis.call('LINDEX', list, 0)
if not first then return { 0, '', '1' } end
local lowest = tonumber(seq_of(first))
local H = cjson.decode(redis.call('HGET', hash, 'webhook-head') or '{}')
for j = 3, #ARGV, 4 do
  local seq, k, n, retry = ARGV[j], ARGV[j + 1], tonumber(ARGV[j + 2]), ARGV[j + 3]
  -- An event of a record dropped already (acknowledged twice) changes nothing.
  if tonumber(seq) >= lowest then
    local e = H[seq] or { a = {}, r = {} }
    e.n = n
    if retry == '' then
      e.a[k] = 1
      e.r[k] = nil
    else
      e.r[k] = retry
    end
    H[seq] = e
  end
end
while first do
  local seq = seq_of(first)
  local e = H[seq]
  if not e then break end
  local done = 0
  for _ in pairs(e.a) do done = done + 1 end
  if done < e.n then break end
  redis.call('LPOP', list)
  H[seq] = nil
  first = redis.call('LINDEX', list, 0)
end
if next(H) == nil then redis.call('HDEL', hash, 'webhook-head') else redis.call('HSET', hash, 'webhook-head', cjson.encode(H)) end
if not first then
  redis.call('HDEL', hash, 'webhook-lease')
  return { 0, '', '1' }
end
-- The first event not acknowledged: is it among those the latest claim took, while its lease lasts?
local seq = seq_of(first)
local k = 0
if H[seq] then
  while H[seq].a[tostring(k)] do k = k + 1 end
end
local retry_at = ''
if H[seq] and H[seq].r[tostring(k)] then retry_at = string.format('%d', cjson.decode(H[seq].r[tostring(k)]).dueAt) end
local ls, lk, lu = string.match(redis.call('HGET', hash, 'webhook-lease') or '', '^(%d+):(%d+):(%d+)$')
local leased = ls and tonumber(lu) > now and (tonumber(seq) < tonumber(ls) or (tonumber(seq) == tonumber(ls) and k <= tonumber(lk)))
return { redis.call('LLEN', list), retry_at, leased and '0' or '1' }
