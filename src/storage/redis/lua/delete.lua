-- Deletes deliveries of the user. A tombstone keeps a send journal being completed again
-- (journal.ts) from bringing a deleted delivery back: on a cluster always (the journal is in
-- another slot), on a single server only while the message's send is still journalled.
--
-- A per-user script (lib/deliver.lua prelude): KEYS and the first ARGV are the prelude's; the
-- reply starts 'ok', <earliest expiry the broadcast catch-up added, or ''>, or is 'behind', <watermark>.
-- ARGV[i]       tombstones  '1' always (Cluster) | '' when journalled
-- ARGV[i + 1..] ids         distinct
-- Returns 'ok', minexp, the counts (total, unread, unseen, archived, snoozed), the deleted ids
local now = now_ms()
local U, i, minexp, behind, G = prelude(now)
if behind then return { 'behind', behind } end

local always = ARGV[i] == '1'
local FIRST_ID = i + 1
uptos(U)
local deleted, D, tomb = {}, {}, false
for j = FIRST_ID, #ARGV do
  local id = ARGV[j]
  local meta = redis.call('HGET', U.meta, id)
  if meta and live(meta, now) then
    redis.call('ZREM', U.deliveries, id)
    forget(U, id, meta, D)
    redis.call('HDEL', U.meta, id)
    redis.call('ZREM', U.expiries, id)
    if always or (G and redis.call('ZSCORE', G.journal_due, id)) then
      redis.call('ZADD', U.tombstones, now, id)
      tomb = true
    end
    deleted[#deleted + 1] = id
  end
end
flush(U, D)
if #deleted > 0 then
  if tomb then redis.call('ZREMRANGEBYSCORE', U.tombstones, '-inf', now - 7 * 86400000) end
end
local C = counts(U, now)
if #deleted > 0 then wh_user(U, ARGV[1], now, 'delete', C, table.concat(deleted, ',')) end
local out = append_counts(C, { wh_ok(), minexp })
for _, v in ipairs(deleted) do out[#out + 1] = v end
return out
