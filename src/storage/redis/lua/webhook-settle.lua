-- Settles events of one webhook stream (outbox.ts): each acknowledged (delivered or given up on), or
-- kept with a failed attempt's delivery so far; then drops the stream's first records while every
-- event of theirs is acknowledged. Progress inside records is kept under the hash field webhook-head,
-- JSON { "<seq>": { n = events, a = { "<k>": 1 }, r = { "<k>": "<retry JSON>" } } }, for records still
-- in the stream only.
--
-- KEYS[1]  the stream   list of records (lib/webhooks.lua)
-- KEYS[2]  its hash     the user's state, or the sequence for the broadcasts' stream
-- ARGV     per event: seq (its record's), k (its place in the record), n (the record's events; 0 =
--          none is sent), retry ('' = acknowledged, else { attempts, delivered, dueAt } as JSON)
-- Returns the stream's length after
local list, hash = KEYS[1], KEYS[2]
local function seq_of(record) return string.match(record, '^(%d+)|') end

local first = redis.call('LINDEX', list, 0)
if not first then return 0 end
local lowest = tonumber(seq_of(first))
local H = cjson.decode(redis.call('HGET', hash, 'webhook-head') or '{}')
for j = 1, #ARGV, 4 do
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
return redis.call('LLEN', list)
