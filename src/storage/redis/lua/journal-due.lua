-- Journal entries left long enough to be a dead process's (journal.ts), dropping index entries
-- whose journal entry is gone.
--
-- KEYS[1]  journal
-- KEYS[2]  journal-due
-- ARGV[1]  age_ms  entries older than this
-- ARGV[2]  limit
-- Returns id, entry pairs ("<deliveredAt>|<JSON>")
local journal, journal_due = KEYS[1], KEYS[2]
local age_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', journal_due, '-inf', now_ms() - age_ms, 'LIMIT', 0, limit)
local out = {}
if #ids == 0 then return out end
local entries = hmget(journal, ids)
for j = 1, #ids do
  if entries[j] then out[#out + 1] = ids[j]; out[#out + 1] = entries[j]
  else redis.call('ZREM', journal_due, ids[j]) end
end
return out
